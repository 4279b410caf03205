"""Which answer a captured request gets, and the answer as sent.

In order: the bin's failure script, when it picks this request; then its rules,
the first whose conditions all hold; then its default response (None: the default
JSON answer). The writer chooses before it stores the request, so what is stored
with it is what was chosen (the answer's templates unrendered, see sent()).
"""

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from urllib.parse import parse_qsl

from django.conf import settings

from . import templating


@dataclass(frozen=True, slots=True)
class Behaviour:
    """What a bin answers: its response, rules and failure script (bins.responses
    checks them), and the request count at which the script started."""

    response: dict | None = None
    rules: tuple = ()
    failures: dict | None = None
    failures_since: int = 0

    @property
    def is_default(self):
        return self.response is None and not self.rules and self.failures is None


DEFAULT = Behaviour()


def answerable(record, cors):
    """Whether a bin's own answer goes to `record`: not refused by the rate limits (429),
    not cut for its size (413), not a CORS preflight that a CORS bin answers itself.
    Failure scripts number these requests alone."""
    if record.refused_for or record.body_truncated:
        return False
    if not cors or record.method != "OPTIONS":
        return True
    return not any(name.lower() == "access-control-request-method" for name, _ in record.headers)


def matches(when, record, values):
    """Whether every condition of a rule's `when` holds for `record`."""
    method = when.get("method")
    if method and record.method.upper() != method.upper():
        return False
    path = when.get("path")
    if path and not fnmatchcase(record.path or "/", path):
        return False
    for source, conditions in (("query", "query"), ("header", "headers"), ("json", "json")):
        for name, pattern in when.get(conditions, {}).items():
            if source == "json":
                found = templating.json_field(values.json(), name)
                if found is templating.MISSING:
                    return False
                value = templating.json_text(found)
            else:
                value = values.get(source, name)
                if value == "" and not present(source, name, record):
                    return False
            if not fnmatchcase(value, pattern):
                return False
    return True


def present(source, name, record):
    """Whether a query parameter or header is there at all (it may be empty)."""
    if source == "header":
        return any(key.lower() == name.lower() for key, _ in record.headers)
    return any(key == name for key, _ in parse_qsl(record.query_string, keep_blank_values=True))


def picked_to_fail(failures, number):
    """Whether the failure script fails the request that is the `number`th (from 1)
    since it started. A percentage fails evenly spread requests: exactly `percent`
    of any 100 in a row, so it can be counted across processes."""
    which = failures["which"]
    if which == "all":
        return True
    if which == "first":
        return number <= failures["count"]
    percent = failures["percent"]
    return number * percent // 100 != (number - 1) * percent // 100


def failure_answer(failures, number):
    how = failures["how"]
    which = {
        "all": "fails every request",
        "first": f"fails the first {failures.get('count')}",
        "percent": f"fails {failures.get('percent')}%",
    }[failures["which"]]
    note = f"failure script ({which}): request {number} since it started"
    if how in ("hang", "close"):
        hold = settings.INSPECTOR_MAX_RESPONSE_DELAY * 1000 if how == "hang" else 0
        return {
            "status": None,
            "headers": [],
            "body": "",
            "delay_ms": hold,
            "close": True,
            "failure": note,
        }
    if how == "rate_limit":
        status, retry = 429, str(failures["retry_after"])
        headers = [["Content-Type", "application/json"], ["Retry-After", retry]]
        message = f"Rate limited on purpose by this bin's failure script; retry in {retry} s."
    else:
        status, headers = failures["status"], [["Content-Type", "application/json"]]
        message = "Failed on purpose by this bin's failure script."
    body = json.dumps({"error": {"code": "failure_script", "message": message}})
    return {"status": status, "headers": headers, "body": body, "delay_ms": 0, "failure": note}


def choose(behaviour, record, count_before):
    """The answer for `record`, the request after the bin's `count_before`th: a
    response dict (with "rule" or "failure" saying why), or None for the default."""
    if behaviour.failures is not None:
        number = count_before + 1 - behaviour.failures_since
        if number > 0 and picked_to_fail(behaviour.failures, number):
            return failure_answer(behaviour.failures, number)
    if behaviour.rules:
        values = templating.Values(record)
        for rule in behaviour.rules:
            if matches(rule["when"], record, values):
                return {**rule["response"], "rule": rule["name"]}
    return behaviour.response


def sent(answer, record):
    """The answer as it goes out for `record`: its templates rendered. Rendering is a
    pure function of the stored request, so the page shows exactly what was sent."""
    if answer is None or answer.get("close") or answer.get("proxy"):
        return answer  # a proxy's answer is the target's, no template
    if not templating.has_tags(answer["body"]) and not any(
        templating.has_tags(value) for _, value in answer["headers"]
    ):
        return answer
    values = templating.Values(record)
    return {
        **answer,
        "headers": [
            [name, templating.render_header(value, values)] for name, value in answer["headers"]
        ],
        "body": templating.render(answer["body"], values),
    }
