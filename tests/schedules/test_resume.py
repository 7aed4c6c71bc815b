"""A morning run killed half-way is resumed by the next `steve serve`: one email per physician
while it is still before their first appointment; after it, the run is recorded as missed
and the practice team gets one task. Real processes, SIGKILLed at a fault point (the
briefings made, nothing in the outbox yet), a real SMTP server on loopback.

The practice zone is chosen so that it is about noon there whenever the test runs, so the
day has room for appointments both sides of "now" and nothing depends on today's date.
"""

from __future__ import annotations

import signal
import subprocess
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from db.engine import make_engine
from db.models import (
    Appointment,
    Discipline,
    JobRun,
    OutboxMessage,
    OutboxState,
    RunOutcome,
    Task,
)
from schedules import scheduler as sched
from schedules.jobs import JobContext, job_specs
from tests.support import factories
from tests.support.service import (
    SmtpServer,
    service_config,
    service_env,
    start_serve,
    stop,
    wait_until,
)
from tools.clock import at_local


def _noon_zone(now: datetime) -> ZoneInfo:
    """A fixed-offset zone in which `now` is between 11:30 and 12:30."""
    offset = 12 - round(now.hour + now.minute / 60)
    if offset == 0:
        return ZoneInfo("Etc/GMT")
    return ZoneInfo(f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}")  # POSIX: sign flipped


class Practice:
    def __init__(self, db_url: str, data_dir: Path) -> None:
        self.db_url = db_url
        self.now = datetime.now(UTC)
        self.zone = _noon_zone(self.now)
        self.day = self.now.astimezone(self.zone).date()
        self.config = service_config(data_dir, zone=self.zone)
        engine = make_engine(db_url)
        with Session(engine, expire_on_commit=False) as s:
            self.admin = factories.practitioner(
                s, discipline=Discipline.ADMIN, email="desk@practice.test"
            )
            self.doctors = [
                factories.practitioner(s, title="Dr", email=f"doc{i}@practice.test")
                for i in range(2)
            ]
            for doc in self.doctors:
                for minutes in (90, 120):  # later today, in the practice zone
                    pat = factories.patient(s, physician=doc)
                    begins = self.now + timedelta(minutes=minutes)
                    s.add(
                        Appointment(
                            practitioner_id=doc.id or 0,
                            patient_id=pat.id or 0,
                            service_type="follow-up consultation",
                            starts_at=begins,
                            ends_at=begins + timedelta(minutes=30),
                        )
                    )
            s.commit()
        self._due_this_morning(engine)
        engine.dispose()

    def _due_this_morning(self, engine) -> None:
        """The jobs as `steve serve` stores them, with this morning's 07:00 briefings still
        due (the service was down at 07:00): the next process runs them at once, late."""
        context = JobContext(engine=engine, settings=self.config, instance="test")
        scheduler = sched.build_scheduler(context=context)
        scheduler.start(paused=True)
        sched.sync_jobs(scheduler, job_specs(engine=engine, settings=self.config))
        for doc in self.doctors:
            scheduler.modify_job(
                f"morning-briefing:{doc.id}",
                next_run_time=at_local(self.day, time(7, 0), self.zone),
            )
        scheduler.shutdown(wait=False)

    def email_keys(self) -> set[str]:
        return {f"briefing:{d.id}:{self.day.isoformat()}" for d in self.doctors}

    def rows(self, model):
        engine = make_engine(self.db_url)
        try:
            with Session(engine, expire_on_commit=False) as s:
                return list(s.exec(select(model)).all())
        finally:
            engine.dispose()

    def morning_runs(self) -> list[JobRun]:
        return [r for r in self.rows(JobRun) if r.job.startswith("morning-briefing:")]

    def all_sent(self) -> bool:
        rows = {r.key: r.state for r in self.rows(OutboxMessage)}
        return set(rows) == self.email_keys() and set(rows.values()) == {OutboxState.SENT}

    def clinic_started(self) -> None:
        """Time passes: each physician's first appointment began five minutes ago."""
        engine = make_engine(self.db_url)
        with Session(engine) as s:
            for doc in self.doctors:
                first = s.exec(
                    select(Appointment)
                    .where(Appointment.practitioner_id == doc.id)
                    .order_by(col(Appointment.starts_at))
                ).first()
                assert first is not None
                first.starts_at = datetime.now(UTC) - timedelta(minutes=5)
                first.ends_at = first.starts_at + timedelta(minutes=30)
                s.add(first)
            s.commit()
        engine.dispose()


def _env(practice: Practice, smtp: SmtpServer, tmp_path: Path) -> dict[str, str]:
    return service_env(
        practice.db_url,
        tmp_path / "data",
        smtp,
        STEVE_TIMEZONE=practice.zone.key,
        STEVE_BRIEFING_SEND_TIME="07:00",
    )


