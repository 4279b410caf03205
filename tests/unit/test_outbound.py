"""The SSRF guard of bins.outbound and the stored form of its results."""

import base64
import ipaddress

import pytest

from bins.outbound import Result, check_address

REFUSED = [
    ("0.0.0.0", "an unspecified address"),
    ("::", "an unspecified address"),
    ("127.0.0.1", "a loopback address"),
    ("127.255.255.254", "a loopback address"),
    ("::1", "a loopback address"),
    ("10.0.0.5", "a private address"),
    ("172.16.0.1", "a private address"),
    ("172.31.255.255", "a private address"),
    ("192.168.1.1", "a private address"),
    ("fc00::1", "a private address"),
    ("fd00:ec2::254", "a private address"),  # AWS's IPv6 instance metadata
    ("fec0::1", "a private address"),  # site-local, which is_global calls global
    ("169.254.169.254", "a link-local address"),  # cloud instance metadata
    ("169.254.0.1", "a link-local address"),
    ("fe80::1", "a link-local address"),
    ("100.64.0.1", "a shared address (carrier-grade NAT)"),
    ("100.100.100.200", "a shared address (carrier-grade NAT)"),  # Alibaba's metadata
    ("224.0.0.1", "a multicast address"),
    ("239.255.255.250", "a multicast address"),
    ("ff02::1", "a multicast address"),
    ("240.0.0.1", "a reserved address"),
    ("255.255.255.255", "a reserved address"),
    ("::127.0.0.1", "a reserved address"),  # IPv4-compatible, deprecated
    ("64:ff9b:1::a00:1", "a reserved address"),  # local-use NAT64
    ("0.1.2.3", "a special-purpose address"),
    ("192.0.2.1", "a special-purpose address"),
    ("198.18.0.1", "a special-purpose address"),
    ("2001:db8::1", "a special-purpose address"),
]

# The IPv4 address inside reaches the same host: IPv4-mapped, 6to4, NAT64.
EMBEDDED = [
    ("::ffff:127.0.0.1", "a loopback address"),
    ("::ffff:0.0.0.0", "an unspecified address"),
    ("::ffff:10.0.0.5", "a private address"),
    ("::ffff:169.254.169.254", "a link-local address"),
    ("::ffff:100.64.0.1", "a shared address (carrier-grade NAT)"),
    ("::ffff:224.0.0.1", "a multicast address"),
    ("::ffff:240.0.0.1", "a reserved address"),
    ("2002:7f00:1::", "a loopback address"),
    ("2002:a9fe:a9fe::", "a link-local address"),
    ("64:ff9b::a9fe:a9fe", "a link-local address"),
    ("64:ff9b::10.0.0.1", "a private address"),
]

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "2002:808:808::",
    "64:ff9b::8.8.8.8",
]


@pytest.mark.parametrize(("ip", "kind"), REFUSED)
def test_it_refuses_each_special_range(ip, kind):
    assert check_address(ip, []) == f"{ipaddress.ip_address(ip)} is {kind}"


@pytest.mark.parametrize(("ip", "kind"), EMBEDDED)
def test_it_refuses_ipv6_forms_of_refused_ipv4_addresses(ip, kind):
    assert check_address(ip, []).endswith(f" is {kind}")


@pytest.mark.parametrize("ip", PUBLIC)
def test_it_lets_public_addresses_through(ip):
    assert check_address(ip, []) is None


def test_it_names_the_ipv4_address_inside_a_mapped_one():
    assert check_address("::ffff:127.0.0.1", []) == (
        "::ffff:7f00:1 (127.0.0.1) is a loopback address"
    )


def test_it_takes_address_objects():
    assert check_address(ipaddress.ip_address("10.0.0.5"), []) == "10.0.0.5 is a private address"


@pytest.mark.parametrize(
    ("ip", "allow"),
    [
        ("10.0.0.5", ["10.0.0.0/8"]),
        ("192.168.1.20", ["192.168.1.0/24"]),
        ("192.168.1.20", ["192.168.1.20"]),
        ("127.0.0.1", ["127.0.0.0/8"]),
        ("fd12:3456::1", ["fd12:3456::/32"]),
        ("10.0.0.5", [ipaddress.ip_network("10.0.0.0/8")]),
        ("10.0.0.5", ["10.0.0.1/8"]),  # host bits set, as people write it
    ],
)
def test_it_lets_an_allowed_network_through(ip, allow):
    assert check_address(ip, allow) is None


@pytest.mark.parametrize(
    ("ip", "allow"),
    [
        ("10.0.0.5", ["192.168.0.0/16"]),
        ("192.168.2.1", ["192.168.1.0/24"]),
        ("169.254.169.254", ["10.0.0.0/8"]),
        ("::1", ["127.0.0.0/8"]),
    ],
)
def test_it_refuses_what_the_allowed_networks_do_not_cover(ip, allow):
    assert check_address(ip, allow) is not None


@pytest.mark.parametrize("ip", ["::ffff:127.0.0.1", "2002:7f00:1::", "64:ff9b::127.0.0.1"])
def test_an_allowed_ipv4_network_opens_its_ipv6_forms(ip):
    assert check_address(ip, ["127.0.0.0/8"]) is None


def test_it_stores_a_utf8_body_as_text():
    result = Result(status=200, headers=[["Content-Type", "text/plain"]], body="héllo".encode())
    assert result.to_json() == {
        "status": 200,
        "headers": [["Content-Type", "text/plain"]],
        "body": "héllo",
        "body_base64": False,
        "body_size": 6,  # bytes
        "body_truncated": False,
        "duration_ms": 0,
        "error": None,
    }


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00binary",
        b"text with a NUL \x00 in it",  # PostgreSQL's JSONB refuses \u0000
        "cut in the middle of é".encode()[:-1],
    ],
)
def test_it_stores_other_bodies_as_base64(body):
    stored = Result(status=200, body=body, body_truncated=True).to_json()
    assert stored["body_base64"] is True
    assert base64.b64decode(stored["body"]) == body
    assert stored["body_truncated"] is True


def test_it_stores_an_error_without_response():
    stored = Result(error="timed out after 10 s", duration_ms=10004).to_json()
    assert stored["status"] is None
    assert stored["body"] == ""
    assert stored["error"] == "timed out after 10 s"
    assert stored["duration_ms"] == 10004
