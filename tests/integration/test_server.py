"""inspector.server: what it mends in Daphne for a request bin (PITFALLS.md)."""

import asyncio
import contextlib
import json
import os
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import server_on_test_database
from tests.integration.helpers import create_bin, list_requests, raw_request, viewer

pytestmark = pytest.mark.django_db(transaction=True)
LIMIT = 1000
READ_TIMEOUT = 3


@pytest.fixture(scope="module")
def small_server(django_db_setup):
    """A server whose body limit is LIMIT bytes and read timeout READ_TIMEOUT seconds,
    without rate limits: a viewer is cut off only once the kernel's buffers are full
    too, several megabytes of events, more than the limits let one client send."""
    small = {
        "INSPECTOR_MAX_BODY_BYTES": str(LIMIT),
        "INSPECTOR_WEBSOCKET_BUFFER_BYTES": str(64 * 1024),
        "INSPECTOR_READ_TIMEOUT": str(READ_TIMEOUT),
    }
    with server_on_test_database("small", **small) as server:
        yield server


def test_it_keeps_header_names_with_underscores_and_their_case(small_server):
    bin = create_bin(small_server.base_url)
    httpx.post(bin["url"], headers={"X_Api_Key": "k", "API_TOKEN": "t", "x-Mixed-CASE": "c"})
    headers = list_requests(small_server.base_url, bin["id"])[0]["headers"]
    assert ["X_Api_Key", "k"] in headers
    assert ["API_TOKEN", "t"] in headers
    assert ["x-Mixed-CASE", "c"] in headers


def test_it_keeps_header_values_daphne_would_refuse(small_server):
    bin = create_bin(small_server.base_url)
    request = (
        f"POST /b/{bin['id']} HTTP/1.1\r\nHost: x\r\n".encode()
        + "X-Name: \u00c5ngstr\u00f6m\r\n".encode()
        + b"X-Controls: a\x0bb\x0cc\x1cd\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    assert raw_request(small_server.port, request).startswith(b"HTTP/1.1 200 ")
    headers = list_requests(small_server.base_url, bin["id"])[0]["headers"]
    assert ["X-Name", "\u00c5ngstr\u00f6m".encode().decode("latin-1")] in headers
    assert ["X-Controls", "a\x0bb\x0cc\x1cd"] in headers


def test_it_still_refuses_those_values_outside_capture(small_server):
    request = b"GET /api/bins HTTP/1.1\r\nHost: x\r\nX-Name: \xc3\x85\r\nConnection: close\r\n\r\n"
    assert raw_request(small_server.port, request).startswith(b"HTTP/1.1 400 ")


def test_a_body_too_large_by_its_content_length_is_refused_unread_and_recorded(small_server):
    bin = create_bin(small_server.base_url)
    # 5 MB sent without waiting for an answer: the server answers at the headers,
    # then drops the rest while the client sends it, so the client reads the 413.
    answer = httpx.post(bin["url"], content=b"a" * 5_000_000, headers={"X-Hook": "big"})
    assert answer.status_code == 413
    assert answer.headers["connection"] == "close"
    error = answer.json()["error"]
    assert error["code"] == "body_too_large" and "not read" in error["message"]
    [stored] = list_requests(small_server.base_url, bin["id"])
    assert (stored["body_size"], stored["body_truncated"]) == (5_000_000, True)
    assert ["X-Hook", "big"] in stored["headers"] and stored["id"] == answer.json()["id"]
    body = httpx.get(f"{small_server.base_url}/api/bins/{bin['id']}/requests/{stored['id']}/body")
    assert body.content == b""


def test_one_byte_over_the_limit_by_content_length_is_refused(small_server):
    bin = create_bin(small_server.base_url)
    assert httpx.post(bin["url"], content=b"c" * (LIMIT + 1)).status_code == 413
    [stored] = list_requests(small_server.base_url, bin["id"])
    assert (stored["body_size"], stored["body_truncated"]) == (LIMIT + 1, True)


def test_a_client_that_expects_100_continue_gets_the_413_instead(small_server):
    bin = create_bin(small_server.base_url)
    head = (
        f"POST /b/{bin['id']} HTTP/1.1\r\nHost: x\r\nContent-Length: {LIMIT * 10}\r\n"
        "Expect: 100-continue\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", small_server.port), timeout=5) as sock:
        sock.sendall(head)  # and never the body
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"100 Continue" not in answer
    [stored] = list_requests(small_server.base_url, bin["id"])
    assert ["Expect", "100-continue"] in stored["headers"]


