"""The MLLP listener under `steve serve`: laboratories send HL7 v2 ORU^R01 messages over TCP,
each in an MLLP frame, and get an ACK frame back on the same connection.

Every frame's messages are taken in (schedules.lab_intake: one transaction per message,
committed BEFORE the AA is written), then answered: AA stored or held for review, AE a
malformed segment (named), AR a frame that is not an ORU^R01 we take (or holds no message),
and AR "send again" when the database could not take it (unavailable, or two connections
creating the same new order at once: the lab's engine resends, and the resend matches). A
thread per connection (socketserver), so several labs or connections are served at once; a
connection idle for `idle_seconds` is closed. `stop()` ends the accept loop, lets each
connection finish the message in hand, and closes them. Nothing logged holds a patient
value: counts, control ids, peer addresses.
"""

from __future__ import annotations

import errno
import itertools
import logging
import socket
import socketserver
import threading
from collections.abc import Callable
from datetime import datetime

from db.engine import utcnow
from schedules.lab_intake import LabIntake, take_messages
from tools.errors import ConfigError
from tools.interop.hl7.importing import ImportedMessage, MessageOutcome, ack_for
from tools.interop.hl7.mllp import MllpDecoder, frame
from tools.interop.hl7.records import Problem, ReadOutcome, Severity

log = logging.getLogger("steve.mllp")
POLL_SECONDS = 0.25  # how often a waiting connection checks for stop


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = False  # joined on close: a message in hand is finished
    block_on_close = True
    listener: MllpListener


class _Connection(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        listener = self.server.listener
        sock: socket.socket = self.request
        sock.settimeout(POLL_SECONDS)
        decoder = MllpDecoder()
        idle = 0.0
        peer = f"{self.client_address[0]}:{self.client_address[1]}"
        log.info("MLLP connection from %s", peer)
        while not listener.stopping.is_set():
            try:
                data = sock.recv(65536)
            except TimeoutError:
                idle += POLL_SECONDS
                if idle >= listener.idle_seconds:
                    log.info("MLLP connection from %s idle: closed", peer)
                    return
                continue
            except OSError:
                return
            if not data:
                return
            idle = 0.0
            for payload in decoder.feed(data):
                try:
                    sock.sendall(b"".join(listener.answer(payload)))
                except OSError:
                    return


class MllpListener:
    """One listening socket; `start()` binds it (a port in use is a ConfigError), `stop()`."""

    def __init__(
        self,
        *,
        intake: LabIntake,
        host: str,
        port: int,
        idle_seconds: float = 300.0,
        clock: Callable[[], datetime] = utcnow,
        application: str = "STEVE",
    ) -> None:
        self.intake = intake
        self.host, self.port = host, port
        self.idle_seconds = idle_seconds
        self.clock = clock
        self.application = application
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._ids_lock = threading.Lock()

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> tuple[str, int]:
        try:
            server = _Server((self.host, self.port), _Connection, bind_and_activate=True)
        except OSError as exc:
            reason = "the port is in use" if exc.errno == errno.EADDRINUSE else exc.strerror
            raise ConfigError(
                f"cannot listen for HL7 (MLLP) on {self.host}:{self.port}: {reason} "
                "(choose another with STEVE_HL7__MLLP_PORT)"
            ) from None
        server.listener = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": POLL_SECONDS},
            name="steve-mllp",
            daemon=True,
        )
        self._thread.start()
        log.info("listening for HL7 (MLLP) on %s:%s", *self.address)
        return self.address

    def stop(self) -> None:
        """Stop accepting, let each connection finish the message in hand, close them all."""
        if self._server is None:
            return
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()  # joins the connection threads
        if self._thread is not None:
            self._thread.join()
        self._server = None
        log.info("HL7 (MLLP) listener stopped")

    def _control_id(self, now: datetime) -> str:
        with self._ids_lock:
            number = next(self._ids)
        return f"A{now:%Y%m%d%H%M%S}{number % 100000:05d}"

    def answer(self, payload: bytes) -> list[bytes]:
        """The framed ACKs for one frame's messages, after they are stored."""
        now = self.clock()
        try:
            taken = take_messages(intake=self.intake, data=payload, now=now)
        except Exception as exc:  # the database: the lab is told to send again
            log.error("HL7 message not stored (%s): answered AR", type(exc).__name__)
            taken = [_unavailable()]
        acks = []
        for imported in taken:
            log.info(
                "HL7 message %s: %s (%s)",
                imported.control_id or "(no control id)",
                imported.outcome.value,
                imported.ack_code,
            )
            text = ack_for(imported=imported, control_id=self._control_id(now), sent_at=now)
            acks.append(frame(payload=text.encode("utf-8")))
        return acks


def _unavailable() -> ImportedMessage:
    problem = Problem(
        Severity.REJECT,
        "MSH",
        0,
        None,
        207,
        "not stored now (database busy or unavailable); send again",
    )
    read = ReadOutcome(index=1, header=None, message=None, problems=(problem,))
    return ImportedMessage(1, "", MessageOutcome.REJECTED, problems=(problem,), read=read)
