"""Two real `steve serve` processes on one database: only the leader runs jobs, no run
happens twice, and when the leader is killed the standby takes over (PostgreSQL: advisory
lock; SQLite: a file lock, one machine)."""

from __future__ import annotations

import signal
import time
from collections import Counter

import pytest
from sqlmodel import Session, select

from db.engine import make_engine
from db.models import JobRun
from schedules.leader import FileLeader, PostgresLeader
from tests.support.service import (
    all_sent,
    queue_emails,
    service_env,
    start_serve,
    stop,
    wait_until,
)


def _runs(db_url: str) -> list[JobRun]:
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            return list(s.exec(select(JobRun)).all())
    finally:
        engine.dispose()


def _by(pid: int, runs: list[JobRun]) -> list[JobRun]:
    return [r for r in runs if r.instance.endswith(f":{pid}")]


@pytest.mark.process
def test_one_leader_no_double_runs_and_takeover(db_url, smtp, tmp_path) -> None:
    env = service_env(db_url, tmp_path / "data", smtp)
    log = tmp_path / "serve.log"
    first = start_serve(env, tmp_path, log)
    second = None
    try:
        assert wait_until(lambda: bool(_by(first.pid, _runs(db_url)))), log.read_text()[-3000:]
        second = start_serve(env, tmp_path, log)
        time.sleep(3)  # long enough for the standby to have started and tried many times
        runs = _runs(db_url)
        assert _by(second.pid, runs) == [], "the standby ran a job while the leader lived"
        batch1 = [f"tasks:{i}:2026-11-23" for i in range(3)]
        queue_emails(db_url, batch1)
        assert wait_until(lambda: all_sent(db_url, batch1)), log.read_text()[-3000:]

        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert wait_until(lambda: bool(_by(second.pid, _runs(db_url))), 20), log.read_text()[-3000:]
        batch2 = [f"tasks:{i}:2026-11-24" for i in range(3)]
        queue_emails(db_url, batch2)
        assert wait_until(lambda: all_sent(db_url, batch2)), log.read_text()[-3000:]
    finally:
        stop(first)
        if second is not None:
            stop(second)
    runs = _runs(db_url)
    # No job ran twice: every scheduled time of every job was run by one process, once.
    stamps = Counter((r.job, r.scheduled_for) for r in runs if r.scheduled_for is not None)
    assert stamps and max(stamps.values()) == 1
    # The two processes never ran jobs at the same time: all of the first's runs started
    # before the second's first run.
    last_first = max(r.started_at for r in _by(first.pid, runs))
    first_second = min(r.started_at for r in _by(second.pid, runs))
    assert last_first < first_second
    assert smtp.sink.per_key() == {k: 1 for k in batch1 + batch2}


def test_the_lock_itself(db_url, tmp_path) -> None:
    engine = make_engine(db_url)
    try:
        if engine.dialect.name == "postgresql":
            a, b = PostgresLeader(engine, key=42), PostgresLeader(engine, key=42)
        else:
            a, b = FileLeader(tmp_path / "l"), FileLeader(tmp_path / "l")
        assert a.try_acquire() and a.still_held()
        assert not b.try_acquire()
        a.release()
        assert not a.still_held()
        assert b.try_acquire() and b.still_held()
        b.release()
    finally:
        engine.dispose()
