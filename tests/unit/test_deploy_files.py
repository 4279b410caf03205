"""deploy/ stays consistent with the code and with the nginx configuration that
tests/integration/test_nginx.py runs. No container runtime here (and no registry for
its images), so the Docker files are checked as text against what they rely on."""

import re
from pathlib import Path

from django.urls import resolve

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SETTINGS = (Path(__file__).resolve().parents[2] / "inspector" / "settings.py").read_text()
COMPOSE = (DEPLOY / "docker-compose.yml").read_text()
DOCKERFILE = (DEPLOY / "Dockerfile").read_text()
NGINX = (DEPLOY / "nginx.conf").read_text()


def compose_service(name):
    """The text of one top-level service of the compose file."""
    match = re.search(rf"^  {name}:\n((?:    .*\n|\s*\n)+)", COMPOSE, re.MULTILINE)
    assert match, f"no service {name}"
    return match.group(1)


def test_the_compose_nginx_rewrites_the_upstream_line_of_the_tested_config():
    rewritten = re.search(r"sed 's/([^/]+)/([^/]+)/'", COMPOSE)
    assert rewritten, "nginx's command rewrites the upstream"
    assert rewritten.group(1) in NGINX
    assert rewritten.group(2) == "server app:8000;"
    assert '"--port", "8000"' in compose_service("app")


def test_every_variable_the_deploy_files_set_is_read_by_the_settings():
    names = set(re.findall(r"^\s+([A-Z][A-Z0-9_]+):", COMPOSE, re.MULTILINE))
    names -= {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}  # the postgres image's
    for unit in DEPLOY.glob("*.service"):
        names |= set(re.findall(r"^Environment=([A-Z_]+)=", unit.read_text(), re.MULTILINE))
    names |= set(
        re.findall(r"^ENV (.+)$", DOCKERFILE, re.MULTILINE)[0].replace("=", " ").split()[::2]
    )
    names.discard("PYTHONUNBUFFERED")  # Python's own
    assert names
    unread = {name for name in names if f'"{name}"' not in SETTINGS}
    assert not unread, f"set by deploy/ but not read by inspector/settings.py: {unread}"


def test_only_nginx_is_trusted_to_name_the_client():
    trusted = re.search(r"INSPECTOR_TRUSTED_PROXIES: (\S+)", compose_service("app")).group(1)
    assert f"ipv4_address: {trusted}" in compose_service("nginx")


def test_migrations_run_once_before_the_app_processes_start():
    assert 'manage.py", "migrate"' in compose_service("migrate")
    assert "migrate: {condition: service_completed_successfully}" in compose_service("app")
    assert "migrate" not in compose_service("app").split("depends_on")[0]


def test_the_container_health_check_asks_a_route_that_exists():
    path = re.search(r"urlopen\('http://127\.0\.0\.1:8000(/[a-z]+)'", DOCKERFILE).group(1)
    assert resolve(path).func.__name__ == "healthz"
    assert "inspector.server" in DOCKERFILE
