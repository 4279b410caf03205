"""The public contract of DESIGN.md: JSON API, capture through the ASGI app, long poll, pages."""

import asyncio
import base64
import json
import time

import pytest
from django.test import AsyncClient
from django.utils import timezone

from bins.models import Bin, CapturedRequest, is_bin_id, new_bin_id

pytestmark = pytest.mark.django_db(transaction=True)

# DESIGN.md's Bin; it may carry more.
BIN_KEYS = {
    "id",
    "name",
    "url",
    "inspect_url",
    "ws_url",
    "created_at",
    "expires_at",
    "request_count",
}


def assert_error(response, status, code=None):
    """The one error shape: {"error": {"code", "message"}}, as JSON, with `status`."""
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    data = response.json()
    assert set(data) >= {"error"}
    assert isinstance(data["error"]["code"], str) and data["error"]["code"]
    assert isinstance(data["error"]["message"], str) and data["error"]["message"]
    if code is not None:
        assert data["error"]["code"] == code
    return data


def capture_id(answer):
    return json.loads(answer["body"])["id"]


async def stored(**filters):
    return [row async for row in CapturedRequest.objects.filter(**filters).order_by("id")]


# POST /api/bins


async def test_it_creates_a_bin_without_a_name(async_client):
    response = await async_client.generic("POST", "/api/bins")
    assert response.status_code == 201
    data = response.json()
    assert set(data) >= BIN_KEYS
    assert is_bin_id(data["id"])
    assert data["name"] == ""
    assert data["request_count"] == 0
    assert data["url"] == f"http://testserver/b/{data['id']}"
    assert data["inspect_url"] == f"http://testserver/bins/{data['id']}/"
    assert data["ws_url"] == f"ws://testserver/ws/bins/{data['id']}/"
    assert data["created_at"].endswith("Z") and data["expires_at"] > data["created_at"]
    assert await Bin.objects.filter(pk=data["id"]).aexists()


