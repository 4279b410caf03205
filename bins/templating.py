"""Templates in a bin's response: `{{ source | filter | filter:'arg' }}`.

A small fixed language, not Django's or Jinja's: a value from the request, then
filters applied in order. Nothing else can be written, so nothing can run code or
reach beyond the request. Values are put in once: a value holding `{{` stays text.

Sources: request.id, request.method, request.path (below the bin), request.query
(the raw query string), request.body; header.<Name> (case-insensitive), query.<name>
and form.<name> (decoded; the name is all that follows the dot), json.<a.b.0.c> (a
path into a JSON body: a string as it is, anything else as JSON). What is missing
renders as "".

Filters: json (as a JSON string, quotes included), upper, lower, base64, url
(percent-encoded), sha256 (hex), hmac_sha256:'key' (hex), hmac_sha256_base64:'key',
default:'text' (when the value is empty).
"""

import base64
import hashlib
import hmac
import json
import re
from urllib.parse import parse_qsl, quote

TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
FILTER = re.compile(r"\s*([a-z0-9_]+)\s*(?::\s*('[^']*'|\"[^\"]*\")\s*)?")
REQUEST_FIELDS = {"id", "method", "path", "query", "body"}
SOURCES = {"request", "header", "query", "form", "json"}
MAX_OUTPUT = 1024 * 1024  # characters of one rendered body, and of any one value
MAX_HEADER_OUTPUT = 8 * 1024  # characters of one rendered header value
MAX_TAGS = 32  # in one template: bounds the work a request can cause
MAX_JSON = 1024 * 1024  # bytes of a body parsed for json.<path>; a bigger one is not JSON here


def _hmac(key, value, encode):
    return encode(hmac.new(key.encode(), value.encode(), hashlib.sha256).digest())


FILTERS = {
    "json": (False, lambda value: json.dumps(value, ensure_ascii=False)),
    "upper": (False, str.upper),
    "lower": (False, str.lower),
    "base64": (False, lambda value: base64.b64encode(value.encode()).decode("ascii")),
    "url": (False, lambda value: quote(value, safe="")),
    "sha256": (False, lambda value: hashlib.sha256(value.encode()).hexdigest()),
    "hmac_sha256": (True, lambda value, key: _hmac(key, value, bytes.hex)),
    "hmac_sha256_base64": (
        True,
        lambda value, key: _hmac(key, value, lambda d: base64.b64encode(d).decode("ascii")),
    ),
    "default": (True, lambda value, text: value or text),
}


class BadTemplate(ValueError):
    """A template that cannot be read; the message says where."""


def parse_tag(text):
    """`json.a.b | hmac_sha256:'k'` -> ((source, name), [(filter, arg or None), ...])."""
    head, bar, rest = text.partition("|")
    source, dot, name = head.strip().partition(".")
    if source not in SOURCES or not dot or not name:
        raise BadTemplate(
            f"{{{{{text}}}}}: start with request.<field>, header.<name>, query.<name>, "
            "form.<name> or json.<path>."
        )
    if source == "request" and name not in REQUEST_FIELDS:
        raise BadTemplate(f"{{{{{text}}}}}: request.{name} is not one of {sorted(REQUEST_FIELDS)}.")
    filters = []
    for part in _split_filters(rest) if bar else []:
        match = FILTER.fullmatch(part)
        if match is None or match.group(1) not in FILTERS:
            raise BadTemplate(f"{{{{{text}}}}}: {part.strip()!r} is not a filter.")
        filter_name, arg = match.group(1), match.group(2)
        takes_arg = FILTERS[filter_name][0]
        if takes_arg != (arg is not None):
            needs = "takes a quoted argument" if takes_arg else "takes no argument"
            raise BadTemplate(f"{{{{{text}}}}}: {filter_name} {needs}.")
        filters.append((filter_name, arg[1:-1] if arg else None))
    return (source, name.strip()), filters


