"""Exactly once, proven by killing a real `steve serve` (SIGKILL) at each step of a delivery
and restarting it, against a real SMTP server on loopback; messages counted per key.

The fault hook (STEVE_FAULT_POINT, schedules/email/smtp_faults.py) is test-only: the process kills
itself at the named step, so every step is hit exactly, not by timing luck.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import time as clock

import pytest
from sqlmodel import Session, select

from db.engine import make_engine, session_scope
from db.models import OutboxMessage, OutboxState
from schedules.email import outbox
from tests.support.service import physician_day, service_env, start_serve, stop, wait_until
from tools.clock import today_in

pytestmark = pytest.mark.process

KEYS = ("briefing:1:2026-11-23", "briefing:2:2026-11-23", "digest:1:2026-W47")


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
