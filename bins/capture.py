"""Turn one ASGI request (scope and body) into an unsaved Capture.

Pure functions, no I/O: everything arrives as arguments. Everything is taken from
the raw scope, never from Django's request, which joins duplicate headers,
decodes the path and uppercases the method (PITFALLS.md).
"""

import ipaddress
import re
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from operator import attrgetter

from django.utils import timezone

from .models import is_bin_id

CAPTURE_PREFIX = b"/b/"
# inspector.server puts the headers exactly as they arrived here (names in their
# original case, names with "_" kept, in order), plus the real body size.
SCOPE_EXTENSION = "inspector.capture"


@dataclass(slots=True)
class Capture:
    """One captured request, before and after the writer stores it: the columns
    of CapturedRequest, without the ~20 us a model instance costs on the hot path."""

    bin_id: str
    method: str
    scheme: str
    host: str
    path: str
    query_string: str
    headers: list
    body: bytes
    body_size: int
    body_truncated: bool
    content_type: str
    remote_addr: str
    received_at: datetime
    id: int | None = None
    # Set by the rate limits: the seconds until it would have passed. Not stored.
    refused_for: float = 0.0
    # Set by the writer once stored: the header names its bin masks (not stored), and
    # what its bin answers: the response (stored with it) and CORS (not stored).
    masked: frozenset = frozenset()
    response: dict | None = None
    cors: bool = False
    # Set by the writer: its bin's signature Judge (bins.signing), or None. Not stored.
    judge: object = None
    # Set by the writer when its bin forwards (bins.forwarding): whether it made
    # deliveries, and its proxied one (id, lease token, timeout in ms). Not stored.
    forwarded: bool = False
    proxy: tuple | None = None

    @property
    def pk(self):
        return self.id

    def __reduce__(self):
        # Every request is pickled to the writer process: as a tuple of its
        # fields that is all C, twice as fast as a slotted dataclass's own pickling.
        return Capture, _field_values(self)


_field_values = attrgetter(*(field.name for field in fields(Capture)))


def split_capture_path(raw_path):
    """`/b/<bin_id>[/rest]` -> (bin_id, rest) with rest exactly as sent, or None."""
    if not raw_path.startswith(CAPTURE_PREFIX):
        return None
    bin_id, slash, rest = raw_path[len(CAPTURE_PREFIX) :].partition(b"/")
    bin_id = bin_id.decode("latin-1")
    if not is_bin_id(bin_id):
        return None
    return bin_id, (slash + rest).decode("latin-1")


def raw_path_of(scope):
    raw_path = scope.get("raw_path")
    if raw_path is None:
        raw_path = scope["path"].encode("utf-8")
    return raw_path


def raw_headers_of(scope):
    """The request's headers as (name, value) byte pairs, as close to the wire as we have."""
    extension = scope.get("extensions", {}).get(SCOPE_EXTENSION)
    if extension is not None:
        return extension["headers"]
    return scope["headers"]


def decode_headers(raw_headers):
    # latin-1 maps every byte to one code point, so nothing is lost and bytes come back.
    return [[name.decode("latin-1"), value.decode("latin-1")] for name, value in raw_headers]


def header_value(headers, name):
    """The first value of a header (case-insensitive) from decoded pairs, or ""."""
    name = name.lower()
    for key, value in headers:
        if key.lower() == name:
            return value
    return ""


@lru_cache(maxsize=32)
def parse_networks(trusted):
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def is_trusted(address, networks):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # an IPv4 peer of a socket bound to [::]
    return any(ip in network for network in networks)


FORWARDED_FOR = re.compile(r'(?:^|[;,\s])for\s*=\s*("[^"]*"|[^;,\s]*)', re.IGNORECASE)


def forwarded_hops(value):
    """The `for=` addresses of an RFC 7239 Forwarded value, ports and brackets
    removed: 'for=192.0.2.1, for="[2001:db8::1]:4711"' -> ["192.0.2.1", "2001:db8::1"]."""
    hops = []
    for match in FORWARDED_FOR.finditer(value):
        node = match.group(1).strip('"')
        if node.startswith("["):
            node = node[1 : node.find("]")] if "]" in node else node
        elif node.count(":") == 1:
            node = node.split(":", 1)[0]
        hops.append(node)
    return hops


def client_address(client, headers, trusted_proxies=()):
    """The sender's address: the peer, or when the peer is a trusted proxy, the
    right-most X-Forwarded-For entry (or, without one, Forwarded `for=`) that is not
    itself a trusted proxy."""
    peer = client[0] if client else ""
    networks = parse_networks(tuple(trusted_proxies))
    if not networks or not is_trusted(peer, networks):
        return peer
    hops, standard = [], []
    for name, value in headers:
        if name.lower() == "x-forwarded-for":
            hops.extend(hop.strip() for hop in value.split(","))
        elif name.lower() == "forwarded":
            standard.extend(forwarded_hops(value))
    hops = hops or standard
    for hop in reversed(hops):
        if not is_trusted(hop, networks):
            return hop if _is_ip(hop) else peer
    return hops[0] if hops and _is_ip(hops[0]) else peer


def _is_ip(value):
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def build_request(scope, body, body_size, *, bin_id, path, max_body_bytes, trusted_proxies=()):
    """An unsaved Capture for `bin_id`. `body` may already be cut; `body_size`
    is the size that was sent. Bodies over `max_body_bytes` are kept cut to it."""
    headers = decode_headers(raw_headers_of(scope))
    host = header_value(headers, "host")
    if not host and scope.get("server"):
        host = "{}:{}".format(*scope["server"])
    return Capture(
        bin_id=bin_id,
        method=scope["method"],
        scheme=scope.get("scheme", "http"),
        host=host,
        path=path,
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=bytes(body[:max_body_bytes]),
        body_size=body_size,
        body_truncated=body_size > max_body_bytes,
        content_type=header_value(headers, "content-type"),
        remote_addr=client_address(scope.get("client"), headers, trusted_proxies),
        received_at=timezone.now(),
    )
