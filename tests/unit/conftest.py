import pytest

from bins import ingest
from bins.models import new_bin_id


@pytest.fixture
def bin_id():
    """A fresh, well-formed bin id (no row behind it)."""
    return new_bin_id()


@pytest.fixture
def make_scope(bin_id):
    """Build an ASGI http scope as Daphne hands it over, for a path below `bin_id`."""

    def make_scope(
        method="POST",
        path=b"/hook",
        query_string=b"",
        headers=(),
        client=("203.0.113.9", 51234),
        server=("testserver", 80),
        scheme="http",
        capture=None,
    ):
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": scheme,
            "path": "/b/" + bin_id + path.decode("latin-1"),
            "raw_path": b"/b/" + bin_id.encode() + path,
            "query_string": query_string,
            "headers": list(headers),
            "client": client,
            "server": server,
        }
        if capture is not None:
            scope["extensions"] = {"inspector.capture": capture}
        return scope

    return make_scope


@pytest.fixture
async def writer():
    """The capture writer of this test's event loop; stopped, with its thread, afterwards."""
    writer = ingest.get_writer()
    yield writer
    await writer.close()
    ingest._writer = None
