"""Outbound HTTP for server-side replay and forwarding, guarded against SSRF (issue 7).

    result = await outbound.send("POST", "https://hooks.example.com/in", headers, body)
    if result.error:        # plain words, e.g. "refused: 10.0.0.5 is a private address"
        ...
    stored = result.to_json()  # for a JSONField

    send(method, url, headers=(), body=b"", *, timeout=None, max_response_bytes=None,
         resolver=None, allow=None, follow_redirects=False)
        -> Result(status, headers, body, body_truncated, duration_ms, error)
    check_address(ip, allow=()) -> None, or why `ip` is refused

send() does not raise for anything the network or the target does: every failure is a
Result with `error` set, carrying the last response received, if any (for a refused
redirect, the 3xx that pointed there). `headers` are [name, value] pairs as captured
(str holding latin-1, or bytes), sent in order with duplicates. Host, Content-Length and
hop-by-hop headers among them are dropped: the client writes its own, from the URL and the
body. The response body is kept as received (not decompressed), at most
`max_response_bytes` of it; the rest is left unread and the connection closed.

The guard: a host name is resolved once, with `resolver` (called as
`await resolver(host, port, type=socket.SOCK_STREAM)`, answering as getaddrinfo does; by
default resolve(): getaddrinfo on DNS_THREADS threads of its own), and every address in the
answer must pass
check_address(), or nothing is sent. The connection then goes to a checked address itself,
never to the name, so a second DNS answer cannot differ (no rebinding). This happens in
the network backend under httpcore, the one place a socket is opened, so every connection
of every redirect hop passes it. HTTPS still sends SNI and verifies the certificate
against the URL's host name (the system CA store; SSL_CERT_FILE is honoured).
HTTP(S)_PROXY is not used.

Redirects are not followed unless asked (follow_redirects): the Result is the 3xx, with
its Location. Forwarding and the proxy do not follow them: a 301 or 302 turns a POST into a
GET without its body, and the 2xx that came of that would count as delivered. Replay does:
up to 5 are followed, as browsers and httpx do: 303, and 301 or 302 after a POST,
become a GET without body; 307 and 308 keep method and body; Authorization, Cookie and
Proxy-Authorization are dropped when the origin changes. A hop the guard refuses is never
fetched: the Result is the 3xx, with an error saying why it was not followed.

Defaults come from settings: INSPECTOR_OUTBOUND_TIMEOUT (seconds for the whole call,
redirects included), INSPECTOR_OUTBOUND_MAX_RESPONSE (bytes), INSPECTOR_OUTBOUND_ALLOW
(CIDR networks that check_address lets through).
"""

import asyncio
import base64
import concurrent.futures
import dataclasses
import ipaddress
import os
import socket
import ssl
import time

import httpcore
import httpx
from django.conf import settings

MAX_REDIRECTS = 5
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
# Written by the client itself, from the URL and the body.
NOT_PASSED_ON = {
    b"host",
    b"content-length",
    b"transfer-encoding",
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"te",
    b"trailer",
    b"upgrade",
}
CREDENTIALS = {b"authorization", b"cookie", b"proxy-authorization"}
SHARED = ipaddress.ip_network("100.64.0.0/10")
PRIVATE = [
    ipaddress.ip_network(network)
    for network in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fec0::/10")
]
NAT64 = ipaddress.ip_network("64:ff9b::/96")


# getaddrinfo holds a thread until the DNS answers, or never. The loop's default pool
# also runs every off_loop() database query: a name that never resolves would stall them
# all. So names are resolved on a few threads of their own; when all are stuck, outbound
# calls wait for one (and time out), and nothing else does.
DNS_THREADS = 4
_dns_pool = concurrent.futures.ThreadPoolExecutor(DNS_THREADS, thread_name_prefix="outbound-dns")


