"""Export (HAR 1.2, NDJSON) and import, through the API: what goes out comes back in."""

import base64
import json
from pathlib import Path

import jsonschema
import pytest
from django.test import AsyncClient

from bins import exports
from bins.models import Bin, CapturedRequest
from bins.serializers import MASK
from tests.api.test_api import assert_error
from tests.asgi_fixtures import create_in_browser

pytestmark = pytest.mark.django_db(transaction=True)
HAR_SCHEMA = json.loads((Path(__file__).parent.parent / "data" / "har-1.2.schema.json").read_text())
BINARY = bytes(range(256)) * 4


async def read(response):
    assert response.streaming
    return b"".join([chunk async for chunk in response.streaming_content])


@pytest.fixture
async def filled(bin, capture):
    """A bin holding a JSON post, a binary PUT with query and odd headers, and a GET."""
    await capture(
        f"/b/{bin.id}/github?delivery=1",
        b'{"ref": "main", "note": "caf\\u00e9"}',
        headers=[(b"X-GitHub-Event", b"push"), (b"Content-Type", b"application/json")],
    )
    await capture(
        f"/b/{bin.id}/upload?a=1&a=2&empty=",
        BINARY,
        method="PUT",
        headers=[(b"X_Under_Score", b"kept"), (b"Authorization", b"Bearer sk_secret")],
    )
    await capture(f"/b/{bin.id}", method="GET")
    return bin


async def test_a_bin_exports_as_a_valid_har_file(async_client, filled):
    response = await async_client.get(f"/api/bins/{filled.id}/export?format=har")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="bin-{filled.id}.har"'
    har = json.loads(await read(response))
    jsonschema.validate(har, HAR_SCHEMA)
    entries = har["log"]["entries"]
    assert [e["request"]["method"] for e in entries] == ["POST", "PUT", "GET"]  # oldest first
    push, upload, get = entries
    assert push["request"]["url"] == f"http://testserver/b/{filled.id}/github?delivery=1"
    assert {"name": "X-GitHub-Event", "value": "push"} in push["request"]["headers"]
    assert push["request"]["postData"]["mimeType"] == "application/json"
    assert json.loads(push["request"]["postData"]["text"])["note"] == "café"
    assert upload["request"]["queryString"] == [
        {"name": "a", "value": "1"},
        {"name": "a", "value": "2"},
        {"name": "empty", "value": ""},
    ]
    assert upload["request"]["postData"]["_encoding"] == "base64"
    assert base64.b64decode(upload["request"]["postData"]["text"]) == BINARY
    assert upload["request"]["bodySize"] == len(BINARY)
    assert "postData" not in get["request"]


async def test_a_bin_exports_as_ndjson_one_request_a_line(async_client, filled):
    response = await async_client.get(f"/api/bins/{filled.id}/export?format=ndjson")
    assert response["Content-Type"] == "application/x-ndjson"
    lines = (await read(response)).decode().splitlines()
    requests = [json.loads(line) for line in lines]
    assert [r["method"] for r in requests] == ["POST", "PUT", "GET"]
    assert base64.b64decode(requests[1]["body_base64"]) == BINARY


async def test_one_request_exports_alone(async_client, filled):
    rid = (
        await CapturedRequest.objects.filter(bin=filled, method="PUT")
        .values_list("id", flat=True)
        .aget()
    )
    response = await async_client.get(f"/api/bins/{filled.id}/requests/{rid}/export")
    har = json.loads(await read(response))
    jsonschema.validate(har, HAR_SCHEMA)
    assert [e["_id"] for e in har["log"]["entries"]] == [rid]


async def test_an_empty_bin_exports_an_empty_har_file(async_client, bin):
    har = json.loads(await read(await async_client.get(f"/api/bins/{bin.id}/export")))
    jsonschema.validate(har, HAR_SCHEMA)
    assert har["log"]["entries"] == []


async def test_an_unknown_format_is_400(async_client, bin):
    response = await async_client.get(f"/api/bins/{bin.id}/export?format=csv")
    assert_error(response, 400, "invalid_format")


async def test_exports_mask_what_the_bin_masks(async_client, filled):
    await Bin.objects.filter(pk=filled.pk).aupdate(mask_headers=True)
    har = await read(await async_client.get(f"/api/bins/{filled.id}/export?format=har"))
    ndjson = await read(await async_client.get(f"/api/bins/{filled.id}/export?format=ndjson"))
    assert b"sk_secret" not in har and b"sk_secret" not in ndjson
    upload = json.loads(har)["log"]["entries"][1]["request"]
    assert {"name": "Authorization", "value": MASK} in upload["headers"]
    assert ["Authorization", MASK] in json.loads(ndjson.splitlines()[1])["headers"]


async def test_a_private_bins_export_needs_access(capture):
    owner = AsyncClient()
    data = await create_in_browser(owner, private=True)
    await capture(f"/b/{data['id']}", b"secret")
    response = await AsyncClient().get(f"/api/bins/{data['id']}/export")
    assert_error(response, 401, "bin_private")
    one = await AsyncClient().get(f"/api/bins/{data['id']}/requests/1/export")
    assert_error(one, 401, "bin_private")
    assert (await owner.get(f"/api/bins/{data['id']}/export")).status_code == 200


