"""Choosing a bin's answer (bins.rules), its templates (bins.templating) and the
checks on what an owner may save (bins.responses)."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from bins import templating
from bins.capture import Capture
from bins.responses import BadResponse, clean_failures, clean_response, clean_rules
from bins.rules import Behaviour, answerable, choose, picked_to_fail, sent


def request(method="POST", path="/", query="", headers=(), body=b"", id=7):
    return Capture(
        bin_id="abc",
        method=method,
        scheme="http",
        host="127.0.0.1",
        path=path,
        query_string=query,
        headers=[list(pair) for pair in headers],
        body=body,
        body_size=len(body),
        body_truncated=False,
        content_type="",
        remote_addr="127.0.0.1",
        received_at=datetime(2026, 11, 29, tzinfo=UTC),
        id=id,
    )


def render(template, **kwargs):
    return templating.render(template, templating.Values(request(**kwargs)))


def rule(name, when, status=200, body=""):
    return {"name": name, "when": when, "response": {"status": status, "body": body}}


# Templates


def test_templates_read_each_source_of_the_request():
    body = json.dumps({"a": {"b": [10, {"c": "deep"}]}, "n": 3, "t": True}).encode()
    values = dict(
        method="PUT",
        path="/x/y",
        query="q=1&name=J%C3%BCrgen&q=2",
        headers=[("X-Token", "secret")],
        body=body,
    )
    assert render("{{request.method}} {{ request.path }} {{request.id}}", **values) == "PUT /x/y 7"
    assert render("{{ request.query }}", **values) == "q=1&name=J%C3%BCrgen&q=2"
    assert render("{{ query.name }}|{{ query.q }}", **values) == "Jürgen|1"
    assert render("{{ header.x-token }}", **values) == "secret"
    assert render("{{ json.a.b.1.c }} {{ json.n }} {{ json.t }} {{ json.a.b }}", **values) == (
        'deep 3 true [10, {"c": "deep"}]'
    )


def test_templates_read_form_fields():
    assert render("{{ form.Digits }}", body=b"CallSid=CA1&Digits=1234") == "1234"


def test_what_is_missing_renders_empty_or_as_its_default():
    assert render("[{{ json.nope }}][{{ query.nope }}][{{ header.nope }}]", body=b"[") == "[][][]"
    assert render("{{ query.nope | default:'none' }}") == "none"


def test_filters_apply_in_order():
    body = b'{"token": "Ab c"}'
    assert render("{{ json.token | upper }}", body=body) == "AB C"
    assert render("{{ json.token | lower | url }}", body=body) == "ab%20c"
    assert render("{{ json.token | json }}", body=body) == '"Ab c"'
    assert render("{{ json.token | base64 }}", body=body) == base64.b64encode(b"Ab c").decode()
    assert render("{{ json.token | sha256 }}", body=body) == hashlib.sha256(b"Ab c").hexdigest()
    digest = hmac.new(b"k|ey", b"Ab c", hashlib.sha256).digest()
    assert render("{{ json.token | hmac_sha256:'k|ey' }}", body=body) == digest.hex()
    assert render('{{ json.token | hmac_sha256_base64:"k|ey" }}', body=body) == (
        base64.b64encode(digest).decode()
    )


def test_a_value_holding_template_tags_stays_text():
    body = json.dumps({"x": "{{ request.body }}", "y": "{{ header.cookie }}"}).encode()
    assert render("{{ json.x }}{{ json.y }}", body=body) == "{{ request.body }}{{ header.cookie }}"


def test_json_filter_keeps_a_hostile_value_inside_its_string():
    body = json.dumps({"x": '", "admin": true, "y": "</script>'}).encode()
    rendered = render('{"echo": {{ json.x | json }}}', body=body)
    assert json.loads(rendered) == {"echo": '", "admin": true, "y": "</script>'}


def test_a_rendered_header_cannot_split_the_response():
    values = templating.Values(
        request(body=json.dumps({"x": "a\r\nSet-Cookie: s=1\x00é€"}).encode())
    )
    header = templating.render_header("v={{ json.x }}", values)
    assert "\r" not in header and "\n" not in header and "\x00" not in header
    assert header == "v=a  Set-Cookie: s=1 é?"
    header.encode("latin-1")


def test_a_rendered_body_is_cut_at_the_output_cap():
    body = b"x" * (templating.MAX_OUTPUT + 10)
    assert len(render("{{ request.body }}{{ request.body }}", body=body)) == templating.MAX_OUTPUT


def test_deeply_nested_json_is_not_json_to_templates():
    assert render("{{ json.a }}", body=b"[" * 100_000 + b"]" * 100_000) == ""


@pytest.mark.parametrize(
    "template",
    [
        "{{ }}",
        "{{ body }}",
        "{{ request.secret }}",
        "{{ settings.SECRET_KEY }}",
        "{{ json.a | eval }}",
        "{{ json.a | hmac_sha256 }}",
        "{{ json.a | upper:'x' }}",
        "{{ json.a.__class__ | json:1 }}",
        "{{ request.method | default:unquoted }}",
    ],
)
def test_templates_that_cannot_be_read_are_refused_when_saved(template):
    with pytest.raises(BadResponse):
        clean_response({"body": template})
    with pytest.raises(BadResponse):
        clean_response({"headers": [["X-T", template]]})


# Rules


def test_the_first_matching_rule_wins():
    behaviour = Behaviour(
        response={"status": 202, "headers": [], "body": "default", "delay_ms": 0},
        rules=tuple(
            clean_rules(
                [
                    rule("github", {"path": "/github/*"}, 201),
                    rule("any post", {"method": "post"}, 200),
                    rule("never reached for POST /github", {"path": "/github/push"}, 500),
                ]
            )
        ),
    )
    assert choose(behaviour, request(path="/github/push"), 0)["rule"] == "github"
    assert choose(behaviour, request(path="/other"), 0)["rule"] == "any post"
    assert choose(behaviour, request(method="GET", path="/other"), 0)["body"] == "default"


def test_rules_match_on_query_headers_and_json_fields():
    rules = tuple(
        clean_rules(
            [
                rule("query", {"query": {"mode": "sub*"}}),
                rule("header", {"headers": {"x-github-event": "ping"}}),
                rule("json", {"json": {"data.object.status": "paid", "live": "false"}}),
                rule("present", {"query": {"flag": "*"}}),
            ]
        )
    )
    behaviour = Behaviour(rules=rules)

    def matched(**kwargs):
        answer = choose(behaviour, request(**kwargs), 0)
        return answer and answer["rule"]

    assert matched(query="mode=subscribe") == "query"
    assert matched(headers=[("X-GitHub-Event", "ping")]) == "header"
    assert matched(headers=[("X-GitHub-Event", "push")]) is None
    body = json.dumps({"data": {"object": {"status": "paid"}}, "live": False}).encode()
    assert matched(body=body) == "json"
    assert matched(body=body.replace(b"paid", b"open")) is None
    assert matched(query="flag=") == "present"  # present, though empty
    assert matched(query="other=1") is None


def test_an_unmatched_request_gets_the_default_response_or_none():
    behaviour = Behaviour(rules=tuple(clean_rules([rule("puts", {"method": "PUT"})])))
    assert choose(behaviour, request(), 0) is None


def test_a_rule_answer_renders_templates_when_sent():
    rules = clean_rules(
        [rule("echo", {}, body='{"id": {{ request.id }}, "got": {{ json.x | json }}}')]
    )
    record = request(body=b'{"x": "y"}', id=42)
    answer = sent(choose(Behaviour(rules=tuple(rules)), record, 0), record)
    assert json.loads(answer["body"]) == {"id": 42, "got": "y"}
    assert answer["rule"] == "echo"


@pytest.mark.parametrize(
    "rules, message",
    [
        ("x", "list"),
        ([{"name": "a", "when": {"verb": "GET"}, "response": {}}], "when takes"),
        ([{"when": {"method": "GE T"}, "response": {}}], "method"),
        ([{"when": {"query": {"a": 1}}, "response": {}}], "patterns"),
        ([{"when": {}, "response": {"status": 99}}], "rule 1: status"),
        ([{"when": {}, "response": None}], "rule 1: response must be an object"),
        ([{"when": {}, "response": {}}] * 51, "at most 50"),
    ],
)
def test_rules_that_will_not_do_are_refused_with_the_reason(rules, message):
    with pytest.raises(BadResponse, match=message):
        clean_rules(rules)


def test_rules_without_names_are_named_by_their_place():
    assert clean_rules([{"when": {}, "response": {}}])[0]["name"] == "rule 1"


# Failure scripts


def test_fail_first_fails_exactly_the_first_n_since_the_script_started():
    script = clean_failures({"which": "first", "count": 3, "how": "error", "status": 502})
    behaviour = Behaviour(failures=script, failures_since=10)
    statuses = [(choose(behaviour, request(), 10 + n) or {}).get("status") for n in range(6)]
    assert statuses == [502, 502, 502, None, None, None]


def test_a_percentage_fails_exactly_that_many_of_any_hundred_in_a_row():
    script = clean_failures({"which": "percent", "percent": 30, "how": "error"})
    picks = [picked_to_fail(script, n) for n in range(1, 1001)]
    assert sum(picks) == 300
    assert all(sum(picks[start : start + 100]) in (29, 30, 31) for start in range(900))


def test_rate_limit_answers_429_with_retry_after():
    script = clean_failures({"which": "all", "how": "rate_limit", "retry_after": 120})
    answer = choose(Behaviour(failures=script), request(), 0)
    assert answer["status"] == 429
    assert ["Retry-After", "120"] in answer["headers"]
    assert "failure script" in answer["failure"]


def test_hang_holds_until_the_delay_cap_then_closes(settings):
    settings.INSPECTOR_MAX_RESPONSE_DELAY = 7
    script = clean_failures({"which": "all", "how": "hang"})
    answer = choose(Behaviour(failures=script), request(), 0)
    assert answer["close"] is True and answer["delay_ms"] == 7000
    close = choose(
        Behaviour(failures=clean_failures({"which": "all", "how": "close"})), request(), 0
    )
    assert close["close"] is True and close["delay_ms"] == 0


def test_a_failure_script_goes_before_the_rules():
    rules = tuple(clean_rules([rule("all", {})]))
    script = clean_failures({"which": "first", "count": 1, "how": "error"})
    behaviour = Behaviour(rules=rules, failures=script)
    assert choose(behaviour, request(), 0)["status"] == 503
    assert choose(behaviour, request(), 1)["rule"] == "all"


@pytest.mark.parametrize(
    "script, message",
    [
        ({"which": "some"}, "which"),
        ({"which": "first"}, "count"),
        ({"which": "first", "count": 0}, "count"),
        ({"which": "percent", "percent": 101}, "percent"),
        ({"which": "all", "how": "explode"}, "how"),
        ({"which": "all", "status": 404}, "status"),
        ({"which": "all", "how": "rate_limit", "retry_after": -1}, "retry_after"),
        ({"which": "all", "extra": 1}, "failures must be"),
    ],
)
def test_failure_scripts_that_will_not_do_are_refused(script, message):
    with pytest.raises(BadResponse, match=message):
        clean_failures(script)


def test_a_template_may_hold_at_most_32_tags():
    clean_response({"body": "{{ request.id }}" * templating.MAX_TAGS})
    with pytest.raises(BadResponse, match="at most 32"):
        clean_response({"body": "{{ request.id }}" * (templating.MAX_TAGS + 1)})


def test_rendering_stops_at_the_output_cap_without_building_more():
    values = templating.Values(request(body=b"x" * (4 * templating.MAX_OUTPUT)))
    rendered = templating.render("{{ request.body | upper }}" * 32, values)
    assert len(rendered) == templating.MAX_OUTPUT
    assert values._body is not None and len(values._body) == templating.MAX_OUTPUT


def test_a_rendered_header_value_is_cut_at_8_kib():
    values = templating.Values(request(body=b"y" * 100_000))
    assert len(templating.render_header("{{ request.body }}", values)) == 8192


def test_a_header_value_over_8_kib_is_refused_when_saved():
    with pytest.raises(BadResponse, match="over 8,192"):
        clean_response({"headers": [["X-Big", "a" * 8193]]})


@pytest.mark.parametrize("name", ["Set-Cookie", "set-cookie2"])
def test_a_bin_may_not_set_cookies_on_inspectors_site(name):
    with pytest.raises(BadResponse, match="may not send"):
        clean_response({"headers": [[name, "session=attacker"]]})


def test_filter_keys_are_hidden_from_all_but_the_owner():
    body = (
        '{"t": "{{ query.c | hmac_sha256_base64:\'s3cr|et\' }}", '
        '"d": "{{ json.x | default:"no" }}"}'
    )
    assert templating.redact_arguments(body) == (
        '{"t": "{{ query.c | hmac_sha256_base64:\'••••••••\' }}", '
        '"d": "{{ json.x | default:\'••••••••\' }}"}'
    )


def test_only_requests_the_bins_answer_goes_to_are_numbered_for_failure_scripts():
    preflight = request(method="OPTIONS", headers=[("Access-Control-Request-Method", "POST")])
    assert answerable(request(), cors=False) and answerable(request(), cors=True)
    assert answerable(preflight, cors=False)  # no CORS: the bin answers it like any other
    assert not answerable(preflight, cors=True)  # answered 204 by CORS itself
    cut = request()
    cut.body_truncated = True
    assert not answerable(cut, cors=False)  # answered 413
    refused = request()
    refused.refused_for = 1.0
    assert not answerable(refused, cors=False)  # answered 429
