"""bins.outbound against real HTTP servers on 127.0.0.1. Host names are answered by a
stub resolver: no test reaches beyond this machine."""

import asyncio
import datetime
import socket
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bins.outbound import DNS_THREADS, send

HOST = "hooks.example.test"
# The targets run on loopback, which the guard refuses unless it is opened.
LOCAL = ["127.0.0.0/8"]


def resolver(answers):
    """A getaddrinfo stand-in answering from `answers` ({name: [ip, ...]})."""

    async def getaddrinfo(host, port, *, type=0, **kwargs):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in ip else socket.AF_INET, type, 6, "", (ip, port))
            for ip in answers[host]
        ]

    return getaddrinfo


async def numeric_only(host, port, *, type=0):
    """The system's own parser for numeric hosts, which never asks DNS."""
    loop = asyncio.get_running_loop()
    return await loop.getaddrinfo(host, port, type=type, flags=socket.AI_NUMERICHOST)


def answer(status=200, headers=(), body=b""):
    lines = [f"HTTP/1.1 {status} X", *(f"{name}: {value}" for name, value in headers)]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Target:
    """An HTTP/1.1 server on 127.0.0.1 that keeps every request as the bytes it
    received and answers `answers[path]` (raw bytes; NEVER: no answer at all)."""

    NEVER = object()

    def __init__(self):
        self.requests = []
        self.answers = {}
        self.closing = asyncio.Event()

    async def start(self, ssl_context=None):
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0, ssl=ssl_context)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def serve(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                body = await reader.readexactly(content_length(head))
                self.requests.append(head + body)
                reply = self.answers.get(head.split(b" ")[1].decode(), answer(body=b"ok"))
                if reply is self.NEVER:
                    await self.closing.wait()
                    return
                writer.write(reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def close(self):
        self.closing.set()
        self.server.close()
        await self.server.wait_closed()


def content_length(head):
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


@pytest.fixture
async def target():
    """A Target serving plain HTTP, stopped after the test."""
    server = await Target().start()
    yield server
    await server.close()


async def test_it_sends_exactly_the_method_headers_and_body_given(target):
    headers = [
        ["X-Signature", "t=1,v1=abc"],
        ["X-Dup", "1"],
        ["X-Dup", "2"],
        ["Content-Type", "application/json"],
        # As captured: written anew for the target, never passed on.
        ["Host", "inspector.example.com"],
        ["Content-Length", "999"],
        ["Transfer-Encoding", "chunked"],
        ["Connection", "keep-alive"],
    ]
    url = f"http://{HOST}:{target.port}/hook/path?x=1&y=%2F"
    result = await send(
        "PUT", url, headers, b'{"a": 1}', resolver=resolver({HOST: ["127.0.0.1"]}), allow=LOCAL
    )
    assert result.error is None
    assert target.requests == [
        b"PUT /hook/path?x=1&y=%2F HTTP/1.1\r\n"
        + f"Host: {HOST}:{target.port}\r\n".encode()
        + b"X-Signature: t=1,v1=abc\r\nX-Dup: 1\r\nX-Dup: 2\r\n"
        b"Content-Type: application/json\r\nContent-Length: 8\r\n\r\n"
        b'{"a": 1}'
    ]


async def test_it_returns_the_targets_answer(target):
    target.answers["/hook"] = answer(
        201, [("X-Request-Id", "r1"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")], b"created"
    )
    result = await send("POST", f"http://127.0.0.1:{target.port}/hook", [], b"", allow=LOCAL)
    assert result.error is None
    assert result.status == 201
    assert result.headers == [
        ["X-Request-Id", "r1"],
        ["Set-Cookie", "a=1"],
        ["Set-Cookie", "b=2"],
        ["Content-Length", "7"],
    ]
    assert result.body == b"created"
    assert result.body_truncated is False
    assert result.duration_ms >= 0
    assert result.to_json()["body"] == "created"


async def test_it_sends_no_body_and_no_length_for_a_plain_get(target):
    await send("GET", f"http://127.0.0.1:{target.port}/", [["Accept", "*/*"]], allow=LOCAL)
    assert target.requests == [
        f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{target.port}\r\nAccept: */*\r\n\r\n".encode()
    ]


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.0.0.1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("fd00:ec2::254", "a private address"),
        ("100.100.100.200", "a shared address (carrier-grade NAT)"),
        ("224.0.0.1", "a multicast address"),
        ("0.0.0.0", "an unspecified address"),
        ("240.0.0.1", "a reserved address"),
        ("::ffff:169.254.169.254", "a link-local address"),
    ],
)
async def test_it_refuses_a_name_that_resolves_to_a_refused_address(address, kind):
    result = await send(
        "POST", f"http://{HOST}/hook", [], b"x", resolver=resolver({HOST: [address]}), allow=[]
    )
    assert result.status is None
    assert result.error.startswith(f"refused: {HOST} resolves to ")
    assert result.error.endswith(f", {kind}")


async def test_it_refuses_a_name_when_any_of_its_addresses_is_refused(target):
    answers = resolver({HOST: ["127.0.0.1", "10.0.0.1"]})
    result = await send("GET", f"http://{HOST}:{target.port}/", resolver=answers, allow=LOCAL)
    assert result.error == f"refused: {HOST} resolves to 10.0.0.1, a private address"
    assert target.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fe80::1]/",
        # Numeric forms the system reads as loopback or 0.0.0.0.
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0/",
    ],
)
async def test_it_refuses_addresses_in_the_url(url):
    result = await send("GET", url, resolver=numeric_only, allow=[])
    assert result.status is None
    assert result.error.startswith("refused: ")


async def test_it_opens_the_allowed_networks_only(target):
    url = f"http://127.0.0.1:{target.port}/"
    refused = await send("GET", url, allow=["10.0.0.0/8"])
    allowed = await send("GET", url, allow=["127.0.0.1/32"])
    assert refused.error == "refused: 127.0.0.1 is a loopback address"
    assert allowed.error is None
    assert len(target.requests) == 1


async def test_it_reads_the_allow_list_from_settings(target, settings):
    settings.INSPECTOR_OUTBOUND_ALLOW = LOCAL
    result = await send("GET", f"http://127.0.0.1:{target.port}/")
    assert result.status == 200


@pytest.mark.parametrize(
    ("location", "refusal"),
    [
        (
            "http://169.254.169.254/latest/meta-data/",
            "refused: 169.254.169.254 is a link-local address",
        ),
        (
            "http://metadata.example.test/latest/meta-data/",
            "refused: metadata.example.test resolves to 169.254.169.254, a link-local address",
        ),
        (
            "http://internal.example.test:8080/admin",
            "refused: internal.example.test resolves to 10.0.0.1, a private address",
        ),
    ],
)
async def test_it_never_follows_a_redirect_to_a_refused_address(target, location, refusal):
    target.answers["/hook"] = answer(302, [("Location", location)])
    answers = resolver(
        {
            HOST: ["127.0.0.1"],
            "metadata.example.test": ["169.254.169.254"],
            "internal.example.test": ["10.0.0.1"],
        }
    )
    result = await send(
        "POST",
        f"http://{HOST}:{target.port}/hook",
        [],
        b"x",
        resolver=answers,
        allow=LOCAL,
        follow_redirects=True,
    )
    assert result.status == 302
    assert result.error == f"{refusal} (after a redirect to {location})"
    assert len(target.requests) == 1


@pytest.mark.parametrize(
    "location",
    [
        "http://intranet.example.test/",
        "http://[::1]/",
        "http://10.0.0.1/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://0.0.0.0/",
        "http://[::ffff:a9fe:a9fe]/",
        "https://[fd00:ec2::254]/latest/",
    ],
)
async def test_it_never_follows_a_redirect_to_any_refused_range(target, location):
    target.answers["/hook"] = answer(301, [("Location", location)])
    answers = resolver({"intranet.example.test": ["192.168.0.10"]})
    result = await send(
        "GET",
        f"http://127.0.0.1:{target.port}/hook",
        resolver=answers,
        allow=LOCAL,
        follow_redirects=True,
    )
    assert result.status == 301
    assert result.error.startswith("refused: ")
    assert result.error.endswith(f" (after a redirect to {location})")


async def test_it_follows_redirects_as_browsers_do(target):
    target.answers["/a"] = answer(307, [("Location", "/b")])
    target.answers["/b"] = answer(303, [("Location", "/c?done=1")])
    target.answers["/c?done=1"] = answer(200, body=b"final")
    result = await send(
        "POST",
        f"http://127.0.0.1:{target.port}/a",
        [["X-Sig", "s"]],
        b"data",
        allow=LOCAL,
        follow_redirects=True,
    )
    assert (result.status, result.body, result.error) == (200, b"final", None)
    host = f"Host: 127.0.0.1:{target.port}\r\n".encode()
    assert target.requests == [
        b"POST /a HTTP/1.1\r\n" + host + b"X-Sig: s\r\nContent-Length: 4\r\n\r\ndata",
        b"POST /b HTTP/1.1\r\n" + host + b"X-Sig: s\r\nContent-Length: 4\r\n\r\ndata",
        b"GET /c?done=1 HTTP/1.1\r\n" + host + b"X-Sig: s\r\n\r\n",
    ]


async def test_it_drops_credentials_when_a_redirect_changes_origin(target):
    other = f"http://other.example.test:{target.port}/landing"
    target.answers["/hook"] = answer(308, [("Location", other)])
    answers = resolver({HOST: ["127.0.0.1"], "other.example.test": ["127.0.0.1"]})
    headers = [["Authorization", "Bearer secret"], ["Cookie", "s=1"], ["X-Keep", "yes"]]
    result = await send(
        "GET",
        f"http://{HOST}:{target.port}/hook",
        headers,
        resolver=answers,
        allow=LOCAL,
        follow_redirects=True,
    )
    assert result.status == 200
    first, second = target.requests
    assert b"Authorization: Bearer secret" in first
    assert b"Authorization" not in second
    assert b"Cookie" not in second
    assert b"X-Keep: yes" in second


async def test_it_stops_after_five_redirects(target):
    target.answers["/loop"] = answer(302, [("Location", "/loop")])
    url = f"http://127.0.0.1:{target.port}/loop"
    result = await send("GET", url, allow=LOCAL, follow_redirects=True)
    assert result.status == 302
    assert result.error == "more than 5 redirects"
    assert len(target.requests) == 6


async def test_it_follows_no_redirect_unless_asked(target):
    # A 302 to a POST would become a GET without its body: forwarding must not call that
    # delivered, and a proxy passes the redirect on.
    target.answers["/a"] = answer(302, [("Location", "/b")])
    result = await send("POST", f"http://127.0.0.1:{target.port}/a", [], b"data", allow=LOCAL)
    assert (result.status, result.error) == (302, None)
    assert ["Location", "/b"] in result.headers
    assert len(target.requests) == 1


async def test_it_times_out_against_a_target_that_never_answers(target):
    target.answers["/slow"] = Target.NEVER
    result = await send("GET", f"http://127.0.0.1:{target.port}/slow", timeout=0.5, allow=LOCAL)
    assert result.status is None
    assert result.error == "timed out after 0.5 s"
    assert 450 <= result.duration_ms < 5000


async def test_it_cuts_a_response_bigger_than_the_cap(target):
    target.answers["/big"] = answer(body=b"x" * 100_000)
    target.answers["/exact"] = answer(body=b"y" * 1000)
    big = await send(
        "GET", f"http://127.0.0.1:{target.port}/big", max_response_bytes=1000, allow=LOCAL
    )
    exact = await send(
        "GET", f"http://127.0.0.1:{target.port}/exact", max_response_bytes=1000, allow=LOCAL
    )
    assert (big.status, big.body, big.body_truncated) == (200, b"x" * 1000, True)
    assert (exact.body, exact.body_truncated) == (b"y" * 1000, False)


async def test_it_says_when_the_connection_is_refused():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await send("GET", f"http://127.0.0.1:{port}/", allow=LOCAL)
    assert result.error == "connection refused"


async def test_it_says_when_a_name_does_not_resolve():
    result = await send("GET", "http://nowhere.example.test/", resolver=resolver({}))
    assert result.error == "could not resolve nowhere.example.test"


async def test_a_dns_that_never_answers_holds_none_of_the_loops_threads(monkeypatch):
    # The loop's default threads run every off_loop() database query.
    release, asked = threading.Event(), []

    def stuck(host, port, *args, **kwargs):
        asked.append(host)
        release.wait(10)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", stuck)
    loop = asyncio.get_running_loop()
    try:
        urls = [f"http://n{number}.example.test/" for number in range(40)]
        sends = [asyncio.create_task(send("GET", url, timeout=0.5)) for url in urls]
        await asyncio.sleep(0.1)
        async with asyncio.timeout(2):
            assert await loop.run_in_executor(None, lambda: "free") == "free"
        results = await asyncio.gather(*sends)
    finally:
        release.set()
    assert {result.error for result in results} == {"timed out after 0.5 s"}
    assert len(asked) <= DNS_THREADS


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "hooks/x"])
async def test_it_sends_to_http_and_https_urls_only(url):
    result = await send("GET", url, resolver=resolver({}))
    assert result.error.startswith("only http and https URLs can be sent to")


def certificate(name):
    """A self-signed certificate for `name` and its key, both PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


@pytest.fixture
async def tls_target(tmp_path, monkeypatch):
    """A Target serving HTTPS as HOST, with its certificate the only one trusted; it
    keeps the server names (SNI) clients asked for in `server_names`."""
    cert, key = certificate(HOST)
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = Target()
    server.server_names = []
    context.sni_callback = lambda sock, name, ctx: server.server_names.append(name)
    await server.start(context)
    yield server
    await server.close()


async def test_it_connects_to_the_checked_address_with_the_urls_name_for_tls(tls_target):
    answers = resolver({HOST: ["127.0.0.1"]})
    url = f"https://{HOST}:{tls_target.port}/hook"
    result = await send("POST", url, [], b"x", resolver=answers, allow=LOCAL)
    assert (result.status, result.error) == (200, None)
    assert tls_target.server_names == [HOST]
    assert f"Host: {HOST}:{tls_target.port}\r\n".encode() in tls_target.requests[0]


async def test_it_refuses_a_certificate_for_another_name(tls_target):
    answers = resolver({"other.example.test": ["127.0.0.1"]})
    url = f"https://other.example.test:{tls_target.port}/hook"
    result = await send("GET", url, resolver=answers, allow=LOCAL)
    assert result.status is None
    assert result.error.startswith("TLS certificate rejected: ")
    assert "other.example.test" in result.error
    assert tls_target.requests == []
