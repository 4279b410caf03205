"""Daphne, with what it gets wrong for a request bin mended (PITFALLS.md).

Run as `python -m inspector.server [daphne options]` (the app is always ours).
Written against Daphne 4.2.3 and Twisted 26.10.0 (pinned in requirements.txt),
because it extends their request classes; tests/integration/test_server.py
covers every point below.

- Daphne drops every header whose name contains "_", lowercases names and
  regroups repeated ones. We record each header line as it arrived (name case,
  order, duplicates) and hand that list to the capture app in the scope
  extension "inspector.capture". Django still gets Daphne's own cleaned headers.
- Daphne refuses header values with bytes such as 0x85, the tail of valid UTF-8
  like "\u00c5"; capture keeps them (as data only).
- Daphne keeps the whole body (Twisted spools big ones to a temporary file) before
  the app runs. We keep at most INSPECTOR_MAX_BODY_BYTES of it in memory and only
  count the rest, so memory per request is bounded and the real size is known.
  A capture whose Content-Length is over the limit is answered 413 at once, its
  body unread (and no "100 Continue" sent for it); the connection then lingers,
  discarding what the client still sends, so that it reads the 413 rather than a
  reset.
- Twisted parses every form and multipart body for Daphne, which never reads the
  result: off (a fifth of the time under load, and no body refused before capture).
- Daphne buffers without bound what a websocket viewer does not read; a viewer
  more than INSPECTOR_WEBSOCKET_BUFFER_BYTES behind is disconnected.
- Twisted's idle timeout starts again with every byte, so a client trickling a
  request byte by byte holds its connection for ever; a request must arrive
  whole within INSPECTOR_READ_TIMEOUT of its first byte, or it is answered 408.
- Daphne's access log prints full paths, and a bin's path is its key: it is off
  unless INSPECTOR_ACCESS_LOG is true. Twisted's own access log line, formatted for
  every request and read by no one, is not made at all.
- A failure script may close a connection without answering: the capture app
  sends "inspector.close", which Daphne would refuse.
- Shutdown: before Daphne cancels the open requests, the writer commits what it
  holds, so what was received is stored.

What cannot be mended here is listed in docs/server.md.
"""

import asyncio
import gc
import io
import logging
import os
import re
import sys
import time

from daphne.server import Server  # isort: skip  (installs the asyncio reactor first)
from daphne import http_protocol, ws_protocol
from daphne.cli import CommandLineInterface
from twisted.internet import defer, reactor, task
from twisted.web import http

from bins import metrics
from bins.responses import CLOSE

logger = logging.getLogger("inspector.server")
REFUSED_VALUE_BYTES = re.compile(
    b"[" + re.escape(bytes(sorted(http_protocol.INVALID_HEADER_VALUE_BYTES))) + b"]"
)


class CaptureRequest(http_protocol.WebRequest):
    def __init__(self, *args, **kwargs):
        self.raw_headers = []
        self.body_size = 0
        super().__init__(*args, **kwargs)
        # Twisted would parse form and multipart bodies into `args`, which Daphne
        # never reads: a fifth of the server's time under load, for nothing.
        self._parsePOSTFormSubmission = False

    def process(self):
        # Daphne refuses values with these bytes (its guard against splitting when
        # it re-injects headers for websockets), which refuses valid UTF-8 such as
        # "\u00c5" (C3 85) too. Capture keeps them from raw_headers, as data only;
        # the copy Daphne checks and passes on goes without them.
        if (
            self.path.startswith(b"/b/")
            and not self.requestHeaders.hasHeader(b"upgrade")
            and REFUSED_VALUE_BYTES.search(b"\n".join(value for _, value in self.raw_headers))
        ):
            for name, values in list(self.requestHeaders.getAllRawHeaders()):
                if any(REFUSED_VALUE_BYTES.search(value) for value in values):
                    self.requestHeaders.removeHeader(name)
        return super().process()

    def handle_reply(self, message):
        if message["type"] == CLOSE:  # a failure script: no answer at all
            if not self.finished and self.channel is not None:
                self.channel.transport.loseConnection()
            return
        super().handle_reply(message)

    def gotLength(self, length):
        # Always in memory (no temporary file): at most max_body_bytes are kept.
        self.content = io.BytesIO()

    def handleContentChunk(self, data):
        self.body_size += len(data)
        room = self.server.max_body_bytes - self.content.tell()
        if room > 0:
            self.content.write(data[:room])