def _kill_mid_run(practice: Practice, env: dict[str, str], tmp_path: Path, log: Path) -> None:
    """The first process dies with the briefings made and nothing queued."""
    killed = start_serve({**env, "STEVE_FAULT_POINT": "before_enqueue"}, tmp_path, log)
    try:
        killed.wait(120)
    except subprocess.TimeoutExpired:
        killed.kill()
        pytest.fail(f"the morning run never reached the fault point: {log.read_text()[-3000:]}")
    assert killed.returncode == -signal.SIGKILL, log.read_text()[-3000:]
    assert practice.rows(OutboxMessage) == []
    runs = practice.morning_runs()
    assert runs and all(r.outcome == RunOutcome.RUNNING for r in runs)


def _run_a_while(env: dict[str, str], tmp_path: Path, log: Path, until) -> None:
    proc = start_serve(env, tmp_path, log)
    try:
        assert wait_until(until, 90), log.read_text()[-4000:]
    finally:
        stop(proc)
    assert proc.returncode == 0, log.read_text()[-3000:]


@pytest.mark.process
def test_a_killed_morning_run_is_resumed_once_before_the_first_appointment(
    db_url, smtp, tmp_path
) -> None:
    practice = Practice(db_url, tmp_path / "data")
    env, log = _env(practice, smtp, tmp_path), tmp_path / "serve.log"
    _kill_mid_run(practice, env, tmp_path, log)

    _run_a_while(env, tmp_path, log, practice.all_sent)
    # Restarted once more: nothing is sent twice.
    before = len(practice.rows(JobRun))
    _run_a_while(env, tmp_path, log, lambda: len(practice.rows(JobRun)) > before + 2)

    assert smtp.sink.per_key() == {k: 1 for k in practice.email_keys()}
    latest: dict[tuple[str, datetime | None], RunOutcome] = {}
    for run in sorted(practice.morning_runs(), key=lambda r: r.id or 0):
        latest[(run.job, run.scheduled_for)] = run.outcome
    assert len(latest) == len(practice.doctors)  # the resumed runs kept their 07:00
    assert set(latest.values()) == {RunOutcome.OK}
    assert [t for t in practice.rows(Task) if (t.source_ref or "").startswith("missed")] == []


@pytest.mark.process
def test_a_killed_morning_run_resumed_after_the_first_appointment_is_missed_with_a_task(
    db_url, smtp, tmp_path
) -> None:
    practice = Practice(db_url, tmp_path / "data")
    env, log = _env(practice, smtp, tmp_path), tmp_path / "serve.log"
    _kill_mid_run(practice, env, tmp_path, log)
    practice.clinic_started()

    def missed() -> bool:
        return {r.job for r in practice.morning_runs() if r.outcome == RunOutcome.MISSED} == {
            f"morning-briefing:{d.id}" for d in practice.doctors
        }

    _run_a_while(env, tmp_path, log, missed)
    before = len(practice.rows(JobRun))
    _run_a_while(env, tmp_path, log, lambda: len(practice.rows(JobRun)) > before + 2)

    assert practice.rows(OutboxMessage) == [] and smtp.sink.messages == []
    runs = [r for r in practice.morning_runs() if r.outcome == RunOutcome.MISSED]
    assert len(runs) == len(practice.doctors)  # the second restart did not run them again
    assert all("after the first appointment" in (r.detail or "") for r in runs)
    tasks = [t for t in practice.rows(Task) if (t.source_ref or "").startswith("missed")]
    assert sorted(t.source_ref or "" for t in tasks) == sorted(
        f"missed-briefing:{d.id}:{practice.day.isoformat()}" for d in practice.doctors
    )
    assert {t.assignee_id for t in tasks} == {practice.admin.id}
    assert all(t.due_on == practice.day and "not sent" in t.title for t in tasks)


def test_which_runs_are_resumed(engine) -> None:
    """The latest attempt of an email job's scheduled run decides: abandoned -> resumed;
    finished (a resumed run that ended), too old, or not an email -> left alone."""
    from schedules.resume import HORIZON, interrupted

    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    seven = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    rows = [
        ("morning-briefing:1", seven, RunOutcome.ABANDONED),  # resumed
        ("morning-briefing:2", seven, RunOutcome.ABANDONED),
        ("morning-briefing:2", seven, RunOutcome.OK),  # already resumed, and it finished
        ("morning-briefing:3", now - HORIZON - timedelta(hours=1), RunOutcome.ABANDONED),
        ("follow-up-sweep", seven, RunOutcome.ABANDONED),  # runs again by itself
        ("weekly-digest:1", seven, RunOutcome.ABANDONED),  # resumed
        ("task-summaries", seven, RunOutcome.FAILED),  # failed is an outcome, not a crash
    ]
    with Session(engine) as s:
        for job, when, outcome in rows:
            s.add(JobRun(job=job, instance="serve:x:1", scheduled_for=when, outcome=outcome))
            s.commit()  # ids in this order: the later row is the later attempt
    assert interrupted(engine=engine, now=now) == [
        ("morning-briefing:1", seven),
        ("weekly-digest:1", seven),
    ]
