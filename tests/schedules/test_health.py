"""A leader whose scheduler dies gives up the lead: it says so in the log and at `GET /health`,
and a standby takes over. Real processes: the leader's job store fails every write with
`database or disk is full` (fault point `jobstore_full`), which kills APScheduler's thread as
a full disk did; the standby has no fault and must deliver what waits in the outbox."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from schedules import scheduler as sched
from schedules.jobs import JobContext
from tests.support.service import (
    all_sent,
    free_port,
    queue_emails,
    service_config,
    service_env,
    stop,
    wait_until,
)


def _serve(env: dict[str, str], cwd: Path, log: Path, port: int) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli.main", "serve", "--port", str(port)],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=out,
        )


def _health(port: int) -> tuple[int, dict[str, Any]] | None:
    try:
        r = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
    except httpx.TransportError:
        return None
    return r.status_code, r.json()


@pytest.mark.process
def test_a_leader_whose_scheduler_dies_hands_over(db_url, smtp, tmp_path) -> None:
    env = service_env(db_url, tmp_path / "data", smtp)
    log_a, log_b = tmp_path / "a.log", tmp_path / "b.log"
    port_a, port_b = free_port(), free_port()
    first = _serve({**env, "STEVE_FAULT_POINT": "jobstore_full"}, tmp_path, log_a, port_a)
    second = None
    try:

        def first_failed() -> bool:
            got = _health(port_a)
            return got is not None and got[1]["scheduler"]["last_failure"] is not None

        assert wait_until(first_failed, 120), log_a.read_text()[-3000:]
        assert "giving up the leader lock" in log_a.read_text()
        second = _serve(env, tmp_path, log_b, port_b)

        def second_leads() -> bool:
            got = _health(port_b)
            return got is not None and got[1]["scheduler"]["leader"]

        assert wait_until(second_leads, 120), log_b.read_text()[-3000:]
        keys = [f"tasks:{i}:2026-11-23" for i in range(3)]
        queue_emails(db_url, keys)  # only the new leader can deliver them now
        assert wait_until(lambda: all_sent(db_url, keys), 60), log_b.read_text()[-3000:]
        code_b, body_b = _health(port_b) or (0, {})
        assert code_b == 200 and body_b["status"] == "ok"
        assert body_b["scheduler"]["state"] == "running"
        time.sleep(1)  # the failed process has had its back-off: it stands by, not leads
        code_a, body_a = _health(port_a) or (0, {})
        assert body_a["scheduler"]["leader"] is False
        assert body_a["scheduler"]["state"] in ("failed", "standby")
        assert code_a == (503 if body_a["scheduler"]["state"] == "failed" else 200)
        assert "thread died" in body_a["scheduler"]["last_failure"]["reason"]
    finally:
        codes = [stop(first, timeout=30)] + (
            [stop(second, timeout=30)] if second is not None else []
        )
    assert codes == [0] * len(codes), log_a.read_text()[-2000:] + log_b.read_text()[-2000:]
    assert smtp.sink.per_key() == {k: 1 for k in keys}


def test_trouble_names_what_stopped_the_scheduler(engine, tmp_path) -> None:
    context = JobContext(engine=engine, settings=service_config(tmp_path), instance="test")
    scheduler = sched.build_scheduler(context=context)
    scheduler.start(paused=True)
    try:
        assert sched.trouble(scheduler) is None
        store = scheduler._jobstores["default"]
        store.failing_since = time.monotonic() - sched.STORE_FAILURE_LIMIT - 1
        store.last_error = "database unreachable or refused (OperationalError)"
        assert "job store has failed" in (sched.trouble(scheduler) or "")
        store.failing_since = None
        scheduler._executors["default"]._pool.shutdown(wait=False)
        assert sched.trouble(scheduler) == "the job executor shut down"
    finally:
        scheduler.shutdown(wait=False)
    assert sched.trouble(scheduler) == "the scheduler stopped"


def test_health_without_a_scheduler_in_the_process(tmp_path) -> None:
    from fastapi.testclient import TestClient

    from app.api import create_app
    from app.settings import Settings
    from db.engine import make_engine, migrate

    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 's.db'}")
    engine = make_engine(settings.db_url)
    migrate(engine)
    with TestClient(create_app(settings, engine=engine)) as client:
        r = client.get("/health")
    engine.dispose()
    assert r.status_code == 200
    assert r.json()["scheduler"] == {
        "state": "off",
        "leader": False,
        "since": None,
        "last_failure": None,
    }


@pytest.mark.process
def test_a_lone_leader_recovers_once_the_disk_has_space(db_url, smtp, tmp_path) -> None:
    """No standby: the process gives up the lead, tries again on its own, and once writes
    work again (the fault file removed: space freed) its fresh scheduler delivers."""
    full = tmp_path / "disk-is-full"
    full.touch()
    env = service_env(db_url, tmp_path / "data", smtp)
    env.update(STEVE_FAULT_POINT="jobstore_full", STEVE_FAULT_WHILE=str(full))
    log, port = tmp_path / "serve.log", free_port()
    proc = _serve(env, tmp_path, log, port)
    try:

        def failed() -> bool:
            got = _health(port)
            return got is not None and got[1]["scheduler"]["last_failure"] is not None

        assert wait_until(failed, 120), log.read_text()[-3000:]
        keys = [f"tasks:{i}:2026-11-25" for i in range(2)]
        queue_emails(db_url, keys)
        full.unlink()  # space freed
        assert wait_until(lambda: all_sent(db_url, keys), 90), log.read_text()[-3000:]

        def leads() -> bool:
            got = _health(port)
            return got is not None and got[1]["scheduler"]["state"] == "running"

        assert wait_until(leads, 30), log.read_text()[-3000:]
        gave_up = log.read_text().count("giving up the leader lock")
        time.sleep(3)  # many polls: it stays up now
        assert log.read_text().count("giving up the leader lock") == gave_up
        assert leads()
    finally:
        code = stop(proc, timeout=30)
    assert code == 0, log.read_text()[-3000:]
    assert smtp.sink.per_key() == {k: 1 for k in keys}
