"""Replay and forwarding, the pure parts: URLs, backoff, outcomes, edits, what a proxy
passes back (bins.forwarding, bins.replays, bins.forwarder)."""

import base64

import pytest

from bins.forwarder import passed_back
from bins.forwarding import (
    BadForwarding,
    answer_summary,
    backoff,
    clean_proxy_timeout,
    clean_url,
    hops,
    onward_headers,
    outcome,
    refuse_own_capture_url,
    shown_url,
    succeeded,
    target_url,
)
from bins.models import CapturedRequest
from bins.outbound import Result
from bins.replays import prepare


@pytest.mark.parametrize(
    "base, path, query, url",
    [
        ("https://t.example/in", "/github", "a=1", "https://t.example/in/github?a=1"),
        ("https://t.example/in/", "/github", "", "https://t.example/in/github"),
        ("https://t.example", "", "", "https://t.example"),
        ("https://t.example", "/", "", "https://t.example/"),
        ("https://t.example/in", "x", "", "https://t.example/in/x"),
        ("https://t.example/in", "/a%2Fb", "q=%20", "https://t.example/in/a%2Fb?q=%20"),
        # The target's query first, then the request's.
        (
            "https://t.example/m?key=K&token=T",
            "/x",
            "a=1",
            "https://t.example/m/x?key=K&token=T&a=1",
        ),
        ("https://t.example/m/?key=K", "", "", "https://t.example/m?key=K"),
        ("https://t.example?key=K", "/x", "", "https://t.example/x?key=K"),
        ("https://t.example/in", "/.../..a/.b", "", "https://t.example/in/.../..a/.b"),
    ],
)
def test_it_sends_to_the_target_then_the_path_below_the_bin_and_the_query(base, path, query, url):
    assert target_url(base, path, query) == url


@pytest.mark.parametrize(
    "headers, count",
    [
        ([], 0),
        ([["Inspector-Forwarded", "hops=2"]], 2),
        ([["inspector-forwarded", " HOPS = 1 "], ["Inspector-Forwarded", "hops=3"]], 3),
        ([["Inspector-Forwarded", "hops=x"], ["Inspector-Forwarded", "²"]], 0),
    ],
)
def test_it_counts_the_times_inspector_sent_a_request_on(headers, count):
    assert hops(headers) == count


def test_a_request_sent_on_carries_one_more_hop_and_no_other():
    given = [["A", "1"], ["inspector-forwarded", "hops=99"]]
    assert onward_headers(given, 1) == [["A", "1"], ["Inspector-Forwarded", "hops=2"]]


@pytest.mark.parametrize(
    "url, bases",
    [
        ("https://inspector.example/b/k3v7qpx2m4ndz6ta", ["https://inspector.example"]),
        ("https://INSPECTOR.example:443/b/other/x?y=1", ["https://inspector.example"]),
        ("http://127.0.0.1:8000/b/abc", ["https://public.example", "http://127.0.0.1:8000"]),
    ],
)
def test_a_capture_url_of_this_inspector_is_refused_as_a_target(url, bases):
    with pytest.raises(BadForwarding, match="capture URL of this Inspector"):
        refuse_own_capture_url(url, bases)


@pytest.mark.parametrize(
    "url",
    [
        "https://inspector.example/api/in",
        "https://inspector.example/bin/x",
        "http://inspector.example/b/x",  # another port: another server
        "https://other.example/b/x",
    ],
)
def test_other_urls_of_this_host_or_other_hosts_are_not(url):
    refuse_own_capture_url(url, ["https://inspector.example"])


@pytest.mark.parametrize(
    "path", ["/../admin", "/x/../../admin", "/..", "/./x", "/%2e%2E/admin", "/.%2e/x", "/x/%2E"]
)
def test_a_path_that_would_climb_above_the_target_s_is_refused(path):
    with pytest.raises(BadForwarding, match="would reach above the target's path"):
        target_url("https://t.example/hooks/secret", path, "")


def test_backoff_doubles_from_the_base_up_to_the_cap():
    assert [backoff(n, base=10, most=3600) for n in range(1, 6)] == [10, 20, 40, 80, 160]
    assert backoff(30, base=10, most=3600) == 3600
    assert backoff(10_000, base=1, most=60) == 60  # no overflow


