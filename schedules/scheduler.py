"""APScheduler 3 wiring: the job store in the practice database, stable job ids, misfires.

- Job store: SQLAlchemyJobStore on the practice engine (table `apscheduler_jobs`, made by
  migration 0005), so schedules and their next run times survive restarts and a new leader
  picks up where the old one stopped.
- Stable ids and `replace_existing`: restarts never add copies. A stored job whose trigger
  is unchanged is left alone (its pending next run time included), because replacing it
  would move a run that was due during the downtime into the future, and it would be lost.
- Misfires: `coalesce=True` (however many runs were missed, one run) and
  `misfire_grace_time=None` (a late run still runs); each job then decides for itself what
  late means (morning briefings: only before the first appointment, else skipped with the
  reason). `max_instances=1`: a slow run is never overlapped by the next.
- Each run knows its scheduled time and what it runs with: the executor passes the job
  `scheduled_for` (the history keeps it) and `context` (the JobContext the scheduler was
  built with: engine, settings, seams), so nothing is looked up in a process-wide global.
- Watched: `trouble()` says when the scheduler can no longer run jobs (its thread died, e.g.
  when the job store could not write `database or disk is full`; the executor shut down; the
  job store has failed for STORE_FAILURE_LIMIT), so the serve loop can give up the lead.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from apscheduler.executors.base import run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from sqlalchemy.exc import OperationalError

from schedules.email.smtp_faults import failing
from schedules.history import safe_error
from schedules.jobs import JobContext, JobSpec

log = logging.getLogger(__name__)
_running: BackgroundScheduler | None = None
STORE_FAILURE_LIMIT = 60.0  # seconds of job-store failures before the scheduler counts as down


class _WatchedJobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    """The job store, noting since when its database has been failing (APScheduler retries
    a failed read quietly every 10 s; a failed write kills its thread)."""

    failing_since: float | None = None
    last_error: str | None = None

    def _watched(self, call: Callable[..., Any], *args: Any, write: bool = False) -> Any:
        try:
            if write and failing("jobstore_full"):  # TEST-ONLY fault: the disk is full
                raise OperationalError(
                    "UPDATE apscheduler_jobs",
                    None,
                    sqlite3.OperationalError("database or disk is full"),
                )
            result = call(*args)
        except Exception as exc:
            if self.failing_since is None:
                self.failing_since = time.monotonic()
            self.last_error = safe_error(exc)
            raise
        self.failing_since = None
        return result

    def get_due_jobs(self, now: Any) -> Any:
        return self._watched(super().get_due_jobs, now)

    def get_next_run_time(self) -> Any:
        return self._watched(super().get_next_run_time)

    def update_job(self, job: Any) -> None:
        self._watched(super().update_job, job, write=True)


class _Stamped:
    """A job as run_job sees it, with the run's context and scheduled time added to its
    keyword args."""

    def __init__(self, job: Any, run_time: Any, context: JobContext) -> None:
        self._job = job
        self.id = job.id
        self.func = job.func
        self.args = job.args
        self.kwargs = {**job.kwargs, "context": context, "scheduled_for": run_time}
        self.misfire_grace_time = job.misfire_grace_time

    def __str__(self) -> str:
        return str(self._job)


class StampingExecutor(ThreadPoolExecutor):
    def __init__(self, context: JobContext, max_workers: int = 4) -> None:
        super().__init__(max_workers=max_workers)
        self.context = context

    def _do_submit_job(self, job: Any, run_times: list[Any]) -> None:
        def callback(f: Any) -> None:
            exc = f.exception()
            if exc:
                self._run_job_error(job.id, exc, getattr(exc, "__traceback__", None))
            else:
                self._run_job_success(job.id, f.result())

        stamped = _Stamped(
            job, run_times[-1], self.context
        )  # coalesced: one run, for the latest time
        future = self._pool.submit(
            run_job, stamped, job._jobstore_alias, run_times[-1:], self._logger.name
        )
        future.add_done_callback(callback)


class _Scheduler(BackgroundScheduler):
    """APScheduler 3.11's BackgroundScheduler runs one more round of due jobs after shutdown
    has stopped the executors (its thread wakes, then checks the state): the submission fails
    and the job's next run time moves on, so a due run would be lost. Not here."""

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()  # type: ignore[no-any-return]


def build_scheduler(*, context: JobContext, workers: int = 4) -> BackgroundScheduler:
    """A scheduler over the practice database's job store whose jobs run with `context`."""
    return _Scheduler(
        jobstores={"default": _WatchedJobStore(engine=context.engine)},
        executors={"default": StampingExecutor(context, max_workers=workers)},
        job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        timezone=context.settings.zone,
    )


def sync_jobs(scheduler: BackgroundScheduler, specs: list[JobSpec]) -> dict[str, int]:
    """Make the stored jobs match `specs`: add new, replace changed, remove gone."""
    wanted = {s.id: s for s in specs}
    counts = {"added": 0, "replaced": 0, "kept": 0, "removed": 0}
    existing = {job.id: job for job in scheduler.get_jobs()}
    for job_id in existing:
        if job_id not in wanted and not job_id.startswith("resume:"):  # one-offs run and go
            scheduler.remove_job(job_id)
            counts["removed"] += 1
    for spec in specs:
        name = f"{spec.family} [{spec.signature}]"
        old = existing.get(spec.id)
        if (
            old is not None
            and old.name == name
            and old.func_ref == spec.func
            and tuple(old.args) == spec.args
        ):
            counts["kept"] += 1  # keeps its stored next run time, a missed one included
            continue
        scheduler.add_job(
            spec.func,
            trigger=spec.trigger,
            args=spec.args,
            id=spec.id,
            name=name,
            replace_existing=True,
        )
        counts["replaced" if old is not None else "added"] += 1
    return counts


def start(scheduler: BackgroundScheduler, specs: list[JobSpec]) -> dict[str, int]:
    """Start paused (so the stored jobs load), sync them, then let due and missed runs go."""
    global _running
    scheduler.start(paused=True)
    counts = sync_jobs(scheduler, specs)
    _running = scheduler
    scheduler.resume()
    log.info("scheduler started: %s", counts)
    return counts


def stop(scheduler: BackgroundScheduler, *, wait: bool = True) -> None:
    global _running
    if _running is scheduler:
        _running = None
    if scheduler.running:
        scheduler.shutdown(wait=wait)


def running_scheduler() -> BackgroundScheduler | None:
    return _running


def trouble(scheduler: BackgroundScheduler) -> str | None:
    """Why `scheduler` can no longer run jobs, or None while it can."""
    if scheduler.state == STATE_STOPPED:
        return "the scheduler stopped"
    thread = getattr(scheduler, "_thread", None)
    if thread is None or not thread.is_alive():
        store = scheduler._jobstores.get("default")
        cause = getattr(store, "last_error", None)
        return "the scheduler's thread died" + (f" (job store: {cause})" if cause else "")
    pool = getattr(scheduler._executors.get("default"), "_pool", None)
    if pool is None or getattr(pool, "_shutdown", False):
        return "the job executor shut down"
    for store in scheduler._jobstores.values():
        since = getattr(store, "failing_since", None)
        if since is not None and time.monotonic() - since > STORE_FAILURE_LIMIT:
            return f"the job store has failed for {STORE_FAILURE_LIMIT:.0f} s ({store.last_error})"
    return None