LINGER_SECONDS = 2  # after an early 413, reading (and dropping) before closing


class CaptureChannel(http.HTTPChannel):
    read_started = None  # when the request being read began to arrive (time.monotonic)
    refused_early = False  # a capture too large by its Content-Length is being answered
    discarding = False  # answered and lingering: what arrives is dropped

    def allHeadersReceived(self):
        request = self.requests[-1]
        limit = self.factory.server.max_body_bytes
        if self.length is not None and self.length > limit and self._path.startswith(b"/b/"):
            # Too large by its own account: answer now, without reading the body.
            self.refused_early = True
            request.body_size = self.length
            request.requestHeaders.removeHeader(b"expect")  # no "100 Continue"
            request.responseHeaders.setRawHeaders(b"connection", [b"close"])
            super().allHeadersReceived()
            self.persistent = False
            self.length = 0  # so the request goes to the app now, bodiless
            return
        super().allHeadersReceived()

    def loseConnection(self):
        if not self.refused_early:
            return super().loseConnection()
        # The client may still be sending the body: closing with its bytes unread
        # would reset the connection, and the 413 could be lost before it is read.
        self.discarding = True
        self._networkProducer.unregisterProducer()
        self.transport.loseWriteConnection()
        self.transport.resumeProducing()
        reactor.callLater(LINGER_SECONDS, self.transport.loseConnection)

    def dataReceived(self, data):
        if self.discarding:
            return
        # Twisted's idle timeout starts again with every byte: a client sending one
        # byte every few seconds would hold the connection for ever. A request must
        # arrive whole within INSPECTOR_READ_TIMEOUT of its first byte.
        if self.read_started is None and not self._handlingRequest:
            self.read_started = time.monotonic()
            self.factory.watch_reading(self)
        super().dataReceived(data)

    def allContentReceived(self):
        self.done_reading()
        super().allContentReceived()

    def connectionLost(self, reason):
        self.done_reading()
        super().connectionLost(reason)

    def done_reading(self):
        if self.read_started is not None:
            self.read_started = None
            self.factory.reading.discard(self)

    def lineLengthExceeded(self, line):
        # Twisted hangs up without a word on a line over 16 KiB; say why.
        self.done_reading()
        metrics.refused.labels("headers_too_large").inc()
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n"
            b"Content-Length: 0\r\n\r\n"
        )
        self.transport.loseConnection()

    def read_too_slowly(self):
        self.done_reading()
        metrics.refused.labels("read_timeout").inc()
        logger.info("closing a connection whose request did not arrive in time")
        self.transport.write(
            b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        )
        self.transport.loseConnection()

    def headerReceived(self, line):
        ok = super().headerReceived(line)
        if ok:
            name, value = line.split(b":", 1)
            self.requests[-1].raw_headers.append((name, value.strip(b" \t")))
        return ok


READ_CHECK_EVERY = 0.5  # seconds between two looks for requests not read in time


class CaptureHTTPFactory(http_protocol.HTTPFactory):
    def __init__(self, server):
        super().__init__(server)
        # Channels reading a request. One look at them every READ_CHECK_EVERY rather
        # than a timer per request: Twisted's callLater and cancel cost 12 us a request.
        self.reading = set()
        self.read_checks = task.LoopingCall(self.cut_off_slow_readers)

    def watch_reading(self, channel):
        self.reading.add(channel)
        if not self.read_checks.running:
            self.read_checks.start(READ_CHECK_EVERY, now=False)

    def cut_off_slow_readers(self):
        started_by = time.monotonic() - self.server.read_timeout
        for channel in [c for c in self.reading if c.read_started <= started_by]:
            channel.read_too_slowly()

    def log(self, request):
        # Twisted formats a combined-log line for every request and hands it to a
        # log nobody reads (Daphne's access log is its own, and off): 5% of the
        # server's time under load (py-spy).
        pass

    def protocol(self):
        return http._GenericHTTPChannelProtocol(CaptureChannel())

    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = CaptureRequest
        return protocol


def pending_bytes(transport):
    """Bytes written to a Twisted TCP transport and not yet taken by the kernel."""
    return len(transport.dataBuffer) - transport.offset + transport._tempDataLen