def test_backoff_reads_its_settings(settings):
    settings.INSPECTOR_FORWARD_BACKOFF = 0.5
    settings.INSPECTOR_FORWARD_BACKOFF_MAX = 1.5
    assert [backoff(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 1.5, 1.5]


@pytest.mark.parametrize(
    "result, done, label",
    [
        (Result(status=200), True, "delivered"),
        (Result(status=204), True, "delivered"),
        (Result(status=301), False, "rejected"),
        (Result(status=404), False, "rejected"),
        (Result(status=503), False, "rejected"),
        (Result(error="timed out after 10 s"), False, "error"),
        (Result(error="connection refused"), False, "error"),
        (Result(error="refused: 10.0.0.5 is a private address"), False, "refused"),
        (Result(status=302, error="refused: ... (after a redirect to x)"), False, "refused"),
        (Result(status=200, error="more than 5 redirects"), False, "error"),
    ],
)
def test_only_a_2xx_answer_delivers(result, done, label):
    assert succeeded(result.to_json()) is done
    assert outcome(result.to_json()) == label


@pytest.mark.parametrize(
    "url",
    ["https://hooks.example.com/in?x=1", "http://93.184.215.14:8080/", "https://[2001:db8::1]/"],
)
def test_a_target_url_may_be_any_http_url_of_a_public_host(url, settings):
    settings.INSPECTOR_OUTBOUND_ALLOW = ["2001:db8::/32"]  # documentation range: not global
    assert clean_url(" " + url + " ") == url


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://files.example.com/", "http:// or https://"),
        ("hooks.example.com/in", "http:// or https://"),
        ("https://", "http:// or https://"),
        ("https://user:secret@hooks.example.com/", "user name or password"),
        ("https://hooks.example.com/#top", "fragment"),
        ("https://hooks.example.com/a b", "spaces"),
        ("https://hooks.example.com:99999/", "not a valid URL"),
        ("https://127.0.0.1/", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("https://x.example/" + "a" * 2000, "at most 2000"),
        (42, "http or https URL"),
    ],
)
def test_a_target_url_that_cannot_or_may_not_be_sent_to_is_refused(url, message):
    with pytest.raises(BadForwarding, match=message):
        clean_url(url)


def test_the_allow_list_opens_chosen_networks(settings):
    settings.INSPECTOR_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    assert clean_url("http://127.0.0.1:9000/in") == "http://127.0.0.1:9000/in"


@pytest.mark.parametrize("value", [99, 10_001, "5000", True, 1.5, None])
def test_a_proxy_timeout_is_whole_milliseconds_within_the_outbound_timeout(value):
    with pytest.raises(BadForwarding):
        clean_proxy_timeout(value)
    assert clean_proxy_timeout(2500) == 2500


def captured(**fields):
    return CapturedRequest(
        **{
            "method": "POST",
            "path": "/github",
            "query_string": "a=1",
            "headers": [["Content-Type", "application/json"], ["X-A", "1"]],
            "body": b'{"n": 1}',
            **fields,
        }
    )


def test_a_replay_sends_the_request_as_captured_to_the_url_given():
    method, url, headers, body, edited = prepare({"url": "https://t.example/in"}, captured())
    assert (method, url, body, edited) == (
        "POST",
        "https://t.example/in/github?a=1",
        b'{"n": 1}',
        False,
    )
    assert headers == [
        ["Content-Type", "application/json"],
        ["X-A", "1"],
        ["Inspector-Forwarded", "hops=1"],
    ]