async def test_it_creates_a_bin_with_a_name(async_client):
    response = await async_client.post(
        "/api/bins", {"name": "  Stripe staging  "}, content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["name"] == "Stripe staging"
    assert (await Bin.objects.aget(pk=response.json()["id"])).name == "Stripe staging"


async def test_each_bin_gets_its_own_id(async_client):
    ids = {(await async_client.generic("POST", "/api/bins")).json()["id"] for _ in range(5)}
    assert len(ids) == 5


async def test_creating_a_bin_needs_no_csrf_token():
    client = AsyncClient(enforce_csrf_checks=True)
    response = await client.post("/api/bins", {"name": "x"}, content_type="application/json")
    assert response.status_code == 201


async def test_created_bin_urls_come_from_public_url(async_client, settings):
    settings.PUBLIC_URL = "https://hooks.example.com"
    data = (await async_client.generic("POST", "/api/bins")).json()
    assert data["url"] == f"https://hooks.example.com/b/{data['id']}"
    assert data["ws_url"] == f"wss://hooks.example.com/ws/bins/{data['id']}/"


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[1, 2]", b'"name"', b"null"])
async def test_creating_a_bin_with_a_body_that_is_not_a_json_object_is_400(async_client, body):
    response = await async_client.generic("POST", "/api/bins", body, "application/json")
    assert_error(response, 400, "invalid_json")
    assert await Bin.objects.acount() == 0


@pytest.mark.parametrize("name", [42, None, ["a"], "x" * 101])
async def test_creating_a_bin_with_a_bad_name_is_400(async_client, name):
    response = await async_client.post("/api/bins", {"name": name}, "application/json")
    assert_error(response, 400, "invalid_name")


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
async def test_bins_collection_answers_405_with_allow(async_client, method):
    response = await getattr(async_client, method)("/api/bins")
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"


# GET / DELETE /api/bins/<id>


async def test_it_gets_a_bin(async_client, bin):
    response = await async_client.get(f"/api/bins/{bin.id}")
    assert response.status_code == 200
    data = response.json()
    assert set(data) >= BIN_KEYS
    assert (data["id"], data["name"]) == (bin.id, "test")
    assert data["url"] == f"http://testserver/b/{bin.id}"


async def test_a_bin_counts_what_it_received(async_client, bin, capture):
    for _ in range(3):
        await capture(f"/b/{bin.id}")
    assert (await async_client.get(f"/api/bins/{bin.id}")).json()["request_count"] == 3


async def test_a_bin_says_how_many_requests_it_keeps_and_dropped(
    async_client, bin, store_requests, settings
):
    await store_requests(bin, 4)
    await Bin.objects.filter(pk=bin.pk).aupdate(dropped_count=7)
    data = (await async_client.get(f"/api/bins/{bin.id}")).json()
    assert data["kept_count"] == 4
    assert data["dropped_count"] == 7
    assert data["max_requests"] == settings.INSPECTOR_MAX_REQUESTS_PER_BIN


async def test_an_expired_bin_answers_410_everywhere_in_the_api(async_client, bin):
    await Bin.objects.filter(pk=bin.pk).aupdate(expires_at=timezone.now())
    for path in ("", "/requests", "/requests/1", "/requests/wait?timeout=1"):
        assert_error(await async_client.get(f"/api/bins/{bin.id}{path}"), 410, "bin_expired")


async def test_over_the_rate_limit_capture_is_429_with_retry_after_and_counted(
    async_client, bin, capture, monkeypatch
):
    # The writer process reads its limits from the environment it starts with.
    monkeypatch.setenv("INSPECTOR_BIN_RATE", "1")
    monkeypatch.setenv("INSPECTOR_BIN_BURST", "3")
    answers = await asyncio.gather(*(capture(f"/b/{bin.id}/{n}") for n in range(5)))
    assert sorted(a["status"] for a in answers) == [200, 200, 200, 429, 429]
    refused = next(a for a in answers if a["status"] == 429)
    assert json.loads(refused["body"])["error"]["code"] == "rate_limited"
    assert refused["headers"][b"retry-after"] == b"1"
    assert await CapturedRequest.objects.acount() == 3
    data = (await async_client.get(f"/api/bins/{bin.id}")).json()
    assert (data["request_count"], data["kept_count"], data["refused_count"]) == (5, 3, 2)


async def test_capturing_into_an_expired_bin_is_410_and_stores_nothing(bin, capture):
    await Bin.objects.filter(pk=bin.pk).aupdate(expires_at=timezone.now())
    answer = await capture(f"/b/{bin.id}/hook", body=b"late")
    assert answer["status"] == 410
    assert json.loads(answer["body"])["error"]["code"] == "bin_expired"
    assert await CapturedRequest.objects.acount() == 0


async def test_the_page_of_an_expired_bin_says_so_with_410(async_client, bin):
    await Bin.objects.filter(pk=bin.pk).aupdate(expires_at=timezone.now())
    response = await async_client.get(f"/bins/{bin.id}/")
    assert response.status_code == 410
    assert b"This bin has expired" in response.content
    assert b"1\xc2\xa0week" in response.content  # the TTL, in words


async def test_it_deletes_a_bin_and_everything_in_it(async_client, bin, store_requests, capture):
    await store_requests(bin, 3)
    response = await async_client.delete(f"/api/bins/{bin.id}")
    assert response.status_code == 204
    assert response.content == b""
    assert_error(await async_client.get(f"/api/bins/{bin.id}"), 404, "bin_not_found")
    assert await CapturedRequest.objects.acount() == 0
    assert (await capture(f"/b/{bin.id}"))["status"] == 404


async def test_an_unknown_bin_is_404(async_client):
    unknown = new_bin_id()
    assert_error(await async_client.get(f"/api/bins/{unknown}"), 404, "bin_not_found")
    assert_error(await async_client.delete(f"/api/bins/{unknown}"), 404, "bin_not_found")
    assert_error(await async_client.get(f"/api/bins/{unknown}/requests"), 404, "bin_not_found")
    assert_error(await async_client.get(f"/api/bins/{unknown}/requests/1"), 404, "bin_not_found")


@pytest.mark.parametrize("path", ["/api/bins/NOTABINATALL1234", "/api/bins/short", "/api/nope"])
async def test_any_api_path_that_is_not_found_answers_in_the_error_shape(async_client, path):
    assert_error(await async_client.get(path), 404)


@pytest.mark.parametrize(
    ("method", "suffix", "allow"),
    [
        ("post", "", "GET, PATCH, DELETE"),
        ("put", "", "GET, PATCH, DELETE"),
        ("post", "/requests", "GET, DELETE"),
        ("post", "/requests/wait", "GET"),
        ("delete", "/requests/wait", "GET"),
        ("patch", "/requests/1", "GET, DELETE"),
        ("post", "/requests/1/body", "GET"),
        ("delete", "/requests/1/body", "GET"),
    ],
)
async def test_a_method_an_endpoint_does_not_take_is_405_with_allow(
    async_client, bin, method, suffix, allow
):
    response = await getattr(async_client, method)(f"/api/bins/{bin.id}{suffix}")
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == allow


async def test_api_answers_are_not_cached(async_client, bin):
    response = await async_client.get(f"/api/bins/{bin.id}")
    assert response["Cache-Control"] == "no-store"


# GET /api/bins/<id>/requests


async def test_the_list_is_newest_first(async_client, bin, store_requests):
    rows = await store_requests(bin, 3)
    data = (await async_client.get(f"/api/bins/{bin.id}/requests")).json()
    assert [item["id"] for item in data["requests"]] == [r.pk for r in reversed(rows)]
    assert data["next_before"] is None
    assert set(data) == {"requests", "next_before"}


async def test_the_list_pages_with_limit_before_and_next_before(async_client, bin, store_requests):
    rows = await store_requests(bin, 5)
    ids = [r.pk for r in reversed(rows)]
    url = f"/api/bins/{bin.id}/requests"
    pages, before = [], ""
    while True:
        data = (await async_client.get(url, {"limit": 2, "before": before})).json()
        pages.append([item["id"] for item in data["requests"]])
        if data["next_before"] is None:
            break
        before = data["next_before"]
        assert before == pages[-1][-1]
    assert pages == [ids[0:2], ids[2:4], ids[4:5]]


async def test_a_page_that_ends_exactly_at_the_oldest_has_no_next_before(
    async_client, bin, store_requests
):
    await store_requests(bin, 4)
    data = (await async_client.get(f"/api/bins/{bin.id}/requests", {"limit": 4})).json()
    assert len(data["requests"]) == 4
    assert data["next_before"] is None


async def test_the_list_of_an_empty_bin_is_empty(async_client, bin):
    data = (await async_client.get(f"/api/bins/{bin.id}/requests")).json()
    assert data == {"requests": [], "next_before": None}


async def test_the_list_holds_50_by_default_and_500_at_most(async_client, bin, store_requests):
    await store_requests(bin, 501)
    url = f"/api/bins/{bin.id}/requests"
    default = (await async_client.get(url)).json()
    assert len(default["requests"]) == 50
    assert default["next_before"] == default["requests"][-1]["id"]
    most = (await async_client.get(url, {"limit": 10_000})).json()
    assert len(most["requests"]) == 500
    assert most["next_before"] is not None


async def test_after_lists_newer_requests_oldest_first(async_client, bin, store_requests):
    rows = await store_requests(bin, 5)
    url = f"/api/bins/{bin.id}/requests"
    data = (await async_client.get(url, {"after": rows[1].pk})).json()
    assert [item["id"] for item in data["requests"]] == [r.pk for r in rows[2:]]
    assert data["next_before"] is None
    limited = (await async_client.get(url, {"after": rows[1].pk, "limit": 2})).json()
    assert [item["id"] for item in limited["requests"]] == [rows[2].pk, rows[3].pk]


async def test_the_list_shows_only_this_bins_requests(async_client, bin, store_requests):
    other = await Bin.objects.acreate()
    await store_requests(other, 2)
    mine = await store_requests(bin, 1)
    data = (await async_client.get(f"/api/bins/{bin.id}/requests")).json()
    assert [item["id"] for item in data["requests"]] == [mine[0].pk]


@pytest.mark.parametrize(
    "query",
    [
        "limit=abc",
        "limit=-1",
        "limit=1.5",
        "limit=%C2%B2",  # "²" is a digit to str.isdigit, not to int()
        "before=x",
        "before=-5",
        "after=1e3",
        "after=%20",
    ],
)
async def test_invalid_list_parameters_are_400(async_client, bin, query):
    response = await async_client.get(f"/api/bins/{bin.id}/requests?{query}")
    assert_error(response, 400, "invalid_parameter")


@pytest.mark.parametrize(
    "query", ["before=99999999999999999999999", "after=99999999999999999999999"]
)
async def test_an_id_beyond_any_stored_id_is_no_server_error(async_client, bin, query):
    response = await async_client.get(f"/api/bins/{bin.id}/requests?{query}")
    assert response.status_code in (200, 400)
    assert response["Content-Type"].startswith("application/json")


# GET / DELETE /api/bins/<id>/requests/<rid>


async def test_request_detail_has_the_whole_body_as_text_and_base64(async_client, bin, capture):
    body = ("€" * 2000).encode()
    answer = await capture(
        f"/b/{bin.id}/hook?a=1&a=2", body, headers=[(b"content-type", b"text/plain")]
    )
    rid = capture_id(answer)
    data = (await async_client.get(f"/api/bins/{bin.id}/requests/{rid}")).json()
    assert data["id"] == rid
    assert data["body_text"] == "€" * 2000
    assert base64.b64decode(data["body_base64"]) == body
    assert data["body_size"] == len(body)
    assert data["body_preview_truncated"] is True
    assert data["query"] == [["a", "1"], ["a", "2"]]
    assert data["url"] == f"http://testserver/b/{bin.id}/hook?a=1&a=2"
    assert data["content_type"] == "text/plain"
    assert data["remote_addr"] == "203.0.113.9"


async def test_request_detail_of_a_binary_body(async_client, bin, capture):
    body = bytes(range(256))
    rid = capture_id(await capture(f"/b/{bin.id}", body))
    data = (await async_client.get(f"/api/bins/{bin.id}/requests/{rid}")).json()
    assert data["body_text"] is None
    assert data["body_preview"] is None
    assert base64.b64decode(data["body_base64"]) == body


async def test_request_detail_keeps_microseconds(async_client, bin, capture):
    rid = capture_id(await capture(f"/b/{bin.id}"))
    data = (await async_client.get(f"/api/bins/{bin.id}/requests/{rid}")).json()
    row = await CapturedRequest.objects.aget(pk=rid)
    assert data["received_at"] == row.received_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def test_an_unknown_request_is_404(async_client, bin, store_requests):
    other = await Bin.objects.acreate()
    (elsewhere,) = await store_requests(other, 1)
    for rid in (999_999, elsewhere.pk):
        url = f"/api/bins/{bin.id}/requests/{rid}"
        assert_error(await async_client.get(url), 404, "request_not_found")
        assert_error(await async_client.get(url + "/body"), 404, "request_not_found")
        assert_error(await async_client.delete(url), 404, "request_not_found")
    assert await CapturedRequest.objects.filter(pk=elsewhere.pk).aexists()


async def test_a_request_id_beyond_any_stored_id_is_404(async_client, bin):
    url = f"/api/bins/{bin.id}/requests/99999999999999999999999"
    assert_error(await async_client.get(url), 404, "request_not_found")


async def test_the_raw_body_is_an_attachment_the_browser_never_renders(async_client, bin, capture):
    body = b"<html><script>alert(document.cookie)</script></html>"
    rid = capture_id(await capture(f"/b/{bin.id}", body, headers=[(b"content-type", b"text/html")]))
    response = await async_client.get(f"/api/bins/{bin.id}/requests/{rid}/body")
    assert response.status_code == 200
    assert response.content == body
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"


async def test_the_raw_body_keeps_every_byte(async_client, bin, capture):
    body = bytes(range(256)) * 40
    rid = capture_id(await capture(f"/b/{bin.id}", body))
    response = await async_client.get(f"/api/bins/{bin.id}/requests/{rid}/body")
    assert response.content == body


async def test_it_deletes_one_request(async_client, bin, store_requests):
    rows = await store_requests(bin, 3)
    response = await async_client.delete(f"/api/bins/{bin.id}/requests/{rows[1].pk}")
    assert response.status_code == 204
    assert [r.pk for r in await stored(bin=bin)] == [rows[0].pk, rows[2].pk]
    url = f"/api/bins/{bin.id}/requests/{rows[1].pk}"
    assert_error(await async_client.get(url), 404, "request_not_found")


async def test_it_clears_a_bin(async_client, bin, capture):
    for _ in range(3):
        await capture(f"/b/{bin.id}")
    response = await async_client.delete(f"/api/bins/{bin.id}/requests")
    assert response.status_code == 204
    assert await stored(bin=bin) == []
    data = (await async_client.get(f"/api/bins/{bin.id}")).json()
    assert data["request_count"] == 3  # received in all, deleted ones included


# Capture: ANY /b/<id>[/<path>] through the ASGI application


@pytest.mark.parametrize(
    "method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND", "M-SEARCH", "BREW"]
)
async def test_capture_takes_any_method(bin, capture, method):
    answer = await capture(f"/b/{bin.id}/x", b"payload", method=method)
    assert answer["status"] == 200
    data = json.loads(answer["body"])
    assert data == {"ok": True, "id": data["id"]}
    assert answer["headers"][b"x-inspector-request-id"] == str(data["id"]).encode()
    assert answer["headers"][b"content-type"] == b"application/json"
    (row,) = await stored(bin=bin)
    assert (row.pk, row.method, bytes(row.body)) == (data["id"], method, b"payload")