def test_a_client_within_the_limit_that_expects_100_continue_is_stored(small_server):
    bin = create_bin(small_server.base_url)
    answer = httpx.post(bin["url"], content=b"d" * 10, headers={"Expect": "100-continue"})
    assert answer.status_code == 200


def test_a_false_content_length_does_not_get_around_the_limit(small_server):
    bin = create_bin(small_server.base_url)
    # It says 10 bytes; what follows them is read as the next request, and refused.
    request = (
        f"POST /b/{bin['id']} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n".encode()
        + b"e" * (LIMIT * 3)
        + b"\r\n\r\n"
    )
    answer = raw_request(small_server.port, request)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert b"HTTP/1.1 400 " in answer
    [stored] = list_requests(small_server.base_url, bin["id"])
    assert stored["body_size"] == 10


def test_a_chunked_body_one_byte_over_the_limit_is_cut_while_streaming(small_server):
    bin = create_bin(small_server.base_url)
    body = b"f" * (LIMIT + 1)
    request = (
        (
            f"POST /b/{bin['id']} HTTP/1.1\r\nHost: x\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        ).encode()
        + f"{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n"
    )
    assert raw_request(small_server.port, request).startswith(b"HTTP/1.1 413 ")
    [stored] = list_requests(small_server.base_url, bin["id"])
    assert (stored["body_size"], stored["body_truncated"]) == (LIMIT + 1, True)
    content = httpx.get(
        f"{small_server.base_url}/api/bins/{bin['id']}/requests/{stored['id']}/body"
    ).content
    assert content == b"f" * LIMIT


def test_it_cuts_a_chunked_body_without_content_length(small_server):
    bin = create_bin(small_server.base_url)
    chunk = b"b" * 700
    request = (
        (
            f"POST /b/{bin['id']}/chunked HTTP/1.1\r\nHost: x\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        ).encode()
        + (b"2bc\r\n" + chunk + b"\r\n") * 3
        + b"0\r\n\r\n"
    )
    answer = raw_request(small_server.port, request)
    assert answer.startswith(b"HTTP/1.1 413 ")
    [stored] = list_requests(small_server.base_url, bin["id"])
    assert (stored["body_size"], stored["body_truncated"]) == (2100, True)


def test_it_accepts_a_body_exactly_at_the_limit(small_server):
    bin = create_bin(small_server.base_url)
    assert httpx.post(bin["url"], content=b"c" * LIMIT).status_code == 200
    [stored] = list_requests(small_server.base_url, bin["id"])
    assert (stored["body_size"], stored["body_truncated"]) == (LIMIT, False)


async def test_it_never_acknowledges_a_request_it_did_not_store(small_server):
    bin = create_bin(small_server.base_url)
    answered = asyncio.Event()
    acknowledged = []

    async def send(client, i):
        try:
            answer = await client.post(bin["url"], content=b"%d" % i)
        except httpx.HTTPError:
            return None
        if answer.status_code == 200:
            acknowledged.append(answer.json()["id"])
            if len(acknowledged) == 30:
                answered.set()

    async with httpx.AsyncClient(timeout=5) as client:
        sending = [asyncio.create_task(send(client, i)) for i in range(300)]
        await asyncio.wait_for(answered.wait(), 20)
        small_server.process.terminate()
        await asyncio.gather(*sending)
    small_server.process.wait(15)
    small_server.start()
    stored = {item["id"] for item in list_requests(small_server.base_url, bin["id"], limit=500)}
    assert len(acknowledged) >= 30
    assert set(acknowledged) <= stored


def test_it_leaves_bin_ids_out_of_the_log(small_server):
    bin = create_bin(small_server.base_url)
    httpx.post(bin["url"], content=b"secret path")
    assert bin["id"] not in small_server.output()


def test_it_disconnects_a_viewer_that_stops_reading(small_server):
    bin = create_bin(small_server.base_url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", small_server.port))
    sock.sendall(
        (
            f"GET /ws/bins/{bin['id']}/ HTTP/1.1\r\nHost: 127.0.0.1:{small_server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        ).encode()
    )
    assert sock.recv(4096).startswith(b"HTTP/1.1 101")
    # The viewer reads nothing more while the bin fills with ~1 KiB previews.
    with httpx.Client() as client:
        for n in range(3000):
            client.post(bin["url"], content=b"%04d" % n + b"x" * 996)
            if n % 500 == 0 and "closing a websocket viewer" in small_server.output():
                break
    assert "closing a websocket viewer" in small_server.output()
    sock.settimeout(10)
    with pytest.raises(ConnectionResetError):
        while sock.recv(65536):
            pass
    sock.close()


def writer_processes(server):
    """The pids of the server's writer processes (its children)."""
    pid = server.process.pid
    children = (Path(f"/proc/{pid}/task") / str(pid) / "children").read_text().split()
    return [int(child) for child in children]


def wait_for(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_it_starts_its_writer_process_before_the_first_capture(small_server):
    wait_for(lambda: writer_processes(small_server))
    (writer,) = writer_processes(small_server)
    assert "inspector.writer" in Path(f"/proc/{writer}/cmdline").read_text()


def test_its_writer_process_exits_with_it_even_when_it_is_killed(small_server):
    wait_for(lambda: writer_processes(small_server))
    (writer,) = writer_processes(small_server)
    small_server.process.kill()
    small_server.process.wait(10)
    wait_for(lambda: not Path(f"/proc/{writer}").exists() or zombie(writer))
    small_server.start()


def test_captures_go_on_when_the_writer_process_dies(small_server):
    bin = create_bin(small_server.base_url)
    wait_for(lambda: writer_processes(small_server))
    (writer,) = writer_processes(small_server)
    os.kill(writer, signal.SIGKILL)
    statuses = [httpx.post(bin["url"], content=b"%d" % n).status_code for n in range(5)]
    # A capture in flight when it died is refused with 503 (the sender retries); the
    # next one starts a new writer process.
    assert set(statuses) <= {200, 503} and statuses[-1] == 200
    assert len(list_requests(small_server.base_url, bin["id"])) == statuses.count(200)
    assert writer_processes(small_server) != [writer]


def zombie(pid):
    """A process that exited and that nobody reaped yet (its parent was killed)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


def trickle(port, head, byte, pause=0.5, limit=30):
    """Send `head`, then `byte` every `pause` seconds until the server closes; returns
    what it answered and how long the connection lasted."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as sock:
        sock.sendall(head)
        sock.settimeout(pause)
        answer = b""
        while time.monotonic() - started < limit:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                try:
                    sock.sendall(byte)
                except OSError:
                    break
                continue
            except OSError:
                break
            if not chunk:
                break
            answer += chunk
    return answer, time.monotonic() - started


@pytest.mark.parametrize(
    ("head", "byte"),
    [
        (b"POST /b/aaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: x\r\n", b"X"),  # headers, slowly
        (b"POST /b/aaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", b"x"),
        (b"G", b"E"),  # the request line
    ],
    ids=["headers", "body", "request line"],
)
def test_a_request_that_trickles_in_is_cut_off_at_the_read_timeout(small_server, head, byte):
    answer, lasted = trickle(small_server.port, head, byte)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert READ_TIMEOUT <= lasted < READ_TIMEOUT + 5


def test_a_keep_alive_connection_waits_between_requests_past_the_read_timeout(small_server):
    bin = create_bin(small_server.base_url)
    request = f"POST /b/{bin['id']} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none".encode()
    with socket.create_connection(("127.0.0.1", small_server.port), timeout=10) as sock:
        sock.sendall(request)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        time.sleep(READ_TIMEOUT + 1)  # idle between requests: Twisted's idle timeout
        sock.sendall(request)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


@pytest.fixture(scope="module")
def pinging_server(django_db_setup):
    """A server that pings websockets every second, gives up on them after two silent
    seconds, and lets one client address hold at most MAX_SOCKETS of them."""
    env = {
        "INSPECTOR_WEBSOCKET_PING_INTERVAL": "1",
        "INSPECTOR_WEBSOCKET_PING_TIMEOUT": "2",
        "INSPECTOR_MAX_WEBSOCKETS_PER_CLIENT": str(MAX_SOCKETS),
    }
    with server_on_test_database("pinging", **env) as server:
        yield server


MAX_SOCKETS = 3


def open_raw_websocket(server, bin_id):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=15)
    sock.sendall(
        (
            f"GET /ws/bins/{bin_id}/ HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        ).encode()
    )
    assert sock.recv(4096).startswith(b"HTTP/1.1 101")
    return sock


def test_a_websocket_that_never_answers_pings_is_closed(pinging_server):
    bin = create_bin(pinging_server.base_url)
    started = time.monotonic()
    with open_raw_websocket(pinging_server, bin["id"]) as sock:
        received = b""
        try:
            while chunk := sock.recv(4096):  # pings, then the close
                received += chunk
        except ConnectionResetError:
            pass
    lasted = time.monotonic() - started
    assert b"\x89" in received  # a ping frame came, and went unanswered
    assert lasted < 10


async def test_a_websocket_that_answers_pings_stays_open(pinging_server):
    bin = create_bin(pinging_server.base_url)
    async with viewer(pinging_server.base_url, bin["id"]) as socket_:
        await asyncio.sleep(6)  # several ping intervals and timeouts
        async with httpx.AsyncClient() as client:
            await client.post(bin["url"], content=b"still here")
        event = json.loads(await asyncio.wait_for(socket_.recv(), 5))
        assert event["type"] == "requests.created"


async def test_one_client_address_holds_at_most_its_share_of_websockets(pinging_server):
    bin = create_bin(pinging_server.base_url)
    async with contextlib.AsyncExitStack() as stack:
        held = [
            await stack.enter_async_context(viewer(pinging_server.base_url, bin["id"]))
            for _ in range(MAX_SOCKETS)
        ]
        async with viewer(pinging_server.base_url, bin["id"]) as refused:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(refused.recv(), 5)
            assert closed.value.rcvd.code == 4429
        await held[0].close()
        await asyncio.sleep(0.5)
        async with viewer(pinging_server.base_url, bin["id"]) as again:
            assert await asyncio.wait_for(again.ping(), 5) is not None


def test_a_request_with_more_than_500_headers_is_refused(small_server):
    bin = create_bin(small_server.base_url)
    headers = "".join(f"X-H{n}: {n}\r\n" for n in range(501))
    request = f"POST /b/{bin['id']} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: 0\r\n\r\n"
    assert raw_request(small_server.port, request.encode()).startswith(b"HTTP/1.1 400 ")
    assert list_requests(small_server.base_url, bin["id"]) == []


def test_500_headers_are_taken(small_server):
    bin = create_bin(small_server.base_url)
    headers = "".join(f"X-H{n}: {n}\r\n" for n in range(497))
    request = (
        f"POST /b/{bin['id']} HTTP/1.1\r\nHost: x\r\n{headers}"
        "Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    assert raw_request(small_server.port, request.encode()).startswith(b"HTTP/1.1 200 ")
    [stored] = list_requests(small_server.base_url, bin["id"])
    assert len(stored["headers"]) == 500


def test_a_header_line_over_16_kib_is_refused_with_431(small_server):
    bin = create_bin(small_server.base_url)
    request = (
        f"POST /b/{bin['id']} HTTP/1.1\r\nHost: x\r\nX-Big: {'v' * 16_400}\r\n"
        "Content-Length: 0\r\n\r\n"
    )
    assert raw_request(small_server.port, request.encode()).startswith(b"HTTP/1.1 431 ")
    assert list_requests(small_server.base_url, bin["id"]) == []


def test_headers_over_16_kib_in_all_are_refused(small_server):
    bin = create_bin(small_server.base_url)
    headers = "".join(f"X-H{n}: {'v' * 4000}\r\n" for n in range(5))
    request = f"POST /b/{bin['id']} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: 0\r\n\r\n"
    assert raw_request(small_server.port, request.encode()).startswith(b"HTTP/1.1 400 ")
    assert list_requests(small_server.base_url, bin["id"]) == []


def test_an_api_body_over_the_limit_is_refused_not_cut(small_server):
    bin = create_bin(small_server.base_url)
    lines = b'{"method": "POST", "url": "/x"}\n' * 100  # 3,200 bytes, over LIMIT
    answer = httpx.post(f"{small_server.base_url}/api/bins/{bin['id']}/import", content=lines)
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "body_too_large"
    assert list_requests(small_server.base_url, bin["id"]) == []
