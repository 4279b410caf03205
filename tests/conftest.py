import contextlib
import tempfile
import uuid

import pytest

from tests.servers import (
    REDIS_URL,
    PostgresDatabase,
    ServerProcess,
    postgres_available,
    redis_available,
    require,
)

# Servers shared by many tests run without rate limits: every test sends from
# 127.0.0.1, and one client's bucket would run dry over a session. The limits are
# tested on servers of their own.
NO_RATE_LIMITS = {"INSPECTOR_BIN_RATE": "0", "INSPECTOR_CLIENT_RATE": "0"}
# Servers on the test database share its forwarding queue: only those a test starts
# for forwarding (with its own policy) send deliveries, or another would claim them.
NOT_FORWARDING = {"INSPECTOR_FORWARD_WORKER": "false"}


def database_url(settings_dict):
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict["USER"] or "postgres"
    host = settings_dict["HOST"] or "127.0.0.1"
    port = settings_dict["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{settings_dict['NAME']}"


@contextlib.contextmanager
def server_on_test_database(name, **env):
    """Inspector under Daphne in a subprocess, on the test database of this run,
    without rate limits unless `env` (on top) sets them."""
    from django.db import connection

    # pytest-django sets up only the databases that collected tests ask for.
    assert "test" in str(connection.settings_dict["NAME"]), "mark the test django_db"
    env = {
        "DATABASE_URL": database_url(connection.settings_dict),
        "DATA_DIR": tempfile.mkdtemp(prefix=f"inspector-{name}-"),
        **NO_RATE_LIMITS,
        **NOT_FORWARDING,
        **env,
    }
    server = ServerProcess(env, name=name).start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def app_server(django_db_setup, django_db_blocker):
    """Inspector under Daphne in a subprocess, on the test database of this run."""
    with server_on_test_database("app") as server:
        yield server


@pytest.fixture(scope="session")
def services():
    """The local PostgreSQL and Redis, which CI must have."""
    require(redis_available(), f"Redis does not answer at {REDIS_URL}")
    require(postgres_available(), "PostgreSQL does not answer at 127.0.0.1:5432")


@contextlib.contextmanager
def scaled(count=2, **env):
    """`count` Inspector processes sharing a fresh PostgreSQL database and Redis,
    with `env` on top."""
    database = PostgresDatabase()
    env = {
        "DATABASE_URL": database.url,
        "REDIS_URL": REDIS_URL,
        "INSPECTOR_REDIS_PREFIX": f"inspector-test-{uuid.uuid4().hex[:8]}",
        "DATA_DIR": tempfile.mkdtemp(prefix="inspector-scaled-"),
        **NO_RATE_LIMITS,
        **env,
    }
    servers = [ServerProcess(env, name=f"scaled{i}").start() for i in range(count)]
    try:
        yield servers
    finally:
        for server in servers:
            server.close()
        database.close()


@pytest.fixture(scope="module")
def scaled_servers(services):
    """Two Inspector processes sharing a fresh PostgreSQL database and Redis."""
    with scaled() as servers:
        yield servers