async def test_capture_answers_head_without_a_body(bin, capture):
    answer = await capture(f"/b/{bin.id}", method="HEAD")
    assert answer["status"] == 200
    assert answer["body"] == b""
    (row,) = await stored(bin=bin)
    assert row.method == "HEAD"
    assert answer["headers"][b"x-inspector-request-id"] == str(row.pk).encode()
    assert answer["headers"][b"content-type"] == b"application/json"


@pytest.mark.parametrize(("suffix", "path"), [("", ""), ("/", "/"), ("/a/b/", "/a/b/")])
async def test_capture_with_and_without_trailing_slash_never_redirects(bin, capture, suffix, path):
    answer = await capture(f"/b/{bin.id}{suffix}", b"{}")
    assert answer["status"] == 200
    assert b"location" not in answer["headers"]
    (row,) = await stored(bin=bin)
    assert row.path == path


async def test_capture_keeps_the_path_encoded(bin, capture):
    await capture(f"/b/{bin.id}/a%2Fb/%E2%82%AC")
    (row,) = await stored(bin=bin)
    assert row.path == "/a%2Fb/%E2%82%AC"


async def test_capture_needs_no_csrf_token_and_does_not_parse_forms(bin, capture):
    body = b"a=1&a=2&csrfmiddlewaretoken=nope"
    headers = [
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"cookie", b"csrftoken=abc"),
        (b"origin", b"http://evil.example"),
    ]
    answer = await capture(f"/b/{bin.id}", body, headers=headers)
    assert answer["status"] == 200
    (row,) = await stored(bin=bin)
    assert bytes(row.body) == body


