"""`steve serve`: one process that runs the scheduler when it is the leader (and the HTTP API,
when there is one). Standbys wait and take over when the leader dies.

The loop, every `leader_poll_seconds`: a standby tries to become the leader; the leader
checks it still is. On becoming leader: runs left 'running' by a dead leader are marked
abandoned, the scheduler starts on the stored jobs (missed runs run once, coalesced), the
job set is synced with the practice, and the email runs the dead leader left unfinished are
run again (schedules.resume). On losing the lead: the scheduler stops at once. When the
scheduler can no longer run jobs (its thread died, say on `database or disk is full`; see
scheduler.trouble): it is stopped, the lock released and the failure logged and shown by
`GET /health`; a standby takes over, or after STEP_DOWN_POLLS polls this process tries
again with a fresh scheduler (which recovers by itself once the cause is gone). On SIGTERM
or SIGINT: the scheduler finishes the runs in progress, then the lock is released.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler

from db.engine import utcnow
from schedules import health
from schedules import scheduler as sched
from schedules.history import abandon_others, safe_error
from schedules.jobs import JobContext, job_specs
from schedules.leader import Leadership, leadership_for
from schedules.resume import schedule_resumptions

log = logging.getLogger("steve.serve")
STEP_DOWN_POLLS = 3  # after giving up the lead, wait this many polls before trying again


def serve(
    *,
    context: JobContext,
    stop: threading.Event,
    leadership: Leadership | None = None,
    on_leader: Callable[[bool], None] | None = None,
) -> None:
    """Run until `stop` is set; the jobs run with `context` (app.wiring.job_context)."""
    engine, instance = context.engine, context.instance
    poll = context.settings.schedule.leader_poll_seconds
    leadership = leadership or leadership_for(engine)
    scheduler: BackgroundScheduler | None = None
    log.info("steve serve %s started; waiting to lead", instance)
    health.report("standby", leader=False)
    try:
        while not stop.is_set():
            if scheduler is None:
                scheduler = _lead(context=context, lock=leadership)
                if scheduler is not None and on_leader:
                    on_leader(True)
            elif not leadership.still_held():
                log.warning("%s lost the leader lock: stopping the scheduler", instance)
                sched.stop(scheduler, wait=False)
                scheduler = None
                health.report("standby", leader=False)
                if on_leader:
                    on_leader(False)
            elif problem := sched.trouble(scheduler):
                _step_down(scheduler, leadership, instance, problem)
                scheduler = None
                if on_leader:
                    on_leader(False)
                # Long enough for a standby (polling every leader_poll_seconds) to take over;
                # then this process tries again, and a fresh scheduler may work (space freed).
                stop.wait(STEP_DOWN_POLLS * poll)
                health.report("standby", leader=False)
            stop.wait(poll)
    finally:
        if scheduler is not None:
            log.info("%s stopping: finishing the runs in progress", instance)
            sched.stop(scheduler, wait=True)
        leadership.release()
        health.reset()
        log.info("steve serve %s stopped", instance)


def _lead(*, context: JobContext, lock: Leadership) -> BackgroundScheduler | None:
    """Take the lead if free: the running scheduler, or None (still a standby)."""
    if not lock.try_acquire():
        return None
    engine, instance = context.engine, context.instance
    scheduler = None
    try:
        abandoned = abandon_others(engine=engine, instance=instance)
        scheduler = sched.build_scheduler(context=context)
        counts = sched.start(scheduler, job_specs(engine=engine, settings=context.settings))
        counts["resumed"] = len(schedule_resumptions(scheduler, engine=engine, now=utcnow()))
    except Exception as exc:  # the database went away: step back, retry later
        log.warning("%s could not start the scheduler (%s)", instance, safe_error(exc))
        if scheduler is not None:
            sched.stop(scheduler, wait=False)
        lock.release()
        health.report("standby", leader=False, failure=safe_error(exc))
        return None
    log.info(
        "%s is the leader: scheduler running (%s; %d abandoned run(s) marked)",
        instance,
        counts,
        abandoned,
    )
    health.report("running", leader=True)
    return scheduler


def _step_down(
    scheduler: BackgroundScheduler, lock: Leadership, instance: str, problem: str
) -> None:
    """The scheduler cannot run jobs: stop it and give up the lead, loudly."""
    log.error("%s: %s; giving up the leader lock so a standby can take over", instance, problem)
    try:
        sched.stop(scheduler, wait=False)
    except Exception as exc:  # a broken scheduler may fail to stop cleanly; the lock matters
        log.warning("%s: stopping the failed scheduler: %s", instance, safe_error(exc))
    lock.release()
    health.report("failed", leader=False, failure=problem)
