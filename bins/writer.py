"""The writer process: stores batches of captured requests off the server's GIL.

Storing a batch (the database driver's Python, building the live events) took
45-70 us a request from the one GIL that the event loop answering senders also
needs (docs/performance.md). So each server process starts one writer process
and hands it each batch over a socket pair: the writer stores the batch in one
transaction and replies with the ids and the encoded events. The server answers
senders only after that reply, so a sender is still answered after commit.

The server may send the next batch before the last reply came: the writer
process stores them in order, without waiting for the server between two. It
exits when its server goes away (end of file on the socket), after its last batch.
"""

import asyncio
import logging
import os
import pickle
import socket
import struct
import subprocess
import sys
from collections import defaultdict, deque
from pathlib import Path

from django.db import DatabaseError, InterfaceError, OperationalError, connection

from . import live
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
        per_bin[record.bin_id].append(live.encode(request_json(record)))
    return dict(per_bin)


def flush(records):
    """Store `records`, then build the events to publish: (ids, events per bin),
    with None as the id of a record whose bin does not exist."""
    try:
        stored = store_batch(records)
    except (OperationalError, InterfaceError):
        # A dropped or stale connection (database restarted): reconnect once.
        connection.close()
        stored = store_batch(records)
    return [record.id for record in records], encoded_requests(stored)


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


def serve(sock):
    """Store each batch the server sends, in order, and reply, until the server
    goes away. Batches queue in the socket while one is being stored."""
    while True:
        try:
            records = receive_message(sock)
        except EOFError:
            return
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
        """Hand `records` to the writer process; returns a future of (ids, events
        per bin), with None as the id of a record whose bin does not exist."""
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
