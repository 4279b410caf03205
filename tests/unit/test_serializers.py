"""bins.serializers: the JSON shapes of DESIGN.md's public contract."""

import base64
import gzip
import hashlib
import json
import zlib
from datetime import UTC, datetime

import brotli
import pytest
from django.test import RequestFactory

from bins.api import base_url
from bins.models import Bin, CapturedRequest
from bins.serializers import (
    MASK,
    PREVIEW_BYTES,
    bin_json,
    masked_names,
    request_detail_json,
    request_json,
)

REQUEST_KEYS = {
    "id",
    "bin",
    "method",
    "url",
    "path",
    "query_string",
    "query",
    "headers",
    "masked_headers",
    "content_type",
    "body_size",
    "body_truncated",
    "body_preview",
    "body_preview_truncated",
    "remote_addr",
    "received_at",
    "response",
    "signature",
}
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
MOMENT = datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


@pytest.fixture
def make_request(bin_id):
    """Build an unsaved CapturedRequest with sensible defaults and id 7."""

    def make_request(body=b"", **fields):
        values = {
            "id": 7,
            "bin_id": bin_id,
            "method": "POST",
            "scheme": "https",
            "host": "hooks.example.com",
            "path": "/orders",
            "query_string": "",
            "headers": [["Host", "hooks.example.com"]],
            "body": body,
            "body_size": len(body),
            "body_truncated": False,
            "content_type": "",
            "remote_addr": "203.0.113.9",
            "received_at": MOMENT,
        }
        values.update(fields)
        return CapturedRequest(**values)

    return make_request


@pytest.fixture
def a_bin(bin_id):
    """An unsaved Bin with fixed times."""
    return Bin(
        id=bin_id,
        name="stripe",
        created_at=MOMENT,
        last_activity_at=MOMENT,
        expires_at=datetime(2025, 3, 11, 5, 6, 7, tzinfo=UTC),
        request_count=3,
        kept_count=2,
        dropped_count=1,
        refused_count=4,
    )


# A Request


def test_request_json_has_exactly_the_contract_keys(make_request):
    assert set(request_json(make_request())) == REQUEST_KEYS


def test_request_detail_json_adds_the_whole_body(make_request):
    assert set(request_detail_json(make_request())) == REQUEST_KEYS | {
        "body_text",
        "body_base64",
        "body_sha256",
        "body_kept",
        "body_preview_cut",
        "content_encoding",
        "body_decoded",
    }


def test_request_json_values(make_request, bin_id):
    req = make_request(
        body=b'{"a": 1}',
        method="PROPFIND",
        query_string="x=1&x=2",
        headers=[["Host", "hooks.example.com"], ["X-Foo", "1"], ["x-foo", "2"]],
        content_type="application/json",
    )
    assert request_json(req) == {
        "id": 7,
        "bin": bin_id,
        "method": "PROPFIND",
        "url": f"https://hooks.example.com/b/{bin_id}/orders?x=1&x=2",
        "path": "/orders",
        "query_string": "x=1&x=2",
        "query": [["x", "1"], ["x", "2"]],
        "headers": [["Host", "hooks.example.com"], ["X-Foo", "1"], ["x-foo", "2"]],
        "masked_headers": [],
        "content_type": "application/json",
        "body_size": 8,
        "body_truncated": False,
        "body_preview": '{"a": 1}',
        "body_preview_truncated": False,
        "remote_addr": "203.0.113.9",
        "received_at": "2025-03-04T05:06:07.890123Z",
        "response": None,
        "signature": None,
    }


SECRET_HEADERS = [
    ["Authorization", "Bearer sk_live_1"],
    ["cookie", "session=abc"],
    ["PROXY-AUTHORIZATION", "Basic eDp5"],
    ["X-Api-Key", "k-123"],
    ["X-Other", "visible"],
]


def test_masking_hides_the_values_of_sensitive_headers_whatever_their_case(make_request):
    req = make_request(headers=SECRET_HEADERS)
    masked = masked_names(Bin(mask_headers=True))
    data = request_detail_json(req, masked)
    assert data["headers"] == [
        ["Authorization", MASK],
        ["cookie", MASK],
        ["PROXY-AUTHORIZATION", MASK],
        ["X-Api-Key", "k-123"],
        ["X-Other", "visible"],
    ]
    assert data["masked_headers"] == ["Authorization", "cookie", "PROXY-AUTHORIZATION"]
    assert "sk_live_1" not in json.dumps(data)
    assert req.headers == SECRET_HEADERS  # what is stored does not change


