"""Shared by the service tests: a real SMTP server on loopback (aiosmtpd), a server that
accepts connections and never answers, service settings, a physician's day, and a real
`steve serve` process (its environment, start, stop, and waiting for what it should do)."""

from __future__ import annotations

import email
import os
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import monotonic, sleep
from typing import Any
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from app.settings import Settings
from db.engine import make_engine, session_scope
from db.models import Appointment, OutboxMessage, OutboxState, Practitioner
from schedules.config import SmtpConfig
from schedules.email import outbox
from tests.support import factories, paths
from tests.support.clock_shift import child_pythonpath
from tools.clock import at_local

ZONE = ZoneInfo("Europe/London")
ROOT = paths.ROOT


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


# ------------------------------------------------------------------ steve serve


def service_env(db_url: str, data_dir: Path, smtp: SmtpServer, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEVE_")}
    env.update(
        STEVE_DATA_DIR=str(data_dir),
        STEVE_DATABASE_URL=db_url,
        STEVE_SMTP_HOST="127.0.0.1",
        STEVE_SMTP_PORT=str(smtp.port),
        STEVE_SMTP_SECURITY="none",
        STEVE_SMTP_TIMEOUT_SECONDS="5",
        STEVE_MAIL_FROM="Steve <steve@practice.test>",
        STEVE_OUTBOX_POLL_SECONDS="0.3",
        STEVE_OUTBOX_LEASE_SECONDS="1.5",
        STEVE_OUTBOX_RETRY_SECONDS="0.2",
        STEVE_LEADER_POLL_SECONDS="0.2",
        STEVE_MEMORY_SYNC_SECONDS="3600",
        STEVE_LITERATURE_REFRESH_CRON="",
        PYTHONPATH=child_pythonpath(),
    )
    env.update(extra)
    return env


def start_serve(env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen(
        # No HTTP: several of these run at once and would share the API port.
        [sys.executable, "-m", "app.cli.main", "serve", "--no-http"],
        env=env,
        cwd=cwd,
        stdout=out,
        stderr=out,
    )


def stop(proc: subprocess.Popen[Any], *, timeout: float = 20.0) -> int:
    """Stop a Steve process as an operator would (SIGTERM), killing it after `timeout`
    seconds; its exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return int(proc.returncode)


def wait_until(check: Callable[[], object], timeout: float = 30.0) -> bool:
    deadline = monotonic() + timeout
    while monotonic() < deadline:
        if check():
            return True
        sleep(0.1)
    return False


def queue_emails(db_url: str, keys: list[str]) -> None:
    """A task email per key, waiting in the outbox."""
    engine = make_engine(db_url)
    with session_scope(engine) as s:
        for key in keys:
            outbox.enqueue(
                session=s,
                email=outbox.Email(key, "tasks", None, "a@practice.test", "Tasks", "t", "<p>t</p>"),
                mail_from="Steve <steve@practice.test>",
            )
    engine.dispose()


def all_sent(db_url: str, keys: list[str]) -> bool:
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            rows = s.exec(select(OutboxMessage).where(OutboxMessage.key.in_(keys))).all()  # type: ignore[attr-defined]
            return len(rows) == len(keys) and all(r.state == OutboxState.SENT for r in rows)
    finally:
        engine.dispose()
