"""inspector-relay (relay/), run as a developer runs it, between a real server and a
local HTTP server: each request delivered as captured, live, caught up after a
restart, none twice, private bins with a token."""

import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.conftest import server_on_test_database
from tests.integration.helpers import create_bin

pytestmark = pytest.mark.django_db(transaction=True)
RELAY = Path(__file__).resolve().parents[2] / "relay"


class Target:
    """A local HTTP server that keeps what it is sent."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                received.append((self.command, self.path, list(self.headers.items()), body))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_one

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count, timeout=15):
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"got {len(self.received)} of {count}"
            time.sleep(0.05)


def start_relay(bin_url, target, state, output, *extra):
    env = {**os.environ, "PYTHONPATH": str(RELAY)}
    command = [sys.executable, "-m", "inspector_relay", bin_url, target, "--state", str(state)]
    return subprocess.Popen([*command, *extra], env=env, stdout=output, stderr=subprocess.STDOUT)


def wait_connected(process, output_path, timeout=15):
    """The relay is up once it said so (a fresh state) or had time to connect."""
    deadline = time.monotonic() + timeout
    while "relaying" not in output_path.read_text():
        assert process.poll() is None, output_path.read_text()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)


@pytest.fixture(scope="module")
def relay_server(django_db_setup):
    with server_on_test_database("relay") as server:
        yield server


def test_the_relay_delivers_live_catches_up_after_a_restart_and_never_twice(relay_server, tmp_path):
    target = Target()
    bin = create_bin(relay_server.base_url)
    state, log = tmp_path / "state.json", tmp_path / "relay.log"
    httpx.post(bin["url"], content=b"before the relay: not delivered")
    with log.open("w") as output:
        relay = start_relay(bin["inspect_url"], target.url, state, output)
        wait_connected(relay, log)
        with httpx.Client() as client:
            client.post(bin["url"] + "/github?delivery=1", json={"n": 1}, headers={"X-Hook": "a"})
            client.put(bin["url"] + "/binary", content=bytes(range(256)))
            client.request("PATCH", bin["url"], content=b"third", headers={"X_Under": "kept"})
        target.wait_for(3)
        relay.terminate()
        relay.wait(10)
        with httpx.Client() as client:  # while the relay is away
            client.post(bin["url"] + "/away-1", content=b"four")
            client.post(bin["url"] + "/away-2", content=b"five")
        relay = start_relay(bin["inspect_url"], target.url, state, output)
        target.wait_for(5)
        time.sleep(1)  # and nothing more comes
        relay.terminate()
        relay.wait(10)
    methods_paths = [(method, path) for method, path, _, _ in target.received]
    assert methods_paths == [
        ("POST", "/hooks/github?delivery=1"),
        ("PUT", "/hooks/binary"),
        ("PATCH", "/hooks"),
        ("POST", "/hooks/away-1"),
        ("POST", "/hooks/away-2"),
    ]
    assert ("X-Hook", "a") in target.received[0][2]
    assert target.received[1][3] == bytes(range(256))
    assert ("X_Under", "kept") in target.received[2][2]
    assert [body for _, _, _, body in target.received[3:]] == [b"four", b"five"]
    lines = log.read_text()
    assert "POST /github -> 202 in" in lines and "PUT /binary -> 202" in lines


def test_the_relay_reads_a_private_bin_with_its_token(relay_server, tmp_path):
    target = Target()
    created = httpx.post(f"{relay_server.base_url}/api/bins", json={"private": True}).json()
    state, log = tmp_path / "state.json", tmp_path / "relay.log"
    with log.open("w") as output:
        refused = start_relay(created["inspect_url"], target.url, tmp_path / "s2.json", output)
        assert refused.wait(15) == 1  # without the token
        assert "this bin is private: pass --token" in log.read_text()
        token = ["--token", created["token"]]
        relay = start_relay(created["inspect_url"], target.url, state, output, *token)
        wait_connected(relay, log)
        httpx.post(created["url"] + "/private", content=b"secret")
        target.wait_for(1)
        relay.terminate()
        relay.wait(10)
    assert target.received[0][3] == b"secret"
