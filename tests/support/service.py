"""Shared by the service tests: a real SMTP server on loopback (aiosmtpd), a server that
accepts connections and never answers, service settings, and a physician's day."""

from __future__ import annotations

import email
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller
from sqlmodel import Session

from app.settings import Settings
from db.models import Appointment, Practitioner
from schedules.config import SmtpConfig
from tests.support import factories
from tools.clock import at_local

ZONE = ZoneInfo("Europe/London")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sink:
    """aiosmtpd handler: keeps every accepted message; refuses recipients with 'reject'."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if "reject" in address:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.original_content or b""))
        return "250 Message accepted for delivery"

    def per_key(self) -> Counter[str]:
        with self.lock:
            return Counter(str(m["X-Steve-Key"]) for m in self.messages)


class SmtpServer:
    def __init__(self) -> None:
        self.sink = Sink()
        self.port = free_port()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)

    def config(self, timeout: float = 5.0) -> SmtpConfig:
        return SmtpConfig(
            host="127.0.0.1", port=self.port, security="none", timeout_seconds=timeout
        )


@contextmanager
def running_smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


class SilentServer:
    """Accepts TCP connections and never says a word (a hung SMTP or HTTP server)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.held: list[socket.socket] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.held.append(conn)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(2)
        for c in self.held:
            c.close()
        self.sock.close()


@contextmanager
def running_silent() -> Iterator[SilentServer]:
    server = SilentServer()
    try:
        yield server
    finally:
        server.close()


def service_config(
    data_dir: Path, *, zone: ZoneInfo = ZONE, smtp: SmtpConfig | None = None, **fields: Any
) -> Settings:
    """The settings the service tests run with; `fields` by their flat names (FLAT_FIELDS),
    e.g. outbox_max_attempts=2 or briefing_send_times={"3": "06:30 America/New_York"}."""
    if smtp is not None:
        fields = {
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "smtp_security": smtp.security,
            "smtp_username": smtp.username,
            "smtp_password": smtp.password,
            "smtp_timeout_seconds": smtp.timeout_seconds,
            **fields,
        }
    return Settings(
        data_dir=data_dir,
        **{
            "timezone": zone.key,
            "mail_from": "Steve <steve@practice.test>",
            "outbox_retry_seconds": 30.0,
            "outbox_lease_seconds": 60.0,
            **fields,
        },
    )


def physician_day(
    session: Session,
    day: date,
    starts: tuple[time, ...] = (time(9), time(11)),
    *,
    email_address: str | None = "doc@practice.test",
) -> tuple[Practitioner, list[Appointment]]:
    """A physician with appointments on `day` (practice zone), committed."""
    doc = factories.practitioner(session, title="Dr", email=email_address)
    appts = []
    for i, start in enumerate(starts):
        pat = factories.patient(session, given=f"Pat{i}", physician=doc)
        begins = at_local(day, start, ZONE)
        appt = Appointment(
            practitioner_id=doc.id or 0,
            patient_id=pat.id or 0,
            service_type="follow-up consultation",
            starts_at=begins,
            ends_at=begins + timedelta(minutes=30),
        )
        session.add(appt)
        appts.append(appt)
    session.commit()
    for row in (doc, *appts):
        session.refresh(row)  # loaded, so still readable after the session closes
    return doc, appts


def utc(day: date, clock: time) -> datetime:
    """A practice-local wall time as an aware UTC datetime."""
    return at_local(day, clock, ZONE).astimezone(UTC)