def test_masking_takes_a_bins_own_extra_names(make_request):
    bin = Bin(mask_headers=True, mask_extra="x-api-key, x-signature")
    data = request_json(make_request(headers=SECRET_HEADERS), masked_names(bin))
    assert dict(data["headers"])["X-Api-Key"] == MASK
    assert dict(data["headers"])["X-Other"] == "visible"


def test_masking_takes_the_configured_extra_names(make_request, settings):
    settings.INSPECTOR_SENSITIVE_HEADERS = [*settings.INSPECTOR_SENSITIVE_HEADERS, "x-other"]
    data = request_json(make_request(headers=SECRET_HEADERS), masked_names(Bin(mask_headers=True)))
    assert dict(data["headers"])["X-Other"] == MASK


def test_a_bin_without_masking_shows_every_value(make_request):
    bin = Bin(mask_headers=False, mask_extra="x-api-key")
    assert masked_names(bin) == frozenset()
    data = request_json(make_request(headers=SECRET_HEADERS), masked_names(bin))
    assert data["headers"] == SECRET_HEADERS and data["masked_headers"] == []


def test_request_json_is_json_serializable(make_request):
    req = make_request(body=bytes(range(256)), headers=[["X-Raw", "\x00\xff"]])
    json.dumps(request_detail_json(req))


