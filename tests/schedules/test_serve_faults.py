"""Exactly once, proven by killing a real `steve serve` (SIGKILL) at each step of a delivery
and restarting it, against a real SMTP server on loopback; messages counted per key.

The fault hook (STEVE_FAULT_POINT, schedules/email/smtp_faults.py) is test-only: the process kills
itself at the named step, so every step is hit exactly, not by timing luck.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import time as clock
from pathlib import Path

import pytest
from sqlmodel import Session, select

from db.engine import make_engine, session_scope
from db.models import OutboxMessage, OutboxState
from schedules.email import outbox
from tests.support import paths
from tests.support.clock_shift import child_pythonpath
from tests.support.service import SmtpServer, physician_day, running_smtp
from tools.clock import today_in

ROOT = paths.ROOT
KEYS = ("briefing:1:2026-11-23", "briefing:2:2026-11-23", "digest:1:2026-W47")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with running_smtp() as server:
        yield server


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


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_until(check, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def _rows(db_url: str) -> dict[str, OutboxMessage]:
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            return {r.key: r for r in s.exec(select(OutboxMessage)).all()}
    finally:
        engine.dispose()


def _queue(db_url: str) -> None:
    engine = make_engine(db_url)
    with session_scope(engine) as s:
        for key in KEYS:
            outbox.enqueue(
                session=s,
                email=outbox.Email(
                    key, "briefing", None, "doc@practice.test", "Briefing", "t", "<p>h</p>"
                ),
                mail_from="Steve <steve@practice.test>",
            )
    engine.dispose()


def _all_sent(db_url: str) -> bool:
    rows = _rows(db_url)
    return bool(rows) and all(r.state == OutboxState.SENT for r in rows.values())


@pytest.mark.parametrize(
    "point", ["after_claim", "after_rcpt", "mid_data", "after_smtp_data", "after_mark_sent"]
)
def test_killed_during_delivery_then_restarted(db_url, smtp, tmp_path, point) -> None:
    _queue(db_url)
    log = tmp_path / "serve.log"
    env = service_env(db_url, tmp_path / "data", smtp)
    killed = start_serve({**env, "STEVE_FAULT_POINT": point}, tmp_path, log)
    try:
        killed.wait(60)
    except subprocess.TimeoutExpired:
        killed.kill()
        pytest.fail(f"the fault point {point} was never reached: {log.read_text()[-2000:]}")
    assert killed.returncode == -signal.SIGKILL, log.read_text()[-2000:]

    restarted = start_serve(env, tmp_path, log)
    try:
        assert wait_until(lambda: _all_sent(db_url)), log.read_text()[-3000:]
    finally:
        stop(restarted)
    counts = smtp.sink.per_key()
    rows = _rows(db_url)
    assert set(counts) == set(KEYS)  # nothing missing
    if point == "after_smtp_data":
        # The one window SMTP cannot close: the server had accepted the first email when the
        # process died, so its retry is a second copy (same Message-ID). Only that one.
        twice = [k for k, n in counts.items() if n == 2]
        assert len(twice) == 1 and sum(counts.values()) == len(KEYS) + 1
        assert rows[twice[0]].attempts == 2
        ids = {m["Message-ID"] for m in smtp.sink.messages if m["X-Steve-Key"] == twice[0]}
        assert len(ids) == 1  # the receiving side can drop the repeat
    else:
        assert all(n == 1 for n in counts.values()), counts


def test_killed_after_the_job_queued_its_email(db_url, smtp, tmp_path) -> None:
    """A job run by hand dies right after committing the email; `steve serve` delivers it."""
    from tests.support.service import ZONE

    engine = make_engine(db_url)
    with Session(engine, expire_on_commit=False) as s:
        doc, _ = physician_day(s, today_in(ZONE), starts=(clock(23, 0),))
    engine.dispose()
    log = tmp_path / "serve.log"
    env = service_env(db_url, tmp_path / "data", smtp)
    out = log.open("ab")
    run = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "jobs", "run", "morning-briefing", "--force"],
        env={**env, "STEVE_FAULT_POINT": "after_enqueue"},
        cwd=tmp_path,
        stdout=out,
        stderr=out,
        timeout=120,
    )
    assert run.returncode == -signal.SIGKILL
    [row] = _rows(db_url).values()
    assert row.state == OutboxState.PENDING and smtp.sink.messages == []

    serve = start_serve(env, tmp_path, log)
    try:
        assert wait_until(lambda: _all_sent(db_url)), log.read_text()[-3000:]
    finally:
        stop(serve)
    assert smtp.sink.per_key() == {row.key: 1}
    assert row.key == f"briefing:{doc.id}:{today_in(ZONE).isoformat()}"
