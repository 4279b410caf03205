"""inspector.origins: websocket origins checked by scheme, host and port."""

import pytest

from inspector.origins import normalize_origin, origin_allowed

HOSTS = ["localhost", "127.0.0.1", "[::1]", "example.com"]
SERVER = "127.0.0.1:8711"


def allowed(origin, host=SERVER, secure=False, extra=()):
    return origin_allowed(origin, host, secure, HOSTS, list(extra))


def test_it_allows_the_same_origin():
    assert allowed("http://127.0.0.1:8711")


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost:1234",  # same machine, other port: Channels' validator let it in
        "http://localhost:8711",  # another host name for the same server
        "https://127.0.0.1",
        "https://127.0.0.1:8711",  # other scheme
        "http://127.0.0.1",
        "http://127.0.0.1:8712",
        "http://evil.example",
        "http://127.0.0.1.evil.example:8711",
    ],
)
def test_it_refuses_another_scheme_host_or_port(origin):
    assert not allowed(origin)


def test_it_allows_a_missing_origin():
    # No Origin header: not a browser, so no cross-site risk.
    assert allowed(None)


def test_it_refuses_a_host_that_is_not_allowed_even_from_the_same_origin():
    # DNS rebinding: evil.example resolves to us, page and socket share its origin.
    assert not allowed("http://evil.example:8711", host="evil.example:8711")


def test_it_refuses_a_host_that_is_not_allowed_even_for_an_extra_origin():
    extra = ["https://inspector.example.com"]
    assert not allowed("https://inspector.example.com", host="evil.example", extra=extra)


@pytest.mark.parametrize("host", ["", ":8711", "127.0.0.1:8711@evil.example", "bad host"])
def test_it_refuses_a_malformed_host(host):
    assert not allowed("http://127.0.0.1:8711", host=host)


def test_it_honours_extra_origins():
    extra = ["https://inspector.example.com", "http://localhost:3000"]
    assert allowed("https://inspector.example.com", extra=extra)
    assert allowed("http://localhost:3000", extra=extra)
    assert not allowed("http://localhost:3001", extra=extra)
    assert not allowed("http://inspector.example.com", extra=extra)


def test_extra_origins_compare_default_ports_and_case():
    assert allowed("https://INSPECTOR.example.com:443", extra=["https://inspector.example.com"])


@pytest.mark.parametrize(
    "origin",
    [
        "",
        "null",
        "127.0.0.1:8711",
        "//127.0.0.1:8711",
        "http://",
        "http://:8711",
        "http://127.0.0.1:99999",
        "http://127.0.0.1:port",
        "http://[::1",
        "ftp://127.0.0.1:8711",
        "ws://127.0.0.1:8711",
        "javascript:alert(1)",
        "file://",
    ],
)
def test_it_refuses_a_malformed_origin(origin):
    assert not allowed(origin)


@pytest.mark.parametrize(
    ("origin", "host", "secure"),
    [
        ("http://example.com", "example.com:80", False),
        ("http://example.com:80", "example.com", False),
        ("https://example.com", "example.com:443", True),
        ("https://example.com:443", "example.com", True),
    ],
)
def test_default_ports_are_equivalent(origin, host, secure):
    assert allowed(origin, host=host, secure=secure)


def test_a_default_port_of_one_scheme_is_not_the_other():
    assert not allowed("http://example.com:443", host="example.com", secure=True)
    assert not allowed("https://example.com:80", host="example.com", secure=False)


def test_the_scheme_follows_the_connection():
    assert not allowed("http://example.com", host="example.com", secure=True)
    assert allowed("https://example.com", host="example.com", secure=True)


def test_host_names_compare_case_insensitively():
    assert allowed("http://EXAMPLE.com", host="example.com")
    assert allowed("http://example.com", host="Example.COM")


def test_ipv6_hosts_compare_by_port_too():
    assert allowed("http://[::1]:8711", host="[::1]:8711")
    assert not allowed("http://[::1]:8712", host="[::1]:8711")


def test_normalize_origin():
    assert normalize_origin("https://Example.com") == ("https", "example.com", 443)
    assert normalize_origin("http://example.com:8080") == ("http", "example.com", 8080)
    assert normalize_origin("http://[::1]") == ("http", "::1", 80)
    assert normalize_origin("null") is None