def test_received_at_always_has_six_fraction_digits_and_a_z(make_request):
    req = make_request(received_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert request_json(req)["received_at"] == "2025-01-02T03:04:05.000000Z"
    req = make_request(received_at=datetime(2025, 1, 2, 3, 4, 5, 7, tzinfo=UTC))
    assert request_json(req)["received_at"] == "2025-01-02T03:04:05.000007Z"


@pytest.mark.parametrize(
    ("query_string", "pairs"),
    [
        ("", []),
        ("a=1&a=2&b=3&a=4", [["a", "1"], ["a", "2"], ["b", "3"], ["a", "4"]]),
        ("flag&empty=", [["flag", ""], ["empty", ""]]),
        ("q=hello+world&p=%2Fa%2Fb", [["q", "hello world"], ["p", "/a/b"]]),
        ("name=%E2%82%AC", [["name", "€"]]),
        ("a=1;b=2", [["a", "1;b=2"]]),
    ],
)
def test_query_pairs_keep_repeats_order_and_blanks(make_request, query_string, pairs):
    assert request_json(make_request(query_string=query_string))["query"] == pairs


@pytest.mark.parametrize(
    ("path", "query_string", "tail"),
    [
        ("", "", ""),
        ("/", "", "/"),
        ("/a%2Fb/c", "", "/a%2Fb/c"),
        ("/x", "a=1&a=2", "/x?a=1&a=2"),
        ("", "a=%20", "?a=%20"),
    ],
)
def test_url_is_absolute_and_as_received(make_request, bin_id, path, query_string, tail):
    req = make_request(scheme="http", host="127.0.0.1:8711", path=path, query_string=query_string)
    assert request_json(req)["url"] == f"http://127.0.0.1:8711/b/{bin_id}{tail}"


def test_body_preview_is_null_for_a_binary_body(make_request):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    body = request_json(make_request(body=png))
    assert body["body_preview"] is None
    assert body["body_preview_truncated"] is False


def test_body_preview_is_null_for_text_with_a_nul_byte(make_request):
    assert request_json(make_request(body=b"abc\x00def"))["body_preview"] is None


def test_body_preview_is_null_for_invalid_utf8(make_request):
    assert request_json(make_request(body=b"caf\xe9"))["body_preview"] is None


def test_body_preview_of_an_empty_body_is_empty_text(make_request):
    body = request_json(make_request(body=b""))
    assert body["body_preview"] == ""
    assert body["body_preview_truncated"] is False


def test_body_preview_of_a_short_text_body_is_the_whole_body(make_request):
    body = request_json(make_request(body="grüße €".encode()))
    assert body["body_preview"] == "grüße €"
    assert body["body_preview_truncated"] is False


def test_body_preview_stops_at_2_kib(make_request):
    body = request_json(make_request(body=b"a" * 5000))
    assert PREVIEW_BYTES == 2048
    assert body["body_preview"] == "a" * 2048
    assert body["body_preview_truncated"] is True


def test_a_body_of_exactly_2_kib_is_previewed_whole(make_request):
    body = request_json(make_request(body=b"a" * 2048))
    assert body["body_preview"] == "a" * 2048
    assert body["body_preview_truncated"] is False


@pytest.mark.parametrize("char", ["é", "€", "😀"])
def test_body_preview_does_not_break_a_multibyte_character_at_the_cut(make_request, char):
    text = char * 3000
    body = request_json(make_request(body=text.encode()))
    preview = body["body_preview"]
    assert preview == char * (2048 // len(char.encode()))
    assert len(preview.encode()) <= 2048
    assert body["body_preview_truncated"] is True


def test_body_preview_of_text_followed_by_binary_past_the_cut_is_the_text(make_request):
    body = request_json(make_request(body=b"a" * 2048 + b"\xff\x00"))
    assert body["body_preview"] == "a" * 2048
    assert body["body_preview_truncated"] is True


def test_body_text_is_the_whole_text_body(make_request):
    text = "€" * 3000
    assert request_detail_json(make_request(body=text.encode()))["body_text"] == text


def test_body_text_is_null_for_a_binary_body(make_request):
    assert request_detail_json(make_request(body=b"\xff\xd8\xff\xe0"))["body_text"] is None


@pytest.fixture
def cut_text_request(make_request):
    """A text body that capture cut in the middle of a 3-byte character."""
    body = ("€" * 1000).encode()[:1000]
    return make_request(body=body, body_size=3000, body_truncated=True)


def test_body_text_of_a_body_cut_mid_character_at_capture_is_still_text(cut_text_request):
    assert request_detail_json(cut_text_request)["body_text"] == "€" * 333


def test_body_preview_of_a_body_cut_mid_character_at_capture_is_still_text(cut_text_request):
    assert request_json(cut_text_request)["body_preview"] == "€" * 333


@pytest.mark.parametrize(
    "body", [b"", b"plain", bytes(range(256)), "€".encode() * 1000, b"\x00" * 10]
)
def test_body_base64_round_trips(make_request, body):
    detail = request_detail_json(make_request(body=body))
    assert base64.b64decode(detail["body_base64"], validate=True) == body


def test_body_base64_accepts_a_memoryview_body(make_request):
    # What some database drivers hand back for a BinaryField.
    detail = request_detail_json(make_request(body=memoryview(b"\x00\x01binary")))
    assert base64.b64decode(detail["body_base64"]) == b"\x00\x01binary"
    assert detail["body_text"] is None


# A Bin


def test_bin_json_has_the_contract_keys(a_bin):
    assert set(bin_json(a_bin, "http://testserver")) >= BIN_KEYS


def test_bin_json_values(a_bin, bin_id):
    assert bin_json(a_bin, "http://127.0.0.1:8711") == {
        "id": bin_id,
        "name": "stripe",
        "url": f"http://127.0.0.1:8711/b/{bin_id}",
        "inspect_url": f"http://127.0.0.1:8711/bins/{bin_id}/",
        "ws_url": f"ws://127.0.0.1:8711/ws/bins/{bin_id}/",
        "created_at": "2025-03-04T05:06:07.890123Z",
        "last_activity_at": "2025-03-04T05:06:07.890123Z",
        "expires_at": "2025-03-11T05:06:07.000000Z",
        "request_count": 3,
        "kept_count": 2,
        "dropped_count": 1,
        "refused_count": 4,
        "max_requests": 1000,
        "private": False,
        "mask_headers": False,
        "mask_extra": "",
        "delivery_header": "",
        "keep": False,
        "signature": None,
        "response": None,
        "rules": [],
        "failures": None,
        "failures_since": 0,
        "cors": False,
        "forward_count": 0,
        "proxy": False,
        "proxy_timeout_ms": 10_000,
    }


def test_bin_json_uses_wss_behind_https(a_bin, bin_id):
    data = bin_json(a_bin, "https://inspector.example.com")
    assert data["url"] == f"https://inspector.example.com/b/{bin_id}"
    assert data["inspect_url"] == f"https://inspector.example.com/bins/{bin_id}/"
    assert data["ws_url"] == f"wss://inspector.example.com/ws/bins/{bin_id}/"


def test_base_url_comes_from_the_request_without_public_url(settings):
    settings.PUBLIC_URL = ""
    request = RequestFactory().get("/api/bins/x", HTTP_HOST="localhost:8000")
    assert base_url(request) == "http://localhost:8000"
    secure = RequestFactory().get("/api/bins/x", HTTP_HOST="localhost:8000", secure=True)
    assert base_url(secure) == "https://localhost:8000"


def test_bin_urls_come_from_public_url_when_set(settings, a_bin, bin_id):
    settings.PUBLIC_URL = "https://hooks.example.com/inspector"
    request = RequestFactory().get("/api/bins/x", HTTP_HOST="localhost")
    data = bin_json(a_bin, base_url(request))
    assert data["url"] == f"https://hooks.example.com/inspector/b/{bin_id}"
    assert data["inspect_url"] == f"https://hooks.example.com/inspector/bins/{bin_id}/"
    assert data["ws_url"] == f"wss://hooks.example.com/inspector/ws/bins/{bin_id}/"


# Bodies: previews and Content-Encoding


def test_a_preview_cuts_the_body_but_not_its_size_or_hash(make_request):
    body = b"0123456789" * 10
    data = request_detail_json(make_request(body=body), preview=25)
    assert base64.b64decode(data["body_base64"]) == body[:25]
    assert data["body_text"] == body[:25].decode()
    assert data["body_preview_cut"] is True
    assert data["body_kept"] == 100
    assert data["body_sha256"] == hashlib.sha256(body).hexdigest()
    whole = request_detail_json(make_request(body=body), preview=1000)
    assert whole["body_preview_cut"] is False


def test_a_preview_never_splits_a_character_into_nonsense(make_request):
    data = request_detail_json(make_request(body="é".encode() * 10), preview=5)
    assert data["body_text"] == "éé"  # the third é is cut in half: left out


def encoded(encoding, raw):
    if encoding == "gzip":
        return gzip.compress(raw)
    if encoding == "deflate":
        return zlib.compress(raw)
    return brotli.compress(raw)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "GZip"])