def test_a_replay_may_change_method_path_query_headers_and_body():
    edits = {
        "url": "https://t.example",
        "method": "PUT",
        "path": "/other",
        "query_string": "?b=2",
        "headers": [["X-B", "2"], ["X-B", "3"]],
        "body": "é",
    }
    method, url, headers, body, edited = prepare(edits, captured())
    assert (method, url, body, edited) == ("PUT", "https://t.example/other?b=2", "é".encode(), True)
    assert headers == [["X-B", "2"], ["X-B", "3"], ["Inspector-Forwarded", "hops=1"]]
    binary = prepare({"url": "https://t.example", "body_base64": "AAH/"}, captured())
    assert binary[3] == b"\x00\x01\xff" and binary[4] is True
    # The same values as captured are no edit.
    same = {"url": "https://t.example", "method": "POST", "path": "/github", "query_string": "a=1"}
    assert prepare(same, captured())[4] is False


@pytest.mark.parametrize(
    "edits, message",
    [
        ({}, "url is needed"),
        ({"url": "gopher://x"}, "http:// or https://"),
        ({"url": "https://t.example", "colour": "red"}, "Unknown field: colour"),
        ({"url": "https://t.example", "method": "GET /x"}, "method"),
        ({"url": "https://t.example", "path": "relative"}, "start with"),
        ({"url": "https://t.example", "path": "/a b"}, "visible ASCII"),
        ({"url": "https://t.example", "path": "/é"}, "visible ASCII"),
        ({"url": "https://t.example", "query_string": "a=1#x"}, "#"),
        ({"url": "https://t.example", "headers": [["X-A", "1\r\nX-B: 2"]]}, "line break"),
        ({"url": "https://t.example", "headers": [["Bad Name", "1"]]}, "not a header name"),
        ({"url": "https://t.example", "headers": [["X-A", "€"]]}, "Latin-1"),
        ({"url": "https://t.example", "headers": [["X-A"]]}, "name, value"),
        ({"url": "https://t.example", "headers": "X-A: 1"}, "list"),
        ({"url": "https://t.example", "body": "a", "body_base64": "YQ=="}, "not both"),
        ({"url": "https://t.example", "body_base64": "not base64!"}, "base64"),
        ({"url": "https://t.example", "body": 5}, "text"),
    ],
)
def test_a_replay_that_cannot_be_sent_is_refused_with_a_reason(edits, message):
    with pytest.raises(BadForwarding, match=message):
        prepare(edits, captured())


def test_a_replay_body_is_kept_within_the_capture_limit(settings):
    settings.INSPECTOR_MAX_BODY_BYTES = 4
    with pytest.raises(BadForwarding, match="over 4 bytes"):
        prepare({"url": "https://t.example", "body": "12345"}, captured())


def test_an_answer_summary_keeps_the_start_of_a_text_body_and_the_size_of_any():
    text = answer_summary(Result(status=200, body=b"x" * 5000).to_json())
    assert text["body_preview"] == "x" * 2048 and text["body_preview_truncated"] is True
    assert text["body_size"] == 5000
    binary = answer_summary(Result(status=200, body=b"\x00\xff\x01").to_json())
    assert binary["body_preview"] is None and binary["body_size"] == 3
    assert "body" not in binary
    assert base64.b64decode(Result(body=b"\x00\xff\x01").to_json()["body"]) == b"\x00\xff\x01"


def test_a_proxy_passes_back_the_targets_headers_but_not_hop_by_hop_ones_or_cookies():
    headers = [
        ["Content-Type", "text/plain"],
        ["Set-Cookie", "a=1"],
        ["Set-Cookie", "b=2"],
        ["Connection", "keep-alive, X-Private"],
        ["X-Private", "only for this hop"],
        ["Transfer-Encoding", "chunked"],
        ["Content-Length", "12"],
        ["Keep-Alive", "timeout=5"],
        ["Content-Encoding", "gzip"],
    ]
    assert passed_back(headers) == [
        (b"Content-Type", b"text/plain"),
        (b"Content-Encoding", b"gzip"),
    ]


@pytest.mark.parametrize(
    "url, shown",
    [
        ("https://hooks.slack.com/services/T0/B0/secret", "https://hooks.slack.com/…"),
        ("https://app.example.com:8443/in?token=x", "https://app.example.com:8443/…"),
        ("https://app.example.com/", "https://app.example.com"),
        ("https://app.example.com", "https://app.example.com"),
    ],
)
def test_others_than_the_owner_see_a_target_s_origin_only(url, shown):
    assert shown_url(url) == shown