async def test_capture_stores_a_broken_multipart_body_as_it_is(bin, capture):
    body = b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nunterminated'
    headers = [(b"content-type", b"multipart/form-data; boundary=xyz")]
    assert (await capture(f"/b/{bin.id}", body, headers=headers))["status"] == 200
    (row,) = await stored(bin=bin)
    assert bytes(row.body) == body


async def test_capture_keeps_headers_as_they_arrived(bin, capture, async_client):
    wire = [(b"X-Foo", b"1"), (b"X_Api_Key", b"k"), (b"x-foo", b"2"), (b"Host", b"testserver")]
    extensions = {"inspector.capture": {"headers": wire, "body_size": 0}}
    rid = capture_id(await capture(f"/b/{bin.id}", extensions=extensions))
    data = (await async_client.get(f"/api/bins/{bin.id}/requests/{rid}")).json()
    assert data["headers"] == [
        ["X-Foo", "1"],
        ["X_Api_Key", "k"],
        ["x-foo", "2"],
        ["Host", "testserver"],
    ]


async def test_capture_for_an_unknown_bin_is_404_and_stores_nothing(capture, transactional_db):
    for path in (f"/b/{new_bin_id()}", f"/b/{new_bin_id()}/x", "/b/NOTABIN/x", "/b/"):
        answer = await capture(path, b"data")
        assert answer["status"] == 404
        assert json.loads(answer["body"])["error"]["code"] == "bin_not_found"
    assert await CapturedRequest.objects.acount() == 0


