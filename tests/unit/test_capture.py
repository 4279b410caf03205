"""bins.capture: the raw ASGI scope and body -> an unsaved CapturedRequest."""

import base64
import json
import pickle
from dataclasses import fields
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bins.capture import Capture, build_request, client_address, split_capture_path
from bins.models import new_bin_id
from bins.serializers import request_detail_json

LIMIT = 1024


def capture(scope, body=b"", body_size=None, max_body_bytes=LIMIT, trusted_proxies=()):
    """What the capture app does with a scope: split the path, then build the record."""
    bin_id, path = split_capture_path(scope["raw_path"])
    return build_request(
        scope,
        body,
        len(body) if body_size is None else body_size,
        bin_id=bin_id,
        path=path,
        max_body_bytes=max_body_bytes,
        trusted_proxies=trusted_proxies,
    )


# split_capture_path


def test_it_splits_the_bin_id_from_the_rest_of_the_path(bin_id):
    assert split_capture_path(f"/b/{bin_id}/orders/42".encode()) == (bin_id, "/orders/42")


def test_it_tells_no_trailing_slash_from_a_trailing_slash(bin_id):
    assert split_capture_path(f"/b/{bin_id}".encode()) == (bin_id, "")
    assert split_capture_path(f"/b/{bin_id}/".encode()) == (bin_id, "/")


def test_it_keeps_percent_encoding_in_the_path(bin_id):
    raw = f"/b/{bin_id}/a%2Fb/%E2%82%AC/%ff/%20x".encode()
    assert split_capture_path(raw) == (bin_id, "/a%2Fb/%E2%82%AC/%ff/%20x")


def test_it_keeps_double_slashes_and_dots_in_the_path(bin_id):
    raw = f"/b/{bin_id}//a/../b/./c".encode()
    assert split_capture_path(raw) == (bin_id, "//a/../b/./c")


def test_it_keeps_a_very_long_path(bin_id):
    rest = "/" + "segment/" * 5000
    assert split_capture_path(f"/b/{bin_id}{rest}".encode()) == (bin_id, rest)


@pytest.mark.parametrize(
    "raw",
    [
        b"/b/ab",  # a URL name has 3 characters at least
        b"/b/" + b"a" * 41,  # and 40 at most
        b"/b/ABCDEFGHIJKLMNOP",  # uppercase
        b"/b/stripe_live",  # "_" is in neither a random id nor a URL name
        b"/b/-stripe",  # a hyphen only inside a name
        b"/b/stripe-",
        b"/b/abcdefghijklm%70",  # encoded characters are not decoded into an id
        b"/b/abcdefghijklmn\xe9p",
        b"/b/",
        b"/b",
        b"/",
        b"/x/abcdefghijklmnop",
        b"/bins/abcdefghijklmnop/",
        b"/api/bins/abcdefghijklmnop",
        b"b/abcdefghijklmnop",
        b"//b/abcdefghijklmnop",
    ],
)
def test_it_refuses_a_path_that_is_not_a_bin(raw):
    assert split_capture_path(raw) is None


def test_it_accepts_every_character_of_the_id_alphabet():
    assert split_capture_path(b"/b/abcdefghijklmnop") == ("abcdefghijklmnop", "")
    assert split_capture_path(b"/b/qrstuvwxyz234567/") == ("qrstuvwxyz234567", "/")


def test_it_accepts_every_generated_id():
    for _ in range(200):
        bin_id = new_bin_id()
        assert split_capture_path(f"/b/{bin_id}".encode()) == (bin_id, "")


# build_request: body


def test_it_keeps_a_binary_body_byte_for_byte(make_scope):
    body = bytes(range(256)) * 3
    record = capture(make_scope(), body)
    assert bytes(record.body) == body
    assert record.body_size == 768
    assert record.body_truncated is False


def test_it_keeps_an_invalid_utf8_body(make_scope):
    body = b'{"name": "caf\xe9"}\xff\xfe'
    record = capture(make_scope(headers=[(b"content-type", b"application/json")]), body)
    assert bytes(record.body) == body
    assert record.content_type == "application/json"


def test_it_keeps_an_empty_body(make_scope):
    record = capture(make_scope(method="GET"), b"")
    assert bytes(record.body) == b""
    assert record.body_size == 0
    assert record.body_truncated is False


def test_it_cuts_an_oversized_body_and_keeps_its_real_size(make_scope):
    body = b"x" * (LIMIT + 500)
    record = capture(make_scope(), body)
    assert bytes(record.body) == b"x" * LIMIT
    assert record.body_size == LIMIT + 500
    assert record.body_truncated is True


