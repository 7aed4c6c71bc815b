"""The job-run history: one row per run (start, end, outcome, counts, reason) and a log line
at each end. Nothing here may hold patient data: counts, ids of jobs, error classes, and the
one-line texts of Steve's own errors (which carry record ids at most)."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session, col, func, select

from db.engine import utcnow
from db.models import JobRun, Practitioner, PractitionerStatus, RunOutcome
from tools.errors import SteveError

log = logging.getLogger("steve.jobs")


def instance_name(kind: str) -> str:
    """'serve:host:pid' or 'cli:host:pid'."""
    return f"{kind}:{socket.gethostname()[:60]}:{os.getpid()}"


@dataclass
class RunResult:
    outcome: RunOutcome = RunOutcome.OK
    counts: dict[str, Any] = field(default_factory=dict)
    detail: str | None = None


def unreachable(person: Practitioner | None, who: str) -> RunResult | None:
    """Why an email to this person is skipped (inactive, no address), or None to send it."""
    if person is None or person.status != PractitionerStatus.ACTIVE:
        return RunResult(RunOutcome.SKIPPED, detail=f"{who} is not active")
    if not person.email:
        return RunResult(RunOutcome.SKIPPED, detail=f"{who} has no email address")
    return None


def safe_error(exc: BaseException) -> str:
    """What may be said about an exception in logs and the history: Steve's own one-line
    errors are safe by contract; for anything else only its class (a driver's message can
    quote SQL parameters, which may be patient data)."""
    if isinstance(exc, SteveError):
        return str(exc)[:400]
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out (TimeoutError)"
    if isinstance(exc, OperationalError):
        return f"database unreachable or refused ({type(exc.orig).__name__})"
    if isinstance(exc, SQLAlchemyError):
        return f"database error ({type(exc).__name__})"
    return f"failed ({type(exc).__name__})"


def start_run(
    *, engine: Engine, job: str, instance: str, scheduled_for: datetime | None = None
) -> int:
    with Session(engine) as session:
        run = JobRun(job=job[:120], instance=instance[:120], scheduled_for=scheduled_for)
        session.add(run)
        session.commit()
        assert run.id is not None
        return run.id


def finish_run(*, engine: Engine, run_id: int, result: RunResult) -> None:
    with Session(engine) as session:
        run = session.get(JobRun, run_id)
        if run is None:
            return
        run.outcome = result.outcome
        run.counts = dict(result.counts)
        run.detail = (result.detail or None) and result.detail[:500]
        run.finished_at = utcnow()
        session.add(run)
        session.commit()


def record_run(
    *,
    engine: Engine,
    job: str,
    instance: str,
    body: Callable[[], RunResult],
    scheduled_for: datetime | None = None,
) -> RunResult:
    """Run `body` with a history row around it; an exception fails this run only."""
    run_id = start_run(engine=engine, job=job, instance=instance, scheduled_for=scheduled_for)
    log.info("job %s run %s started", job, run_id)
    began = time.perf_counter()
    try:
        result = body()
    except Exception as exc:  # one run fails; the scheduler and later runs carry on
        result = RunResult(RunOutcome.FAILED, detail=safe_error(exc))
        log.warning("job %s run %s failed: %s", job, run_id, result.detail)
    try:
        finish_run(engine=engine, run_id=run_id, result=result)
    except SQLAlchemyError as exc:
        log.error("job %s run %s: cannot record the outcome (%s)", job, run_id, safe_error(exc))
    log.info(
        "job %s run %s %s in %.2fs %s%s",
        job,
        run_id,
        result.outcome,
        time.perf_counter() - began,
        result.counts,
        f" ({result.detail})" if result.detail else "",
    )
    return result


def abandon_others(*, engine: Engine, instance: str) -> int:
    """A new leader marks runs left 'running' by other serve processes as abandoned: only the
    leader runs scheduled jobs, so their process died or lost the lead mid-run."""
    with Session(engine) as session:
        result = session.execute(
            update(JobRun)
            .where(
                col(JobRun.outcome) == RunOutcome.RUNNING,
                col(JobRun.instance).startswith("serve:"),
                col(JobRun.instance) != instance,
            )
            .values(
                outcome=RunOutcome.ABANDONED,
                finished_at=utcnow(),
                detail="its process stopped before the run finished",
            )
        )
        session.commit()
        return int(getattr(result, "rowcount", 0) or 0)


def recent_runs(*, session: Session, job: str | None = None, limit: int = 50) -> list[JobRun]:
    stmt = select(JobRun)
    if job:
        # 'morning-briefing' matches every physician's 'morning-briefing:<id>'.
        stmt = stmt.where((col(JobRun.job) == job) | col(JobRun.job).startswith(f"{job}:"))
    return list(session.exec(stmt.order_by(col(JobRun.id).desc()).limit(limit)).all())


def last_runs(*, session: Session) -> dict[str, JobRun]:
    """The latest run of every job id."""
    latest = select(func.max(JobRun.id)).group_by(col(JobRun.job))
    return {run.job: run for run in session.exec(select(JobRun).where(col(JobRun.id).in_(latest)))}