async def test_an_oversized_body_is_413_yet_stored_truncated(bin, capture, settings):
    settings.INSPECTOR_MAX_BODY_BYTES = 10
    answer = await capture(f"/b/{bin.id}", b"0123456789abcdefghijklmno")
    assert answer["status"] == 413
    data = json.loads(answer["body"])
    assert data["error"]["code"] == "body_too_large"
    (row,) = await stored(bin=bin)
    assert data["id"] == row.pk
    assert answer["headers"][b"x-inspector-request-id"] == str(row.pk).encode()
    assert bytes(row.body) == b"0123456789"
    assert (row.body_size, row.body_truncated) == (25, True)


async def test_a_body_the_server_already_cut_is_stored_with_its_real_size(bin, capture, settings):
    settings.INSPECTOR_MAX_BODY_BYTES = 10
    extensions = {"inspector.capture": {"headers": [(b"Host", b"x")], "body_size": 7_000_000}}
    answer = await capture(f"/b/{bin.id}", b"0123456789", extensions=extensions)
    assert answer["status"] == 413
    (row,) = await stored(bin=bin)
    assert (bytes(row.body), row.body_size, row.body_truncated) == (b"0123456789", 7_000_000, True)


async def test_a_body_of_exactly_the_limit_is_stored_whole(bin, capture, settings):
    settings.INSPECTOR_MAX_BODY_BYTES = 10
    assert (await capture(f"/b/{bin.id}", b"0123456789"))["status"] == 200
    (row,) = await stored(bin=bin)
    assert row.body_truncated is False


