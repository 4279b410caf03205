"""Copy as curl, HTTPie and Python requests: each generated command, run for real
against the bin, sends a request that is captured the same as the original."""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_inspect_page import wait_live
from tests.integration.helpers import create_bin, list_requests

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VENV_BIN = str(Path(sys.executable).parent)
TEXT_BODY = '{"note": "café \\u2603", "quote": "it\'s \\"q\\"", "lines": "a\\nb"}\n'.encode()
BINARY_BODY = bytes(range(256)) * 3


def detail(base_url, bin_id, request_id):
    return httpx.get(f"{base_url}/api/bins/{bin_id}/requests/{request_id}").json()


def generated(page, kind, req, download_url):
    """What the page's copyas.js makes of a request (the same code the menu runs)."""
    return page.evaluate(
        """async ([kind, req, url]) => {
            const m = await import("/static/js/copyas.js");
            const b = await import("/static/js/body.js");
            const bytes = b.decodeBase64(req.body_base64);
            return {
                curl: () => m.curlCommand(req, url),
                httpie: () => m.httpieCommand(req, url),
                python: () => m.pythonCode(req, bytes),
            }[kind]();
        }""",
        [kind, req, download_url],
    )


def run(kind, code, workdir):
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"}
    command = [sys.executable, "-c", code] if kind == "python" else ["bash", "-c", code]
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode(errors="replace")


def sent_headers(req):
    skipped = {"host", "content-length", "connection", "transfer-encoding"}
    return [pair for pair in req["headers"] if pair[0].lower() not in skipped]


@pytest.mark.parametrize("kind", ["curl", "httpie", "python"])
@pytest.mark.parametrize("body", [TEXT_BODY, BINARY_BODY, b""], ids=["text", "binary", "empty"])
def test_a_copied_command_sends_the_request_again_byte_for_byte(
    app_server, page, tmp_path, kind, body
):
    bin = create_bin(app_server.base_url)
    headers = [
        ("X-Custom", "a  b"),
        ("X-Quote", 'it\'s "quoted" $HOME `x`'),
        ("Content-Type", "application/octet-stream" if body == BINARY_BODY else "application/json"),
        ("User-Agent", "hook-sender/1.0"),
        ("Accept", "*/*"),
    ]
    with httpx.Client() as client:
        original_id = client.request(
            "PATCH", bin["url"] + "/orders/7?x=1&y=%20two&empty=", content=body, headers=headers
        ).json()["id"]
    page.goto(bin["inspect_url"])
    wait_live(page)
    expect(page.locator("li.request-item")).to_have_count(1)
    original = detail(app_server.base_url, bin["id"], original_id)
    download = f"{app_server.base_url}/api/bins/{bin['id']}/requests/{original_id}/body"
    run(kind, generated(page, kind, original, download), tmp_path)

    copy = list_requests(app_server.base_url, bin["id"])[0]
    assert copy["id"] != original_id
    copy = detail(app_server.base_url, bin["id"], copy["id"])
    assert copy["method"] == original["method"]
    assert copy["path"] == original["path"]
    assert copy["query_string"] == original["query_string"]
    assert copy["body_base64"] == original["body_base64"]
    sent = sent_headers(copy)
    for pair in sent_headers(original):
        assert pair in sent, (pair, sent)
    extra = {name.lower() for name, _ in sent} - {
        name.lower() for name, _ in sent_headers(original)
    }
    assert extra <= {"accept-encoding"}, extra  # requests and HTTPie may say they take gzip
