"""A real nginx (Debian's) in front of Inspector, with the project's deploy/nginx.conf:
HTTP and websockets proxied, the client address from the proxy trusted (and a client's
own claim not), big bodies passed on, header names with underscores kept."""

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import server_on_test_database
from tests.integration.helpers import create_bin, list_requests, viewer
from tests.servers import require

pytestmark = pytest.mark.django_db(transaction=True)
DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def nginx_binary():
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )


@pytest.fixture(scope="module")
def behind_nginx(django_db_setup, tmp_path_factory):
    """Inspector (trusting 127.0.0.1) behind nginx on a port of its own: nginx's base URL."""
    binary = nginx_binary()
    require(binary, "nginx is not installed")
    with server_on_test_database("nginx", INSPECTOR_TRUSTED_PROXIES="127.0.0.1") as server:
        folder = tmp_path_factory.mktemp("nginx")
        folder.chmod(0o755)
        port = free_port()
        site = DEPLOY.read_text()
        site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{server.port};")
        site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
        (folder / "inspector.conf").write_text(site)
        temp = "".join(
            f"{kind}_temp_path {folder}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (folder / "nginx.conf").write_text(
            f"daemon off;\nworker_processes 1;\npid {folder}/nginx.pid;\n"
            f"error_log {folder}/error.log;\nevents {{}}\n"
            f"http {{\naccess_log off;\n{temp}include {folder}/inspector.conf;\n}}\n"
        )
        process = subprocess.Popen(
            [binary, "-p", str(folder), "-c", str(folder / "nginx.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                assert process.poll() is None, (folder / "error.log").read_text()
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
        try:
            yield base
        finally:
            process.terminate()
            process.wait(10)


def test_a_webhook_through_nginx_is_stored_as_sent(behind_nginx):
    bin = create_bin(behind_nginx)
    assert bin["url"].startswith(behind_nginx)
    body = bytes(range(256)) * 20_000  # 5 MB, passed on by nginx as it comes
    answer = httpx.post(
        bin["url"] + "/hook?x=1",
        content=body,
        headers={"X_Under_Score": "kept", "X-Forwarded-For": "198.51.100.66"},
    )
    assert answer.status_code == 200
    [stored] = list_requests(behind_nginx, bin["id"])
    assert ["X_Under_Score", "kept"] in stored["headers"]
    assert stored["body_size"] == len(body) and not stored["body_truncated"]
    # nginx says who connected to it; what the client claimed is replaced.
    assert stored["remote_addr"] == "127.0.0.1"
    raw = httpx.get(f"{behind_nginx}/api/bins/{bin['id']}/requests/{stored['id']}/body")
    assert raw.content == body


def test_a_body_over_inspectors_limit_is_refused_by_inspector_not_nginx(behind_nginx):
    bin = create_bin(behind_nginx)
    answer = httpx.post(bin["url"], content=b"z" * (11 * 1024 * 1024))
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "body_too_large"


async def test_the_websocket_goes_through_nginx(behind_nginx):
    bin = create_bin(behind_nginx)
    async with viewer(behind_nginx, bin["id"]) as ws:
        async with httpx.AsyncClient() as client:
            stored = (await client.post(bin["url"], content=b"live via nginx")).json()["id"]
        event = json.loads(await ws.recv())
    assert event["type"] == "requests.created"
    assert [item["id"] for item in event["requests"]] == [stored]