async def test_concurrent_captures_are_all_stored(bin, capture):
    answers = await asyncio.gather(*(capture(f"/b/{bin.id}/{n}", b"x") for n in range(40)))
    assert {answer["status"] for answer in answers} == {200}
    ids = sorted(capture_id(answer) for answer in answers)
    assert [r.pk for r in await stored(bin=bin)] == ids
    assert (await Bin.objects.aget(pk=bin.id)).request_count == 40


# GET /api/bins/<id>/requests/wait (long poll)


async def test_the_long_poll_answers_at_once_when_newer_requests_exist(
    async_client, bin, store_requests
):
    rows = await store_requests(bin, 3)
    started = time.monotonic()
    response = await async_client.get(
        f"/api/bins/{bin.id}/requests/wait", {"after": rows[0].pk, "timeout": 30}
    )
    assert time.monotonic() - started < 5
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["requests"]] == [rows[1].pk, rows[2].pk]


async def test_the_long_poll_answers_an_empty_list_at_the_timeout(
    async_client, bin, store_requests
):
    rows = await store_requests(bin, 1)
    started = time.monotonic()
    response = await async_client.get(
        f"/api/bins/{bin.id}/requests/wait", {"after": rows[0].pk, "timeout": 1}
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.json() == {"requests": [], "next_before": None}
    assert 0.9 <= elapsed < 5


async def test_the_long_poll_wakes_when_a_capture_arrives(async_client, bin, capture):
    async def capture_later():
        await asyncio.sleep(0.5)
        return await capture(f"/b/{bin.id}/late", b"hello")

    started = time.monotonic()
    response, answer = await asyncio.gather(
        async_client.get(f"/api/bins/{bin.id}/requests/wait", {"after": 0, "timeout": 20}),
        capture_later(),
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    (item,) = response.json()["requests"]
    assert item["id"] == capture_id(answer)
    assert item["path"] == "/late"
    assert 0.4 <= elapsed < 10


async def test_the_long_poll_ignores_other_bins(async_client, bin, capture):
    other = await Bin.objects.acreate()

    async def capture_elsewhere():
        await asyncio.sleep(0.2)
        return await capture(f"/b/{other.id}")

    response, _ = await asyncio.gather(
        async_client.get(f"/api/bins/{bin.id}/requests/wait", {"timeout": 1}),
        capture_elsewhere(),
    )
    assert response.json()["requests"] == []


@pytest.mark.parametrize("query", ["timeout=soon", "after=-1", "timeout=1.5"])
async def test_the_long_poll_refuses_invalid_parameters(async_client, bin, query):
    response = await async_client.get(f"/api/bins/{bin.id}/requests/wait?{query}")
    assert_error(response, 400, "invalid_parameter")


async def test_the_long_poll_of_an_unknown_bin_is_404(async_client):
    response = await async_client.get(f"/api/bins/{new_bin_id()}/requests/wait?timeout=1")
    assert_error(response, 404, "bin_not_found")


# Pages


async def test_the_home_page_has_a_content_security_policy(async_client):
    response = await async_client.get("/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp


async def test_the_inspect_page_carries_the_capture_url(async_client, bin):
    response = await async_client.get(f"/bins/{bin.id}/")
    assert response.status_code == 200
    assert f"http://testserver/b/{bin.id}" in response.content.decode()
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cache-Control"] == "no-store"
    assert "noindex" in response["X-Robots-Tag"]
    assert "Content-Security-Policy" in response


async def test_the_inspect_page_uses_public_url(async_client, bin, settings):
    settings.PUBLIC_URL = "https://hooks.example.com"
    response = await async_client.get(f"/bins/{bin.id}/")
    assert f"https://hooks.example.com/b/{bin.id}" in response.content.decode()


async def test_the_inspect_page_of_an_unknown_bin_is_404(async_client):
    response = await async_client.get(f"/bins/{new_bin_id()}/")
    assert response.status_code == 404
    assert b"There is no bin here" in response.content
    assert response["Cache-Control"] == "no-store"


async def test_capture_keeps_header_bytes_and_a_nul_in_the_body(bin, capture, async_client):
    # NUL itself never reaches a header: the server answers 400 to it (and PostgreSQL
    # would refuse it in JSON); every other byte does, and must come back as sent.
    value = bytes(range(1, 9)) + b"\x7f\x80\xa0\xc3\x85\xff"
    answer = await capture(f"/b/{bin.id}/nul%00?q=%00", b"\x00body", headers=[(b"x-raw", value)])
    assert answer["status"] == 200
    data = (await async_client.get(f"/api/bins/{bin.id}/requests/{capture_id(answer)}")).json()
    assert data["headers"][-1][1].encode("latin-1") == value
    assert base64.b64decode(data["body_base64"]) == b"\x00body"


# ?q= search (bins.search), on the list and the long poll


async def test_the_list_takes_a_search(async_client, bin, capture):
    await capture(f"/b/{bin.id}/a", b'{"type": "invoice.paid"}')
    await capture(f"/b/{bin.id}/b", b'{"type": "invoice.created"}', method="PUT")
    response = await async_client.get(f"/api/bins/{bin.id}/requests", {"q": '"invoice.paid"'})
    assert [item["path"] for item in response.json()["requests"]] == ["/a"]
    response = await async_client.get(f"/api/bins/{bin.id}/requests", {"q": "-method:PUT"})
    assert [item["path"] for item in response.json()["requests"]] == ["/a"]


async def test_a_search_the_syntax_does_not_allow_is_400(async_client, bin):
    response = await async_client.get(f"/api/bins/{bin.id}/requests", {"q": "colour:red"})
    data = assert_error(response, 400, "invalid_query")
    assert "colour:" in data["error"]["message"]


async def test_the_long_poll_waits_for_a_request_that_matches(async_client, bin, capture):
    async def capture_later():
        await asyncio.sleep(0.3)
        await capture(f"/b/{bin.id}/other", b'{"type": "invoice.created"}')
        await asyncio.sleep(0.3)
        return await capture(f"/b/{bin.id}/paid", b'{"type": "invoice.paid"}')

    query = {"after": 0, "timeout": 20, "q": 'method:POST "invoice.paid"'}
    response, answer = await asyncio.gather(
        async_client.get(f"/api/bins/{bin.id}/requests/wait", query), capture_later()
    )
    (item,) = response.json()["requests"]
    assert item["id"] == capture_id(answer) and item["path"] == "/paid"


# Chosen URL names


async def test_a_bin_can_take_a_url_name_of_its_owners_choice(async_client, capture):
    response = await async_client.post(
        "/api/bins", {"url_name": "stripe-staging"}, content_type="application/json"
    )
    assert response.status_code == 201
    data = response.json()
    assert data["id"] == "stripe-staging"
    assert data["url"] == "http://testserver/b/stripe-staging"
    answer = await capture("/b/stripe-staging/events?x=1", b"{}")
    assert answer["status"] == 200
    listed = await async_client.get("/api/bins/stripe-staging/requests")
    assert [r["path"] for r in listed.json()["requests"]] == ["/events"]
    assert (await async_client.get("/bins/stripe-staging/")).status_code == 200


async def test_a_url_name_is_taken_once(async_client):
    body = {"url_name": "github-hooks"}
    first = await async_client.post("/api/bins", body, content_type="application/json")
    assert first.status_code == 201
    again = await async_client.post("/api/bins", body, content_type="application/json")
    assert_error(again, 409, "url_name_taken")


@pytest.mark.parametrize(
    "url_name",
    ["ab", "x" * 41, "Upper", "-edge", "edge-", "under_score", "sp ace", "abcdefghijklmnop", 7],
)
async def test_a_url_name_outside_the_rules_is_400(async_client, url_name):
    response = await async_client.post(
        "/api/bins", {"url_name": url_name}, content_type="application/json"
    )
    assert_error(response, 400, "invalid_url_name")
    assert await Bin.objects.acount() == 0