class BoundedWebSocketProtocol(ws_protocol.WebSocketProtocol):
    def serverSend(self, content, binary=False):
        # A viewer that stops reading would grow this buffer without bound. Cut it
        # off instead: the page reconnects with ?after= and gets what it missed.
        limit = self.factory.server_class.max_websocket_buffer
        if self.transport is not None and pending_bytes(self.transport) > limit:
            logger.warning("closing a websocket viewer that is %d bytes behind", limit)
            self.transport.abortConnection()
            return
        super().serverSend(content, binary)


class InspectorServer(Server):
    def __init__(self, *args, **kwargs):
        from django.conf import settings

        if os.environ.get("INSPECTOR_ACCESS_LOG", "").lower() not in ("1", "true", "yes", "on"):
            kwargs["action_logger"] = None
        kwargs["ping_interval"] = settings.INSPECTOR_WEBSOCKET_PING_INTERVAL
        kwargs["ping_timeout"] = settings.INSPECTOR_WEBSOCKET_PING_TIMEOUT
        super().__init__(*args, **kwargs)
        self.max_body_bytes = settings.INSPECTOR_MAX_BODY_BYTES
        self.max_websocket_buffer = settings.INSPECTOR_WEBSOCKET_BUFFER_BYTES
        self.read_timeout = settings.INSPECTOR_READ_TIMEOUT
        if not settings.REDIS_URL:
            logger.warning(
                "REDIS_URL is not set: live events reach only viewers of this process; "
                "run one process, or set REDIS_URL to run several"
            )

    # Daphne's run() builds its factories inline; these setters swap in ours.
    @property
    def http_factory(self):
        return self._http_factory

    @http_factory.setter
    def http_factory(self, _daphne_factory):
        self._http_factory = CaptureHTTPFactory(self)

    @property
    def ws_factory(self):
        return self._ws_factory

    @ws_factory.setter
    def ws_factory(self, daphne_factory):
        daphne_factory.protocol = BoundedWebSocketProtocol
        self._ws_factory = daphne_factory

    def create_application(self, protocol, scope):
        if isinstance(protocol, CaptureRequest):
            scope["extensions"] = {
                **scope.get("extensions", {}),
                "inspector.capture": {
                    "headers": protocol.raw_headers,
                    "body_size": protocol.body_size,
                },
            }
        return super().create_application(protocol, scope)

    def run(self):
        from django.conf import settings

        from bins import fixed, forwarder
        from bins.ingest import get_writer
        from bins.lifecycle import purge_periodically

        # Declared bins exist before the first capture can look for them.
        fixed.ensure(
            fixed.declared(settings.INSPECTOR_FIXED_BINS, settings.INSPECTOR_FIXED_BINS_FILE)
        )
        # Start the writer process as soon as the loop runs (it boots in about 0.4 s),
        # not on the first capture.
        reactor.callLater(0, get_writer)
        interval = settings.INSPECTOR_PURGE_INTERVAL
        reactor.callLater(0, lambda: asyncio.ensure_future(purge_periodically(interval)))
        # Deliveries to forward targets (bins.forwarder): every process claims its share,
        # unless it is told to leave them to others.
        if settings.INSPECTOR_FORWARD_WORKER:
            reactor.callLater(0, forwarder.start)
        super().run()

    def kill_all_applications(self):
        from bins import forwarder
        from bins.ingest import drain_writer

        async def finish():
            await drain_writer()
            await forwarder.stop()  # what it sends is recorded, so never sent twice

        drained = defer.Deferred.fromFuture(asyncio.ensure_future(finish()))
        drained.addBoth(lambda _: super(InspectorServer, self).kill_all_applications())
        return drained


class InspectorCLI(CommandLineInterface):
    server_class = InspectorServer


def main(argv=None):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inspector.settings")
    import django

    django.setup()
    # Each capture allocates a few hundred short-lived objects; with the default
    # threshold the young generation was collected every few requests (+5% with
    # this, measured with wrk). What exists at start never needs scanning again.
    gc.freeze()
    gc.set_threshold(20_000, 50, 50)
    args = list(sys.argv[1:] if argv is None else argv)
    InspectorCLI().run([*args, "inspector.asgi:application"])


if __name__ == "__main__":
    main()
