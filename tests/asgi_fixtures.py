"""Fixtures for tests that drive the ASGI application in-process (API, consumers);
each conftest that wants them imports them."""

import asyncio
import copy
from urllib.parse import unquote

import pytest
from asgiref.sync import sync_to_async
from channels.testing import ApplicationCommunicator, WebsocketCommunicator
from django.db import connection

from bins import hub, ingest
from bins.capture import build_request
from bins.models import Bin
from bins.storage import store_batch
from inspector.asgi import application

SAME_ORIGIN = [(b"origin", b"http://testserver"), (b"host", b"testserver")]


@pytest.fixture(autouse=True)
def fresh_channel_layer(settings):
    """A new channel layer for each test (Channels rebuilds it when the setting changes)."""
    settings.CHANNEL_LAYERS = copy.deepcopy(settings.CHANNEL_LAYERS)


@pytest.fixture(autouse=True)
async def stop_writer():
    """Stop the capture writer of this test's event loop, and its process, and the
    live events hub, after the test."""
    yield
    writer = ingest._writer
    if writer is not None and writer.loop is asyncio.get_running_loop():
        await writer.close()
        ingest._writer = None
    await hub.close_hub()


@pytest.fixture(autouse=True)
async def close_sync_connection():
    """Close the connection of asgiref's thread for sync code (ORM calls of async views)."""
    yield
    await sync_to_async(close_connection)()


def close_connection():
    connection.close()


@pytest.fixture
async def bin(transactional_db):
    """A stored, empty bin."""
    return await Bin.objects.acreate(name="test")


@pytest.fixture
def capture():
    """Send one HTTP request through the real ASGI application; returns the response."""

    async def capture(path, body=b"", method="POST", headers=(), extensions=None, timeout=5):
        raw_path, _, query = path.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": unquote(raw_path),
            "raw_path": raw_path.encode(),
            "query_string": query.encode(),
            "headers": [(b"host", b"testserver"), *headers],
            "client": ("203.0.113.9", 40000),
            "server": ("testserver", 80),
        }
        if extensions is not None:
            scope["extensions"] = extensions
        communicator = ApplicationCommunicator(application, scope)
        await communicator.send_input({"type": "http.request", "body": body})
        start = await communicator.receive_output(timeout)
        assert start["type"] == "http.response.start"
        answer = await communicator.receive_output(timeout)
        await communicator.wait(timeout)
        return {
            "status": start["status"],
            "headers": dict(start["headers"]),
            "body": answer["body"],
        }

    return capture


@pytest.fixture
def store_requests():
    """Store `count` requests in `bin` through the writer's own store_batch; returns them."""

    async def store_requests(bin, count):
        records = []
        for number in range(count):
            scope = {
                "method": "POST",
                "headers": [(b"host", b"testserver")],
                "client": ("203.0.113.9", 1),
            }
            body = f"request {number}".encode()
            records.append(
                build_request(
                    scope, body, len(body), bin_id=bin.id, path=f"/{number}", max_body_bytes=1024
                )
            )
        return await sync_to_async(store_batch)(records)

    return store_requests


@pytest.fixture
async def open_socket():
    """Open websockets to the real ASGI application; closed (crashes raised) after the test."""
    opened = []

    async def open_socket(path, headers=SAME_ORIGIN):
        communicator = WebsocketCommunicator(application, path, headers=headers)
        opened.append(communicator)
        connected, code = await communicator.connect(timeout=5)
        return communicator, connected, code

    yield open_socket
    for communicator in opened:
        if communicator.future.done():
            communicator.future.result()  # a consumer that crashed fails the test
        else:
            await communicator.disconnect()


BROWSER = {"Origin": "http://testserver"}


async def create_in_browser(client, **body):
    """Create a bin as the home page does: `client`'s session becomes its owner."""
    response = await client.post(
        "/api/bins", body, content_type="application/json", headers=BROWSER
    )
    assert response.status_code == 201
    return response.json()
