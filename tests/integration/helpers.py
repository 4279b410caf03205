"""Small clients for tests against a real server: raw HTTP, JSON API, websocket."""

import asyncio
import json
import socket

import httpx
from websockets.asyncio.client import connect


def create_bin(base_url, name=""):
    response = httpx.post(f"{base_url}/api/bins", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()


def raw_request(port, data, timeout=10):
    """Send `data` as it is and return the whole answer (the server closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def list_requests(base_url, bin_id, **params):
    response = httpx.get(f"{base_url}/api/bins/{bin_id}/requests", params=params)
    assert response.status_code == 200, response.text
    return response.json()["requests"]


def viewer(base_url, bin_id, after=None):
    """A websocket viewer of a bin, with the same Origin as a page of `base_url`."""
    ws_url = base_url.replace("http://", "ws://") + f"/ws/bins/{bin_id}/"
    if after is not None:
        ws_url += f"?after={after}"
    return connect(ws_url, origin=base_url, open_timeout=10)


async def next_event(ws, timeout=10):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def collect_request_ids(ws, count, timeout=15):
    """Read `requests.created` events until `count` distinct ids have arrived."""
    ids = []
    async with asyncio.timeout(timeout):
        while len(set(ids)) < count:
            event = await next_event(ws, timeout)
            if event["type"] == "requests.created":
                ids.extend(item["id"] for item in event["requests"])
    return ids
