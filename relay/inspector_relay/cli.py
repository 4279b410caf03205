"""inspector-relay: a bin's requests, delivered live to a local URL (see README.md)."""

import argparse
import asyncio
import base64
import json
import os
import re
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

BIN_IN_URL = re.compile(r"/(?:bins|b|api/bins|ws/bins)/([a-z0-9][a-z0-9-]{1,38}[a-z0-9])(?:/|$)")
# Not passed on: the sending side writes these itself.
SKIPPED = {
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
}
REFUSALS = {
    401: "this bin is private: pass --token with one of its tokens",
    404: "there is no such bin (or it expired)",
    410: "this bin has expired",
}
PAGE = 500
BACKOFF_MAX = 10.0
NOT_FOUND = 4404
NO_ACCESS = 4403


def parse_bin_url(url):
    """'https://host/bins/<id>/' (or /b/<id>, /api/bins/<id>) -> ('https://host', id)."""
    parts = urlsplit(url)
    match = BIN_IN_URL.search(parts.path)
    if parts.scheme not in ("http", "https") or not parts.netloc or not match:
        raise ValueError(f"not the URL of a bin: {url}")
    return f"{parts.scheme}://{parts.netloc}", match.group(1)


def target_url(base, path, query):
    """The local URL a request goes to: the target, then its path below the bin and query."""
    url = base.rstrip("/") + (path if path.startswith("/") or not path else "/" + path)
    return url + ("?" + query if query else "")


def delivered_headers(headers):
    """The request's headers, in order, repeats kept, as bytes (Latin-1 is how Inspector
    gives them: a character per byte)."""
    return [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in headers
        if name.lower() not in SKIPPED
    ]


class State:
    """The id of the last request delivered, kept in a file across runs."""

    def __init__(self, path):
        self.path = Path(path)
        try:
            self.last = int(json.loads(self.path.read_text())["last"])
        except (OSError, ValueError, KeyError, TypeError):
            self.last = None

    def save(self, last):
        self.last = last
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"last": last}))
        os.replace(temporary, self.path)  # never half written


class Stopped(Exception):
    """Asked to stop, between two deliveries."""