async def resolve(host, port, type=0):
    """socket.getaddrinfo(host, port, type=type) on the outbound DNS threads."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_dns_pool, lambda: socket.getaddrinfo(host, port, type=type))


@dataclasses.dataclass
class Result:
    status: int | None = None
    headers: list = dataclasses.field(default_factory=list)
    body: bytes = b""
    body_truncated: bool = False
    duration_ms: int = 0
    error: str | None = None

    def to_json(self):
        """A dict for a JSONField: the body as text when it is UTF-8 without NUL
        (PostgreSQL's JSONB refuses NUL), else base64 with `body_base64` true."""
        text = _as_text(self.body)
        return {
            "status": self.status,
            "headers": self.headers,
            "body": base64.b64encode(self.body).decode("ascii") if text is None else text,
            "body_base64": text is None,
            "body_size": len(self.body),  # for lists, which read no body (forwarding.summarised)
            "body_truncated": self.body_truncated,
            "duration_ms": self.duration_ms,
            "error": self.error,
        }


def _as_text(data):
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


class Failed(Exception):
    """Ends a send() with this message as the Result's error."""


def check_address(ip, allow=()):
    """Why `ip` may not be connected to ("10.0.0.5 is a private address"), or None.
    `allow` holds networks (CIDR strings or ip_network) opened despite that."""
    address = ipaddress.ip_address(ip)
    kind = _refused_kind(address, allow)
    return f"{_shown(address)} is {kind}" if kind else None


def _shown(address):
    """`address`, with the IPv4 one inside it if any: "::ffff:7f00:1 (127.0.0.1)"."""
    embedded = _embedded_ipv4(address)
    return f"{address} ({embedded})" if embedded else str(address)


def _refused_kind(address, allow):
    embedded = _embedded_ipv4(address)
    candidates = [address] if embedded is None else [address, embedded]
    for network in allow:
        network = ipaddress.ip_network(network, strict=False)
        if any(candidate in network for candidate in candidates):
            return None
    return _kind(embedded or address)


def _embedded_ipv4(address):
    """The IPv4 address inside an IPv4-mapped, 6to4 or NAT64 IPv6 one: what the packets
    finally reach."""
    if address.version == 4:
        return None
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.ipv4_mapped or address.sixtofour


def _kind(address):
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    # Checked before is_global, which Python 3.11 says is true of multicast.
    if address.is_multicast:
        return "a multicast address"
    if address in SHARED:
        return "a shared address (carrier-grade NAT)"
    if any(address in network for network in PRIVATE):
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "a special-purpose address"
    return None


async def send(
    method,
    url,
    headers=(),
    body=b"",
    *,
    timeout=None,
    max_response_bytes=None,
    resolver=None,
    allow=None,
    follow_redirects=False,
):
    """Send one request (following redirects if asked) and return its Result; see the
    module."""
    timeout = settings.INSPECTOR_OUTBOUND_TIMEOUT if timeout is None else timeout
    if max_response_bytes is None:
        max_response_bytes = settings.INSPECTOR_OUTBOUND_MAX_RESPONSE
    backend = GuardedBackend(
        resolver or resolve,
        settings.INSPECTOR_OUTBOUND_ALLOW if allow is None else allow,
    )
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            result = await _follow(
                method, url, headers, body or b"", backend, max_response_bytes, follow_redirects
            )
    except TimeoutError:
        result = Result(error=f"timed out after {timeout:g} s")
    result.duration_ms = round((time.monotonic() - started) * 1000)
    return result


async def _follow(method, url, headers, body, backend, cap, follow_redirects):
    headers = _passed_on(headers)
    pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl.create_default_context(), network_backend=backend, retries=0
    )
    async with pool:
        redirect = None
        for _ in range(MAX_REDIRECTS + 1 if follow_redirects else 1):
            try:
                url = httpx.URL(url)
                result = await _exchange(pool, method, url, headers, body, cap)
            except httpx.InvalidURL as problem:
                return Result(error=f"not a valid URL: {problem}")
            except Failed as failure:
                if redirect is None:
                    return Result(error=str(failure))
                return dataclasses.replace(redirect, error=f"{failure} (after a redirect to {url})")
            location = _header(result.headers, "location")
            if not follow_redirects or result.status not in REDIRECT_STATUSES or location is None:
                return result
            redirect = result
            try:
                next_url = url.join(location)
            except httpx.InvalidURL:
                return dataclasses.replace(result, error=f"invalid redirect to {location}")
            if _origin(next_url) != _origin(url):
                headers = [(n, v) for n, v in headers if n.lower() not in CREDENTIALS]
            method, body = _redirected(result.status, method, body)
            url = next_url
        return dataclasses.replace(redirect, error=f"more than {MAX_REDIRECTS} redirects")