def test_it_trusts_the_size_that_was_sent_when_the_body_arrives_already_cut(make_scope):
    # inspector.server keeps only max_body_bytes and reports what the sender sent.
    record = capture(make_scope(), b"y" * LIMIT, body_size=5_000_000)
    assert len(bytes(record.body)) == LIMIT
    assert record.body_size == 5_000_000
    assert record.body_truncated is True


def test_a_body_of_exactly_the_limit_is_not_truncated(make_scope):
    record = capture(make_scope(), b"z" * LIMIT)
    assert len(bytes(record.body)) == LIMIT
    assert record.body_truncated is False


def test_it_stores_the_body_as_bytes_even_when_given_a_bytearray(make_scope):
    record = capture(make_scope(), bytearray(b"abc"))
    assert type(record.body) is bytes
    assert record.body == b"abc"


# build_request: headers


def test_it_keeps_duplicate_headers_in_order(make_scope):
    headers = [
        (b"x-foo", b"1"),
        (b"x-bar", b"a"),
        (b"x-foo", b"2"),
        (b"set-cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
    ]
    record = capture(make_scope(headers=headers))
    assert record.headers == [
        ["x-foo", "1"],
        ["x-bar", "a"],
        ["x-foo", "2"],
        ["set-cookie", "a=1"],
        ["set-cookie", "b=2"],
    ]


def test_it_takes_headers_as_they_arrived_from_the_capture_extension(make_scope):
    # Daphne lowercases names, drops names with "_" and regroups repeats; our
    # server hands the wire order and spelling over in the scope extension.
    daphne_headers = [(b"x-foo", b"1"), (b"x-foo", b"2"), (b"x-bar", b"a")]
    wire = [
        (b"X-Foo", b"1"),
        (b"X-Bar", b"a"),
        (b"X_Api_Key", b"secret"),
        (b"x-foo", b"2"),
        (b"Content-Type", b"text/plain"),
    ]
    scope = make_scope(headers=daphne_headers, capture={"headers": wire, "body_size": 0})
    record = capture(scope)
    assert record.headers == [
        ["X-Foo", "1"],
        ["X-Bar", "a"],
        ["X_Api_Key", "secret"],
        ["x-foo", "2"],
        ["Content-Type", "text/plain"],
    ]
    assert record.content_type == "text/plain"


def test_it_falls_back_to_the_scope_headers_without_the_extension(make_scope):
    scope = make_scope(headers=[(b"content-type", b"text/csv"), (b"x-id", b"7")])
    assert "extensions" not in scope
    record = capture(scope)
    assert record.headers == [["content-type", "text/csv"], ["x-id", "7"]]
    assert record.content_type == "text/csv"


def test_it_falls_back_to_the_scope_headers_when_other_extensions_are_present(make_scope):
    scope = make_scope(headers=[(b"x-id", b"7")])
    scope["extensions"] = {"http.response.trailers": {}}
    assert capture(scope).headers == [["x-id", "7"]]


def test_it_decodes_header_bytes_as_latin1(make_scope):
    headers = [(b"x-utf8", "Å €".encode()), (b"x-raw", b"\x00\x7f\x80\xff")]
    record = capture(make_scope(headers=headers))
    assert [value.encode("latin-1") for _, value in record.headers] == [
        "Å €".encode(),
        b"\x00\x7f\x80\xff",
    ]


def test_it_takes_the_first_content_type_whatever_its_case(make_scope):
    headers = [(b"CONTENT-TYPE", b"application/xml"), (b"content-type", b"text/plain")]
    assert capture(make_scope(capture={"headers": headers, "body_size": 0})).content_type == (
        "application/xml"
    )


def test_it_has_an_empty_content_type_when_none_was_sent(make_scope):
    assert capture(make_scope()).content_type == ""


# build_request: request line


@pytest.mark.parametrize(
    "method", ["GET", "POST", "PROPFIND", "M-SEARCH", "BREW", "MKCALENDAR", "get", "X_CUSTOM"]
)
def test_it_keeps_the_method_as_sent(make_scope, method):
    assert capture(make_scope(method=method)).method == method


def test_it_keeps_repeated_query_keys_in_the_raw_query_string(make_scope):
    record = capture(make_scope(query_string=b"a=1&a=2&b=&c&a=%2F+x"))
    assert record.query_string == "a=1&a=2&b=&c&a=%2F+x"


def test_it_keeps_the_path_below_the_bin_exactly_as_sent(make_scope):
    record = capture(make_scope(path=b"/a%2Fb/%E2%82%AC;x=1"))
    assert record.path == "/a%2Fb/%E2%82%AC;x=1"


@pytest.mark.parametrize(("path", "stored"), [(b"", ""), (b"/", "/"), (b"/x/", "/x/")])
def test_it_stores_the_trailing_slash_as_sent(make_scope, path, stored):
    assert capture(make_scope(path=path)).path == stored


def test_it_keeps_a_very_long_path_and_query(make_scope):
    path = b"/" + b"a" * 20_000
    query = b"q=" + b"b" * 20_000
    record = capture(make_scope(path=path, query_string=query))
    assert record.path == path.decode()
    assert record.query_string == query.decode()


def test_it_takes_the_host_from_the_host_header(make_scope):
    record = capture(make_scope(headers=[(b"host", b"hooks.example.com:8443")], scheme="https"))
    assert record.host == "hooks.example.com:8443"
    assert record.scheme == "https"


def test_it_falls_back_to_the_server_address_without_a_host_header(make_scope):
    assert capture(make_scope(server=("127.0.0.1", 8711))).host == "127.0.0.1:8711"


def test_it_defaults_the_scheme_to_http(make_scope):
    scope = make_scope()
    del scope["scheme"]
    assert capture(scope).scheme == "http"


def test_it_records_the_bin_and_leaves_the_record_unsaved(make_scope, bin_id):
    record = capture(make_scope())
    assert record.bin_id == bin_id
    assert record.pk is None


def test_it_stamps_the_receive_time_in_utc_with_microseconds(make_scope):
    before = datetime.now(UTC)
    record = capture(make_scope())
    after = datetime.now(UTC)
    assert record.received_at.utcoffset().total_seconds() == 0
    assert before <= record.received_at <= after
    later = capture(make_scope())
    assert later.received_at >= record.received_at
    rendered = request_detail_json(record)["received_at"]
    assert rendered == record.received_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_a_record_reaches_the_writer_process_with_every_field(make_scope):
    record = capture(make_scope(), body=b"\x00\xff body")
    record.id, record.refused_for, record.masked = 7, 1.5, frozenset({"authorization"})
    record.response, record.cors, record.proxy = {"status": 201}, True, (7, "lease", 500)
    copy = pickle.loads(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
    assert copy == record
    assert [getattr(copy, f.name) for f in fields(Capture)] == [
        getattr(record, f.name) for f in fields(Capture)
    ]


# client_address


def test_it_takes_the_peer_address_without_trusted_proxies():
    headers = [["X-Forwarded-For", "198.51.100.7"]]
    assert client_address(("203.0.113.9", 4000), headers) == "203.0.113.9"


def test_it_ignores_forwarded_for_from_a_peer_that_is_not_trusted():
    headers = [["x-forwarded-for", "198.51.100.7"]]
    assert client_address(("203.0.113.9", 4000), headers, ["10.0.0.0/8"]) == "203.0.113.9"


def test_it_honours_forwarded_for_from_a_trusted_proxy():
    headers = [["x-forwarded-for", "198.51.100.7"]]
    assert client_address(("127.0.0.1", 4000), headers, ["127.0.0.1"]) == "198.51.100.7"


def test_it_matches_trusted_proxies_by_cidr():
    headers = [["x-forwarded-for", "198.51.100.7"]]
    assert client_address(("10.1.2.3", 4000), headers, ["10.0.0.0/8"]) == "198.51.100.7"
    assert client_address(("11.1.2.3", 4000), headers, ["10.0.0.0/8"]) == "11.1.2.3"


def test_it_takes_the_right_most_hop_that_is_not_a_trusted_proxy():
    # The left entries are whatever the sender wrote; only the right end is ours.
    headers = [["X-Forwarded-For", "1.1.1.1, 198.51.100.7, 10.0.0.2, 10.0.0.3"]]
    assert client_address(("10.0.0.4", 4000), headers, ["10.0.0.0/8"]) == "198.51.100.7"


def test_it_reads_repeated_forwarded_for_headers_in_order():
    headers = [
        ["x-forwarded-for", "1.1.1.1"],
        ["x-other", "2.2.2.2"],
        ["X-Forwarded-For", "198.51.100.7, 10.0.0.2"],
    ]
    assert client_address(("10.0.0.4", 4000), headers, ["10.0.0.0/8"]) == "198.51.100.7"


def test_it_does_not_let_a_sender_spoof_its_address_through_a_trusted_proxy():
    headers = [["x-forwarded-for", "127.0.0.1, 198.51.100.7"]]
    assert client_address(("127.0.0.1", 4000), headers, ["127.0.0.0/8"]) == "198.51.100.7"


def test_it_falls_back_to_the_peer_when_the_hop_is_not_an_address():
    headers = [["x-forwarded-for", "1.1.1.1, unknown"]]
    assert client_address(("10.0.0.4", 4000), headers, ["10.0.0.0/8"]) == "10.0.0.4"


def test_it_falls_back_to_the_peer_when_a_trusted_proxy_sends_no_forwarded_for():
    assert client_address(("10.0.0.4", 4000), [], ["10.0.0.0/8"]) == "10.0.0.4"


def test_it_takes_the_left_most_hop_when_every_hop_is_trusted():
    headers = [["x-forwarded-for", "10.0.0.1, 10.0.0.2"]]
    assert client_address(("10.0.0.4", 4000), headers, ["10.0.0.0/8"]) == "10.0.0.1"


def test_it_handles_ipv6_proxies_and_clients():
    headers = [["x-forwarded-for", "2001:db8::7, fd00::2"]]
    assert client_address(("::1", 4000), headers, ["::1", "fd00::/8"]) == "2001:db8::7"


def test_it_trusts_an_ipv4_proxy_seen_through_a_dual_stack_socket():
    # A server bound to [::] sees IPv4 peers as IPv4-mapped IPv6 addresses.
    headers = [["x-forwarded-for", "198.51.100.7"]]
    assert client_address(("::ffff:127.0.0.1", 4000), headers, ["127.0.0.1"]) == "198.51.100.7"


def test_it_has_an_empty_address_without_a_client():
    assert client_address(None, [], ["10.0.0.0/8"]) == ""


def test_build_request_honours_trusted_proxies(make_scope):
    scope = make_scope(
        client=("10.0.0.4", 4000), headers=[(b"x-forwarded-for", b"198.51.100.7, 10.0.0.3")]
    )
    assert capture(scope).remote_addr == "10.0.0.4"
    assert capture(scope, trusted_proxies=["10.0.0.0/8"]).remote_addr == "198.51.100.7"


def test_build_request_reads_forwarded_for_from_the_capture_extension(make_scope):
    wire = [(b"X-Forwarded-For", b"198.51.100.7")]
    scope = make_scope(client=("10.0.0.4", 4000), capture={"headers": wire, "body_size": 0})
    assert capture(scope, trusted_proxies=["10.0.0.0/8"]).remote_addr == "198.51.100.7"


# Every byte survives: build_request -> JSON -> back to bytes.

header_bytes = st.binary(max_size=64)


@given(
    body=st.binary(max_size=4096),
    headers=st.lists(st.tuples(st.binary(min_size=1, max_size=32), header_bytes), max_size=8),
    query=st.binary(max_size=64),
)
def test_any_body_and_header_bytes_survive_a_json_round_trip(body, headers, query):
    bin_id = "abcdefghijklmnop"
    scope = {
        "type": "http",
        "method": "POST",
        "raw_path": f"/b/{bin_id}/x".encode(),
        "path": f"/b/{bin_id}/x",
        "query_string": query,
        "headers": headers,
        "client": ("203.0.113.9", 1),
    }
    record = capture(scope, body, max_body_bytes=len(body) + 1)
    record.id = 1
    sent = json.loads(json.dumps(request_detail_json(record)))
    assert [(n.encode("latin-1"), v.encode("latin-1")) for n, v in sent["headers"]] == headers
    assert sent["query_string"].encode("latin-1") == query
    assert base64.b64decode(sent["body_base64"]) == body
    assert sent["body_size"] == len(body)


def test_it_reads_the_standard_forwarded_header_from_a_trusted_proxy():
    headers = [["Forwarded", 'for=198.51.100.7;proto=https, for="[2001:db8::1]:4711"']]
    assert client_address(("10.0.0.4", 4000), headers, ["10.0.0.0/8"]) == "2001:db8::1"
    headers = [["forwarded", "For=198.51.100.7:8080;by=10.0.0.1, for=10.0.0.2"]]
    assert client_address(("10.0.0.4", 4000), headers, ["10.0.0.0/8"]) == "198.51.100.7"


def test_it_ignores_the_forwarded_header_from_a_peer_that_is_not_trusted():
    headers = [["Forwarded", "for=198.51.100.7"]]
    assert client_address(("203.0.113.9", 4000), headers, ["10.0.0.0/8"]) == "203.0.113.9"
    assert client_address(("203.0.113.9", 4000), headers) == "203.0.113.9"


def test_an_obfuscated_or_unknown_forwarded_node_falls_back_to_the_peer():
    for value in ("for=unknown", "for=_hidden", 'for="_gazonk"'):
        assert client_address(("10.0.0.4", 4000), [["Forwarded", value]], ["10.0.0.0/8"]) == (
            "10.0.0.4"
        )


def test_x_forwarded_for_wins_over_forwarded_when_both_are_sent():
    headers = [["Forwarded", "for=192.0.2.60"], ["X-Forwarded-For", "198.51.100.7"]]
    assert client_address(("10.0.0.4", 4000), headers, ["10.0.0.0/8"]) == "198.51.100.7"


@pytest.mark.parametrize("name", ["abc", "stripe-live", "a" * 40, "abcdefghijklmno1", "x9-y"])
def test_it_takes_a_url_name_in_place_of_a_random_id(name):
    assert split_capture_path(f"/b/{name}/hook".encode()) == (name, "/hook")
