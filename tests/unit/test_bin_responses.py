"""bins.responses: what a bin's owner may make it answer."""

import pytest

from bins.responses import BadResponse, clean_response, preflight, preflight_headers


def test_a_response_is_completed_with_defaults():
    assert clean_response({"status": 201}) == {
        "status": 201,
        "headers": [],
        "body": "",
        "delay_ms": 0,
    }
    assert clean_response(None) is None


def test_a_full_response_is_kept_as_given():
    given = {
        "status": 418,
        "headers": [["Content-Type", "text/plain"], ["X-Trace", "a b\tc"], ["X-Trace", "2"]],
        "body": "I'm a teapot ☕",
        "delay_ms": 1500,
    }
    assert clean_response(given) == given


@pytest.mark.parametrize(
    "response, message",
    [
        ({"status": 199}, "status must be"),
        ({"status": 600}, "status must be"),
        ({"status": "200"}, "status must be"),
        ({"status": True}, "status must be"),
        ({"status": 204, "body": "x"}, "no body"),
        ({"headers": [["X-A", "ok\r\nSet-Cookie: pwned=1"]]}, "control character"),
        ({"headers": [["X-A", "ok\nX-B: 1"]]}, "control character"),
        ({"headers": [["X-A", "nul\x00"]]}, "control character"),
        ({"headers": [["Bad Name", "v"]]}, "not a header name"),
        ({"headers": [["X-A:", "v"]]}, "not a header name"),
        ({"headers": [["Content-Length", "5"]]}, "server's to send"),
        ({"headers": [["Transfer-Encoding", "chunked"]]}, "server's to send"),
        ({"headers": [["Connection", "close"]]}, "server's to send"),
        ({"headers": [["X-A", "€"]]}, "Latin-1"),
        ({"headers": [["X-A"]]}, "[name, value]"),
        ({"headers": "X-A: 1"}, "list"),
        ({"headers": [["X", "1"]] * 51}, "at most 50"),
        ({"body": 5}, "body must be text"),
        ({"body": "x" * 70_000}, "body must be text"),
        ({"delay_ms": -1}, "delay_ms"),
        ({"delay_ms": 30_001}, "delay_ms"),
        ({"delay_ms": 1.5}, "delay_ms"),
        ({"colour": "red"}, "unknown response field"),
        ("200 OK", "must be an object"),
    ],
)
def test_a_response_http_does_not_allow_is_refused_with_a_reason(response, message):
    with pytest.raises(BadResponse, match=message):
        clean_response(response)


def test_the_delay_cap_comes_from_the_settings(settings):
    settings.INSPECTOR_MAX_RESPONSE_DELAY = 2
    assert clean_response({"delay_ms": 2000})["delay_ms"] == 2000
    with pytest.raises(BadResponse, match="from 0 to 2000"):
        clean_response({"delay_ms": 2001})


def test_a_preflight_is_an_options_request_asking_for_a_method():
    asking = {"method": "OPTIONS", "headers": [(b"access-control-request-method", b"POST")]}
    assert preflight(asking)
    assert not preflight({"method": "OPTIONS", "headers": []})
    assert not preflight({"method": "POST", "headers": asking["headers"]})
    headers = dict(
        preflight_headers(
            {
                **asking,
                "headers": [*asking["headers"], (b"access-control-request-headers", b"x-sig")],
            }
        )
    )
    assert headers[b"access-control-allow-headers"] == b"x-sig"
    assert headers[b"access-control-allow-origin"] == b"*"


# Stored with each request, on SQLite here and PostgreSQL in the second pass


@pytest.mark.django_db
def test_each_request_keeps_the_response_its_bin_gave_then():
    from bins.models import Bin, CapturedRequest
    from bins.storage import store_batch
    from tests.unit.test_ingest import record_for

    response = {"status": 202, "headers": [["X-A", "1"]], "body": "queued", "delay_ms": 0}
    bin = Bin.objects.create(response=response, cors=True)
    (first,) = store_batch([record_for(bin.id, "/one")])
    assert (first.response, first.cors) == (response, True)
    Bin.objects.filter(pk=bin.pk).update(response=None, cors=False)
    (second,) = store_batch([record_for(bin.id, "/two")])
    assert (second.response, second.cors) == (None, False)
    kept = dict(CapturedRequest.objects.values_list("path", "response"))
    assert kept == {"/one": response, "/two": None}