def _passed_on(headers):
    pairs = [(_as_bytes(name), _as_bytes(value)) for name, value in headers]
    return [(name, value) for name, value in pairs if name.lower() not in NOT_PASSED_ON]


def _as_bytes(text):
    if isinstance(text, bytes):
        return text
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _header(headers, name):
    return next((value for key, value in headers if key.lower() == name), None)


def _origin(url):
    return url.scheme, url.host, url.port


def _redirected(status, method, body):
    """The method and body of the request that follows a redirect (RFC 9110 15.4)."""
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        return "GET", b""
    return method, body


async def _exchange(pool, method, url, headers, body, cap):
    if url.scheme not in ("http", "https") or not url.host:
        raise Failed(f"only http and https URLs can be sent to, not {url}")
    headers = [(b"Host", url.netloc), *headers]
    if body or method in ("POST", "PUT", "PATCH"):
        headers.append((b"Content-Length", str(len(body)).encode()))
    target = httpcore.URL(
        scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
    )
    try:
        async with pool.stream(method, target, headers=headers, content=body or None) as response:
            data, truncated = await _read_capped(response, cap)
    except httpcore.ConnectError as exc:
        raise Failed(_connect_problem(exc)) from exc
    except httpcore.TimeoutException as exc:
        raise Failed(f"timed out: {exc}") from exc
    except (httpcore.ReadError, httpcore.WriteError) as exc:
        raise Failed(f"the connection broke: {exc or 'closed'}") from exc
    except httpcore.RemoteProtocolError as exc:
        raise Failed(f"the target's answer is not valid HTTP: {exc}") from exc
    except httpcore.LocalProtocolError as exc:
        raise Failed(f"the request cannot be sent: {exc}") from exc
    return Result(
        status=response.status,
        headers=[
            [name.decode("latin-1"), value.decode("latin-1")] for name, value in response.headers
        ],
        body=data,
        body_truncated=truncated,
    )


async def _read_capped(response, cap):
    chunks, size = [], 0
    async for chunk in response.aiter_stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > cap:
            return b"".join(chunks)[:cap], True
    return b"".join(chunks), False


def _connect_problem(exc):
    cause = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate rejected: {cause.verify_message}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS failed: {cause.reason or cause}"
        if isinstance(cause, OSError) and cause.errno:
            return os.strerror(cause.errno).lower()
        # httpcore raises its own errors "from None": the OS's is in the context.
        cause = cause.__cause__ or cause.__context__
    return f"could not connect: {exc}"


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses check_address() passed."""

    def __init__(self, resolver, allow):
        self.resolver = resolver
        self.allow = allow
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        failure = None
        for address in await self.checked_addresses(host, port):
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure

    async def checked_addresses(self, host, port):
        """Every address of `host`, each one checked; Failed if any is refused."""
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            if reason := check_address(literal, self.allow):
                raise Failed(f"refused: {reason}")
            return [str(literal)]
        try:
            answers = await self.resolver(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise Failed(f"could not resolve {host}") from exc
        addresses = list(dict.fromkeys(ipaddress.ip_address(answer[4][0]) for answer in answers))
        if not addresses:
            raise Failed(f"could not resolve {host}")
        for address in addresses:
            if kind := _refused_kind(address, self.allow):
                raise Failed(f"refused: {host} resolves to {_shown(address)}, {kind}")
        return [str(address) for address in addresses]

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise Failed("refused: unix sockets")

    async def sleep(self, seconds):
        await asyncio.sleep(seconds)