def _split_filters(text):
    """Split on | outside quotes."""
    parts, current, quote_char = [], [], None
    for char in text:
        if quote_char:
            quote_char = None if char == quote_char else quote_char
        elif char in "'\"":
            quote_char = char
        elif char == "|":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def check(template):
    """Raise BadTemplate if `template` holds a tag that cannot be read, or too many."""
    tags = TAG.findall(template)
    if len(tags) > MAX_TAGS:
        raise BadTemplate(f"at most {MAX_TAGS} {{{{ }}}} tags in one template.")
    for tag in tags:
        parse_tag(tag)


def has_tags(template):
    return "{{" in template


class Values:
    """What templates can read of one captured request; the body parsed on demand."""

    def __init__(self, record):
        self.record = record
        self._json = self._form = self._query = self._body = None

    def body(self):
        if self._body is None:
            self._body = bytes(self.record.body[:MAX_OUTPUT]).decode("utf-8", "replace")
        return self._body

    def get(self, source, name):
        record = self.record
        if source == "request":
            if name == "body":
                return self.body()
            if name == "query":
                return record.query_string
            return str(getattr(record, name) or "")
        if source == "header":
            lowered = name.lower()
            return next((v for k, v in record.headers if k.lower() == lowered), "")
        if source == "query":
            if self._query is None:
                self._query = dict(reversed(parse_qsl(record.query_string, keep_blank_values=True)))
            return self._query.get(name, "")
        if source == "form":
            if self._form is None:
                self._form = dict(reversed(parse_qsl(self.body(), keep_blank_values=True)))
            return self._form.get(name, "")
        return json_text(json_field(self.json(), name))

    def json(self):
        if self._json is None:
            body = self.record.body
            self._json = parse_json(bytes(body)) if len(body) <= MAX_JSON else MISSING
        return self._json


MISSING = object()


def parse_json(body):
    """The JSON value of a body, or MISSING when it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return MISSING


def json_field(value, path):
    """`a.b.0` of a JSON value, or MISSING."""
    for key in path.split("."):
        if isinstance(value, dict):
            value = value.get(key, MISSING)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return MISSING
        if value is MISSING:
            break
    return value


def json_text(value):
    if value is MISSING or value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def render(template, values):
    """`template` with each tag replaced by its value, cut at MAX_OUTPUT characters
    (rendering stops there); tags that cannot be read were refused when the response
    was saved, and render as "" here."""
    if not has_tags(template):
        return template
    parts, size, start = [], 0, 0
    for match in TAG.finditer(template):
        parts.append(template[start : match.start()])
        parts.append(tag_value(match.group(1), values))
        size += len(parts[-2]) + len(parts[-1])
        start = match.end()
        if size >= MAX_OUTPUT:
            break
    else:
        parts.append(template[start:])
    return "".join(parts)[:MAX_OUTPUT]


def tag_value(tag, values):
    try:
        (source, name), filters = parse_tag(tag)
    except BadTemplate:
        return ""
    value = values.get(source, name)[:MAX_OUTPUT]
    for filter_name, arg in filters:
        function = FILTERS[filter_name][1]
        value = (function(value, arg) if arg is not None else function(value))[:MAX_OUTPUT]
    return value


ARGUMENT = re.compile(r"""(:\s*)('[^']*'|"[^"]*")""")


def redact_arguments(template):
    """`template` with every filter argument shown as '••••••••': keys stay the owner's."""
    return TAG.sub(lambda m: "{{" + ARGUMENT.sub(r"\1'••••••••'", m.group(1)) + "}}", template)


HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


def render_header(template, values):
    """A header value: control characters (CR, LF, ...) from the request become spaces,
    and what Latin-1 cannot carry becomes "?", so a value can never split a response."""
    text = HEADER_UNSAFE.sub(" ", render(template, values)[:MAX_HEADER_OUTPUT])
    return text.encode("latin-1", "replace").decode("latin-1")
