"""Real servers for the tests: Inspector under Daphne in a subprocess, and checks
for the PostgreSQL and Redis that this machine kind runs (TESTING.md)."""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PR_SET_PDEATHSIG = 1
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(available, reason):
    """Skip with `reason` when something the test needs is missing; in CI, fail."""
    if not available:
        if IN_CI:
            pytest.fail(f"{reason} (required in CI)")
        pytest.skip(reason)


def chromium_path():
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


def chromium_launch_args(path):
    """Debian's Chromium, headless, kept off every network but this machine's."""
    return {
        "executable_path": path,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
        ],
    }


def die_with_parent():
    """Runs in the child: SIGTERM it when pytest goes away, however pytest ends."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def listening_socket(port=0):
    """A listening socket on `port` (0: a free one). With SO_REUSEPORT, several
    processes can each listen on their own socket of one port, and the kernel
    spreads connections over them (a shared socket put them all on one process)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


class ServerProcess:
    """`python -m inspector.server` (or plain Daphne with `app`) on a socket bound
    here, so the port is ours for the whole test, across restarts of the server."""

    def __init__(self, env, name="inspector", app=None, port=0):
        self.app = app
        self.sock = listening_socket(port)
        self.port = self.sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_base = f"ws://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (open for the server's life)
            prefix=f"{name}-", suffix=".log", delete=False
        )
        self.process = None

    def start(self):
        fd = self.sock.fileno()
        if self.app is None:
            command = ["inspector.server", "--fd", str(fd), "-v", "1"]
        else:  # verbosity 0: no access log, like ours
            command = ["daphne", "--fd", str(fd), "-v", "0", self.app]
        self.process = subprocess.Popen(
            [sys.executable, "-m", *command],
            cwd=BASE_DIR,
            env=self.env,
            pass_fds=[fd],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        self.wait_ready()
        return self

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited {self.process.returncode}:\n{self.output()}")
            try:
                # Any answer of the app's (a redirect to https, say) means it serves.
                if httpx.get(self.base_url + "/", timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not answer within {timeout} s:\n{self.output()}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self):
        self.stop()
        return self.start()

    def close(self):
        self.stop()
        self.sock.close()

    def output(self):
        return Path(self.log.name).read_text(errors="replace")[-5000:]


def redis_available(url=REDIS_URL):
    import redis

    try:
        return redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.RedisError:
        return False


def postgres_available(url=POSTGRES_URL):
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


class PostgresDatabase:
    """A fresh, migrated database on the local PostgreSQL, dropped at close()."""

    def __init__(self, admin_url=POSTGRES_URL):
        import psycopg

        self.psycopg = psycopg
        self.admin_url = admin_url
        self.name = f"inspector_test_{uuid.uuid4().hex[:12]}"
        self.url = admin_url.rsplit("/", 1)[0] + "/" + self.name
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=BASE_DIR,
            env={**os.environ, "DATABASE_URL": self.url},
            check=True,
        )

    def close(self):
        with self.psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
