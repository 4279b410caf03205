"""The writer process: stores batches of captured requests off the server's GIL.

Storing a batch (the database driver's Python, building the live events) took
45-70 us a request from the one GIL that the event loop answering senders also
needs (docs/performance.md). So each server process starts one writer process
and hands it each batch over a socket pair: the writer checks the batch's rate
limits (bins.limits), stores it in one transaction and replies with each request's
outcome and the encoded events. The server answers senders only after that reply,
so a sender is still answered after commit.

The server may send the next batch before the last reply came: the writer
process stores them in order, without waiting for the server between two. It
exits when its server goes away (end of file on the socket), after its last batch.
"""

import asyncio
import logging
import os
import pickle
import queue
import socket
import struct
import subprocess
import sys
import threading
from collections import defaultdict, deque
from pathlib import Path

from django.db import DatabaseError, InterfaceError, OperationalError, connection

from . import live
from .rules import sent
from .serializers import request_json
from .storage import store_batch

logger = logging.getLogger(__name__)
LENGTH = struct.Struct("!Q")
DATABASE_NAME = "INSPECTOR_WRITER_DATABASE_NAME"  # the server's database, as it uses it


def encoded_requests(stored):
    """Per bin, its stored requests as JSON text, ids ascending. Encoded here, so
    the server's event loop only joins texts into frames."""
    per_bin = defaultdict(list)
    for record in sorted(stored, key=lambda r: r.pk):
        try:
            event = request_json(record, record.masked, record.judge)
        except Exception:
            # Committed already: one request that cannot be shown (a bug in judging or
            # rendering it) must not fail the batch's answers, nor stop the writer.
            logger.exception("could not encode request %s of bin %s", record.pk, record.bin_id)
            event = request_json(record, record.masked)
        per_bin[record.bin_id].append(live.encode(event))
    return dict(per_bin)


def check(records, limiter):
    """Mark the records the rate limits refuse (`refused_for`). A refused one is
    only counted, so its body need not travel any further."""
    for record, wait in zip(records, limiter.waits(records), strict=True):
        record.refused_for = wait
        if wait:
            record.body = b""


def flush(records):
    """Store checked `records`, then build the events to publish: (outcomes, events
    per bin, answers), an outcome per record: its id when stored, the seconds to wait
    when refused, or None when its bin does not exist; an answer per record: (the
    response chosen for it, rendered (bins.rules.sent), or None for the default, and
    whether its bin answers CORS); and forwarding's news (see below)."""
    try:
        taken = store_batch(records)
    except (OperationalError, InterfaceError):
        # A dropped or stale connection (database restarted): reconnect once.
        connection.close()
        taken = store_batch(records)
    taken_ids = {id(record) for record in taken}
    outcomes = [
        (record.id or record.refused_for) if id(record) in taken_ids else None for record in records
    ]
    stored = [record for record in taken if record.id]
    answers = [
        (sent(record.response, record), record.cors) if id(record) in taken_ids else (None, False)
        for record in records
    ]
    # Forwarding (bins.forwarding): None when the batch made no deliveries, else the
    # proxied delivery of each record, or None; this process's worker is woken.
    forwarded = None
    if any(record.forwarded for record in stored):
        forwarded = [record.proxy for record in records]
    return outcomes, encoded_requests(stored), answers, forwarded


# --- framing: an 8-byte length, then a pickle (both ends are ours) -----------


def frame(message):
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return LENGTH.pack(len(data)) + data


def receive_exactly(sock, size):
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        count = sock.recv_into(view[got:])
        if count == 0:
            raise EOFError
        got += count
    return buffer


def receive_message(sock):
    (size,) = LENGTH.unpack(receive_exactly(sock, LENGTH.size))
    return pickle.loads(receive_exactly(sock, size))


# --- the writer process --------------------------------------------------------


def serve(sock, limiter):
    """Store each batch the server sends, in order, and reply, until the server
    goes away. A thread reads the batches and checks their rate limits (a round
    trip to Redis) while the batch before is being stored, so that the round trip
    does not add to every batch's commit, and to the server's answers with it."""
    checked = queue.Queue(maxsize=1)

    def read_and_check():
        while True:
            try:
                records = receive_message(sock)
            except (EOFError, OSError):
                checked.put(None)
                return
            check(records, limiter)
            checked.put(records)

    threading.Thread(target=read_and_check, name="inspector-limits", daemon=True).start()
    while (records := checked.get()) is not None:
        try:
            reply = ("ok", *flush(records))
        except DatabaseError as error:
            logger.error("could not store %d captured requests: %s", len(records), error)
            connection.close()
            reply = ("error", str(error))
        sock.sendall(frame(reply))


# --- the server's side ---------------------------------------------------------


class WriterProcess:
    """A writer process and the server's connection to it, on the event loop.
    send() may be called again before earlier replies came: they come in order."""

    def __init__(self):
        self.process = None
        self.stream = None
        self.waiting = deque()  # futures of the batches sent, oldest first

    async def start(self):
        if self.process is not None:  # one that went away: make sure, and reap it
            self.process.kill()
            await asyncio.to_thread(self.process.wait)
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "inspector.writer", str(theirs.fileno())],
            cwd=Path(__file__).resolve().parent.parent,
            env={**os.environ, DATABASE_NAME: str(connection.settings_dict["NAME"])},
            pass_fds=[theirs.fileno()],
        )
        theirs.close()
        reader, self.stream = await asyncio.open_connection(sock=ours)
        self.replies = asyncio.create_task(self.read_replies(reader, self.waiting))

    async def send(self, records):
        """Hand `records` to the writer process; returns a future of what flush()
        returns there: (outcomes, events per bin)."""
        reply = asyncio.get_running_loop().create_future()
        try:
            if self.stream is None:
                await self.start()
            self.waiting.append(reply)
            self.stream.write(frame(records))
            await self.stream.drain()
        except OSError as error:  # could not start it, or it went away meanwhile
            if not reply.done():
                reply.set_exception(OperationalError(f"the writer process went away: {error!r}"))
        return reply

    async def read_replies(self, reader, waiting):
        try:
            while True:
                (size,) = LENGTH.unpack(await reader.readexactly(LENGTH.size))
                reply = pickle.loads(await reader.readexactly(size))
                future = waiting.popleft()
                if future.done():  # failed already, when sending it failed
                    continue
                if reply[0] == "error":
                    future.set_exception(DatabaseError(reply[1]))
                else:
                    future.set_result(reply[1:])
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            if self.stream is not None:  # not closed by us
                logger.error("the writer process went away: %r", error)
                self.forget()
            for future in waiting:
                if not future.done():
                    future.set_exception(OperationalError("the writer process went away"))

    def forget(self):
        """Close our end: the writer process stores the batches it has, and exits."""
        if self.stream is not None:
            self.stream.close()
            self.stream = None
            self.waiting = deque()

    async def close(self):
        self.forget()
        if self.process is not None:
            await asyncio.to_thread(stop, self.process)
            self.process = None
            await asyncio.wait([self.replies], timeout=5)


def stop(process, timeout=30):
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