@pytest.mark.parametrize("fmt", ["har", "ndjson"])
async def test_what_is_exported_imports_into_another_bin_byte_for_byte(async_client, filled, fmt):
    exported = await read(await async_client.get(f"/api/bins/{filled.id}/export?format={fmt}"))
    target = await Bin.objects.acreate()
    response = await async_client.generic(
        "POST", f"/api/bins/{target.id}/import", exported, "application/json"
    )
    assert response.status_code == 200
    assert response.json()["imported"] == 3
    originals = [r async for r in CapturedRequest.objects.filter(bin=filled).order_by("id")]
    copies = [r async for r in CapturedRequest.objects.filter(bin=target).order_by("id")]
    for original, copy in zip(originals, copies, strict=True):
        for field in ("method", "path", "query_string", "headers", "body_size", "content_type"):
            assert getattr(copy, field) == getattr(original, field), field
        assert bytes(copy.body) == bytes(original.body)
        assert copy.received_at == original.received_at
    target = await Bin.objects.aget(pk=target.pk)
    assert (target.request_count, target.kept_count) == (3, 3)


async def test_an_import_is_pushed_to_open_pages(async_client, filled, open_socket):
    exported = await read(await async_client.get(f"/api/bins/{filled.id}/export?format=ndjson"))
    target = await Bin.objects.acreate()
    socket, _, _ = await open_socket(f"/ws/bins/{target.id}/")
    await async_client.generic("POST", f"/api/bins/{target.id}/import", exported)
    event = await socket.receive_json_from(timeout=5)
    assert event["type"] == "requests.created" and len(event["requests"]) == 3


@pytest.mark.parametrize(
    "body, message",
    [
        (b"\xff\xfe", "UTF-8"),
        (b'{"log": {"entries": "no"}}', "log.entries must be a list"),
        (b'{"log": {}}', "needs log.entries"),
        (b'{"method": "GET", "url": "/x"}\nnot json\n', "line 2: not JSON"),
        (b'{"method": "", "url": "/x"}\n', "line 1: method"),
        (b'{"method": "GET\\r\\nX: 1", "url": "/x"}\n', "line 1: method"),
        (b'{"method": "GET", "url": "/x", "headers": [["a"]]}\n', "line 1: each header"),
        (b'{"method": "GET", "url": "/x", "received_at": "yesterday"}\n', "ISO 8601"),
        (b'{"method": "GET", "url": "/x", "body_base64": "!!"}\n', "not base64"),
    ],
)
async def test_an_import_says_what_is_wrong_and_stores_nothing(async_client, bin, body, message):
    response = await async_client.generic("POST", f"/api/bins/{bin.id}/import", body)
    data = assert_error(response, 400, "invalid_import")
    assert message in data["error"]["message"]
    assert await CapturedRequest.objects.filter(bin=bin).acount() == 0


async def test_an_import_keeps_within_the_bins_retention(async_client, bin, settings):
    settings.INSPECTOR_MAX_REQUESTS_PER_BIN = 2
    lines = b"".join(
        json.dumps({"method": "POST", "url": f"/n/{n}"}).encode() + b"\n" for n in range(5)
    )
    response = await async_client.generic("POST", f"/api/bins/{bin.id}/import", lines)
    assert response.json()["imported"] == 5
    bin = await Bin.objects.aget(pk=bin.pk)
    assert (bin.kept_count, bin.dropped_count) == (2, 3)


async def test_a_read_only_viewer_cannot_import(capture):
    owner = AsyncClient()
    data = await create_in_browser(owner, private=True)
    share = (await owner.post(f"/api/bins/{data['id']}/tokens", {}, "application/json")).json()
    response = await AsyncClient().post(
        f"/api/bins/{data['id']}/import",
        b"",
        "application/x-ndjson",
        headers={"Authorization": f"Bearer {share['token']}"},
    )
    assert_error(response, 403, "read_only")


async def test_a_har_entry_holds_the_answer_the_sender_got(async_client, bin, capture):
    rule = {
        "name": "echo",
        "when": {"path": "/echo"},
        "response": {
            "status": 201,
            "headers": [["Content-Type", "text/plain"], ["X-Id", "{{ request.id }}"]],
            "body": "got {{ json.x }}",
            "delay_ms": 5,
        },
    }
    await Bin.objects.filter(pk=bin.pk).aupdate(
        rules=[rule], failures={"which": "first", "count": 1, "how": "error", "status": 502}
    )
    await capture(f"/b/{bin.id}/echo", b'{"x": "failed"}')
    await capture(f"/b/{bin.id}/echo", b'{"x": "y"}')
    await capture(f"/b/{bin.id}/other", b"")
    response = await async_client.get(f"/api/bins/{bin.id}/export?format=har")
    har = json.loads(await read(response))
    jsonschema.validate(har, HAR_SCHEMA)
    failed, echoed, default = (entry["response"] for entry in har["log"]["entries"])
    assert (failed["status"], failed["statusText"]) == (502, "Bad Gateway")
    assert "failure script" in failed["_failure"]
    assert (echoed["status"], echoed["statusText"], echoed["_rule"]) == (201, "Created", "echo")
    echo_id = har["log"]["entries"][1]["_id"]
    assert {"name": "X-Id", "value": str(echo_id)} in echoed["headers"]
    assert echoed["content"] == {"size": 5, "mimeType": "text/plain", "text": "got y"}
    assert har["log"]["entries"][1]["timings"]["wait"] == 5
    assert default["status"] == 200
    assert json.loads(default["content"]["text"]) == {
        "ok": True,
        "id": har["log"]["entries"][2]["_id"],
    }


def test_a_connection_closed_unanswered_is_a_har_response_of_status_0():
    closed = {"status": None, "headers": [], "body": "", "delay_ms": 30_000, "close": True}
    row = CapturedRequest(id=1, response={**closed, "failure": "failure script (hang)"})
    response, wait = exports.har_response(row)
    assert (response["status"], wait) == (0, 30_000)
    assert "closed without an answer" in response["_error"]