class Relay:
    def __init__(self, server, bin_id, target, token=None, state=None, out=sys.stdout):
        self.busy = False  # a delivery is under way: a stop waits for it
        self.stopping = False
        self.server, self.bin_id, self.target = server, bin_id, target
        self.auth = {"Authorization": f"Bearer {token}"} if token else {}
        self.state = state
        self.out = out
        self.api = httpx.AsyncClient(base_url=server, headers=self.auth, timeout=30)
        self.local = httpx.AsyncClient(timeout=30, follow_redirects=False)
        self.local.headers.clear()  # only the request's own headers go, not httpx's

    async def close(self):
        await self.api.aclose()
        await self.local.aclose()

    def say(self, line):
        print(line, file=self.out, flush=True)

    async def newest_id(self):
        answer = await self.api.get(f"/api/bins/{self.bin_id}/requests", params={"limit": 1})
        answer.raise_for_status()
        requests = answer.json()["requests"]
        return requests[0]["id"] if requests else 0

    async def deliver(self, request_id):
        """Fetch one request whole and send it to the target; one line says how it went."""
        answer = await self.api.get(f"/api/bins/{self.bin_id}/requests/{request_id}")
        if answer.status_code == 404:  # deleted or dropped since: nothing to deliver
            self.say(f"#{request_id} is gone from the bin; skipped")
            return
        answer.raise_for_status()
        req = answer.json()
        started = time.monotonic()
        try:
            sent = await self.local.request(
                req["method"],
                target_url(self.target, req["path"], req["query_string"]),
                headers=delivered_headers(req["headers"]),
                content=base64.b64decode(req["body_base64"]),
            )
            outcome = str(sent.status_code)
        except httpx.HTTPError as problem:
            outcome = f"failed ({type(problem).__name__}: {problem})"
        took = (time.monotonic() - started) * 1000
        cut = " (body cut at capture)" if req["body_truncated"] else ""
        path = req["path"] or "/"
        self.say(f"{req['method']} {path} -> {outcome} in {took:.0f} ms (#{request_id}){cut}")

    async def deliver_after(self, ids):
        """Deliver the ids not delivered yet, in order, remembering each one. A stop
        (Ctrl+C, SIGTERM) waits for the delivery under way and its record."""
        for request_id in sorted(set(ids)):
            if self.state.last is not None and request_id <= self.state.last:
                continue  # delivered already (a backlog and live events may overlap)
            self.busy = True
            try:
                await self.deliver(request_id)
                self.state.save(request_id)
            finally:
                self.busy = False
            if self.stopping:
                raise Stopped

    async def catch_up(self):
        """Everything stored after the last delivered request, through the API."""
        while True:
            answer = await self.api.get(
                f"/api/bins/{self.bin_id}/requests",
                params={"after": self.state.last or 0, "limit": PAGE},
            )
            answer.raise_for_status()
            ids = [item["id"] for item in answer.json()["requests"]]
            await self.deliver_after(ids)
            if len(ids) < PAGE:
                return

    def ws_url(self):
        after = self.state.last or 0
        return re.sub(r"^http", "ws", self.server) + f"/ws/bins/{self.bin_id}/?after={after}"

    async def run(self, from_start=False):
        if self.state.last is None:
            try:
                self.state.save(0 if from_start else await self.newest_id())
            except httpx.HTTPStatusError as problem:
                self.say(REFUSALS.get(problem.response.status_code, str(problem)) + "; stopping")
                return 1
        self.say(f"relaying the requests of bin {self.bin_id} to {self.target}")
        backoff = 0.5
        while True:
            try:
                async with connect(self.ws_url(), additional_headers=self.auth) as ws:
                    backoff = 0.5
                    async for message in ws:
                        event = json.loads(message)
                        if event["type"] == "requests.created":
                            await self.deliver_after(item["id"] for item in event["requests"])
                        elif event["type"] == "gap":
                            await self.catch_up()
                        elif event["type"] == "bin.deleted":
                            self.say("the bin was deleted; stopping")
                            return 1
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                if code in (NOT_FOUND, NO_ACCESS):
                    self.say(REFUSALS[401 if code == NO_ACCESS else 404] + "; stopping")
                    return 1
            except (OSError, InvalidStatus, TimeoutError) as problem:
                self.say(f"cannot reach {self.server} ({problem}); retrying in {backoff:.0f} s")
            await asyncio.sleep(backoff)
            backoff = min(BACKOFF_MAX, backoff * 2)


def default_state(server, bin_id):
    host = urlsplit(server).netloc.replace(":", "_")
    return Path.home() / ".cache" / "inspector-relay" / f"{host}-{bin_id}.json"


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="inspector-relay",
        description="Deliver the requests an Inspector bin captures to a local URL, live.",
    )
    parser.add_argument("bin", help="the bin's page, capture URL or API URL")
    parser.add_argument("target", help="where to deliver, e.g. http://localhost:3000/webhooks")
    parser.add_argument("--token", help="a token of the bin (private bins)")
    parser.add_argument("--state", help="where to remember the last request delivered")
    parser.add_argument(
        "--from-start", action="store_true", help="first deliver what the bin holds already"
    )
    args = parser.parse_args(argv)
    try:
        server, bin_id = parse_bin_url(args.bin)
    except ValueError as problem:
        parser.error(str(problem))
    state = State(args.state or default_state(server, bin_id))
    relay = Relay(server, bin_id, args.target, args.token, state)

    async def run():
        task = asyncio.current_task()

        def stop():
            relay.stopping = True
            if not relay.busy:
                task.cancel()  # waiting for news: nothing is lost by leaving now

        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, stop)
        try:
            return await relay.run(from_start=args.from_start)
        except (Stopped, asyncio.CancelledError):
            return 0
        finally:
            await relay.close()

    return asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
