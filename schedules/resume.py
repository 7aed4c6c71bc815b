"""Runs that a dead process left unfinished, run again by the next leader.

APScheduler moves a job's next run time on as it hands the run to the executor, so a process
killed during a run (SIGKILL, power cut, out of memory) left that run 'abandoned' in the
history and the job store waiting for the next day: that day's morning emails were never
sent, and nothing said so. Now a new leader, once it has marked those runs abandoned
(history.abandon_others), schedules a one-off run of each email job whose latest run for a
scheduled time, in the last HORIZON, was abandoned: the same job for the same scheduled time
(and so the same day). The job then decides as it would have on time: a morning briefing is
sent while it is still before that physician's first appointment (its outbox key makes that
one email however often it is resumed), otherwise it is recorded as missed with a task for
the practice team. A resumed run killed in its turn is resumed by the next leader.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from db.models import JobRun, RunOutcome
from schedules.config import send_time_for
from schedules.history import RunResult
from schedules.jobs import JobContext, _run, do_digest, do_morning, do_task_summaries
from schedules.weekly import digest_week

log = logging.getLogger("steve.jobs")
RESUMABLE = ("morning-briefing", "task-summaries", "weekly-digest")  # the emails
HORIZON = timedelta(hours=48)  # older abandoned runs stay history
PREFIX = "resume:"  # job ids of the one-off runs (sync_jobs leaves them alone)


def interrupted(*, engine: Engine, now: datetime) -> list[tuple[str, datetime]]:
    """(job id, scheduled time) of every recent email run whose latest attempt was abandoned."""
    with Session(engine) as session:
        rows = session.exec(
            select(JobRun)
            .where(
                col(JobRun.scheduled_for).is_not(None), col(JobRun.scheduled_for) >= now - HORIZON
            )
            .order_by(col(JobRun.id))
        ).all()
    latest: dict[tuple[str, datetime], RunOutcome] = {}
    for run in rows:
        if run.job.partition(":")[0] in RESUMABLE and run.scheduled_for is not None:
            latest[(run.job, run.scheduled_for)] = run.outcome
    return sorted(key for key, outcome in latest.items() if outcome == RunOutcome.ABANDONED)


def schedule_resumptions(scheduler: BaseScheduler, *, engine: Engine, now: datetime) -> list[str]:
    """Add a one-off run, due now, for each interrupted email run; the job ids resumed."""
    resumed = []
    for job_id, when in interrupted(engine=engine, now=now):
        scheduler.add_job(
            "schedules.resume:resume_job",
            trigger=DateTrigger(run_date=now),
            args=(job_id, when.isoformat()),
            id=f"{PREFIX}{job_id}@{when.isoformat()}",
            name=f"resume {job_id}",
            replace_existing=True,
        )
        resumed.append(job_id)
    if resumed:
        log.warning(
            "resuming %d run(s) a stopped process left unfinished: %s", len(resumed), resumed
        )
    return resumed


def _body(ctx: JobContext, job_id: str, when: datetime) -> Callable[[JobContext], RunResult]:
    family, _, ident = job_id.partition(":")
    if family == "morning-briefing":
        pid = int(ident)
        day = when.astimezone(send_time_for(ctx.settings, pid)[1]).date()
        return lambda c: do_morning(c, pid, day=day)
    day = when.astimezone(ctx.settings.zone).date()
    if family == "task-summaries":
        return lambda c: do_task_summaries(c, day=day)
    pid = int(ident)
    return lambda c: do_digest(c, pid, week_of=digest_week(day))


def resume_job(
    job_id: str,
    original: str,
    *,
    context: JobContext | None = None,
    scheduled_for: datetime | None = None,
) -> None:
    """APScheduler's target: run `job_id` again for its original scheduled time (the history
    row carries that time, so the run counts as the one that was interrupted)."""
    when = datetime.fromisoformat(original)
    if context is None:
        raise RuntimeError(f"job {job_id} was run without its context")
    _run(context, job_id, _body(context, job_id, when), when)
