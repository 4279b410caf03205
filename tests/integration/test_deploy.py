"""The documented production settings (README, "In production"): Django's deployment
checks pass, and a server behind a TLS-ending proxy keeps pages on https."""

import os
import subprocess
import sys
import tempfile

import httpx
import pytest

from tests.conftest import server_on_test_database
from tests.servers import BASE_DIR

PRODUCTION = {
    "PUBLIC_URL": "https://hooks.example.com",
    "INSPECTOR_TRUSTED_PROXIES": "127.0.0.1",
    "INSPECTOR_HTTPS": "true",
    "INSPECTOR_HSTS_INCLUDE_SUBDOMAINS": "true",
    "INSPECTOR_HSTS_PRELOAD": "true",
    "ALLOWED_HOSTS": "127.0.0.1",
}


def test_the_production_settings_pass_djangos_deployment_checks():
    env = {**os.environ, **PRODUCTION, "DATA_DIR": tempfile.mkdtemp(prefix="inspector-deploy-")}
    for test_only in ("DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"):  # set for the tests, not for use
        env.pop(test_only, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def https_server(django_db_setup, django_db_blocker):
    """A server with the production settings, on the test database."""
    with server_on_test_database("https", **PRODUCTION) as server:
        yield server


@pytest.mark.django_db(transaction=True)
def test_behind_https_pages_redirect_to_https_and_say_stay_there(https_server):
    base = https_server.base_url
    plain = httpx.get(base + "/")
    assert plain.status_code == 301
    assert plain.headers["Location"].startswith("https://")
    secure = httpx.get(base + "/", headers={"X-Forwarded-Proto": "https"})
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )


@pytest.mark.django_db(transaction=True)
def test_behind_https_capture_still_answers_plain_http(https_server):
    bin = httpx.post(
        https_server.base_url + "/api/bins", headers={"X-Forwarded-Proto": "https"}
    ).json()
    answer = httpx.post(f"{https_server.base_url}/b/{bin['id']}", content=b"sent over http")
    assert answer.status_code == 200
    assert bin["url"].startswith("https://hooks.example.com/b/")