def test_a_compressed_body_comes_decoded_too(make_request, encoding):
    raw = b'{"event": "push", "padding": "' + b"x" * 5000 + b'"}'
    req = make_request(
        body=encoded(encoding.lower(), raw), headers=[["Content-Encoding", encoding]]
    )
    data = request_detail_json(req)
    assert data["content_encoding"] == encoding.lower()
    assert base64.b64decode(data["body_decoded"]["base64"]) == raw
    assert data["body_decoded"]["text"] == raw.decode()
    assert (data["body_decoded"]["size"], data["body_decoded"]["cut"]) == (len(raw), False)
    assert data["body_text"] is None  # the bytes as sent stay as they are


def test_raw_deflate_is_decoded_as_well(make_request):
    squeezer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw_deflate = squeezer.compress(b"hello raw deflate") + squeezer.flush()
    req = make_request(body=raw_deflate, headers=[["Content-Encoding", "deflate"]])
    assert request_detail_json(req)["body_decoded"]["text"] == "hello raw deflate"


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_a_compression_bomb_is_decoded_only_up_to_the_limit(make_request, settings, encoding):
    settings.INSPECTOR_MAX_BODY_BYTES = 1_000_000
    bomb = encoded(encoding, b"\x00" * 50_000_000)  # 50 MB from tens of kilobytes
    assert len(bomb) < 100_000
    req = make_request(body=bomb, headers=[["Content-Encoding", encoding]])
    decoded = request_detail_json(req)["body_decoded"]
    assert (decoded["size"], decoded["cut"]) == (1_000_000, True)


def test_a_body_that_is_not_what_its_encoding_says_is_explained(make_request):
    req = make_request(body=b"plain text", headers=[["Content-Encoding", "gzip"]])
    data = request_detail_json(req)
    assert "Content-Encoding: gzip" in data["body_decoded"]["error"]
    assert data["body_text"] == "plain text"


def test_an_encoding_we_do_not_undo_is_left_alone(make_request):
    req = make_request(body=b"abc", headers=[["Content-Encoding", "compress"]])
    data = request_detail_json(req)
    assert (data["content_encoding"], data["body_decoded"]) == ("compress", None)
