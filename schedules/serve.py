"""`steve serve`: one process that runs the scheduler when it is the leader (and the HTTP API,
when there is one). Standbys wait and take over when the leader dies.

The loop, every `leader_poll_seconds`: a standby tries to become the leader; the leader
checks it still is. On becoming leader: runs left 'running' by a dead leader are marked
abandoned, the scheduler starts on the stored jobs (missed runs run once, coalesced), the
job set is synced with the practice, and the email runs the dead leader left unfinished are
run again (schedules.resume). On losing the lead: the scheduler stops at once. On
SIGTERM or SIGINT: the scheduler finishes the runs in progress, then the lock is released.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from schedules import scheduler as sched
from schedules.config import ServiceConfig
from schedules.history import abandon_others, instance_name, safe_error
from schedules.jobs import JobContext, job_specs, set_context
from schedules.leader import Leadership, leadership_for
from schedules.morning import BriefingsForDay
from schedules.resume import schedule_resumptions
from tools.db import utcnow

log = logging.getLogger("steve.serve")


def serve(
    *,
    engine: Engine,
    config: ServiceConfig,
    stop: threading.Event,
    instance: str | None = None,
    open_memory_store: Callable[[], Any] | None = None,
    briefings: BriefingsForDay | None = None,
    leadership: Leadership | None = None,
    on_leader: Callable[[bool], None] | None = None,
) -> None:
    """Run until `stop` is set."""
    instance = instance or instance_name("serve")
    ctx = JobContext(
        engine=engine,
        config=config,
        instance=instance,
        open_memory_store=open_memory_store,
        briefings=briefings,
    )
    set_context(ctx)
    leadership = leadership or leadership_for(engine)
    scheduler = None
    log.info("steve serve %s started; waiting to lead", instance)
    try:
        while not stop.is_set():
            if scheduler is None:
                if leadership.try_acquire():
                    try:
                        abandoned = abandon_others(engine=engine, instance=instance)
                        scheduler = sched.build_scheduler(engine=engine, config=config)
                        counts = sched.start(scheduler, job_specs(engine=engine, config=config))
                        counts["resumed"] = len(
                            schedule_resumptions(scheduler, engine=engine, now=utcnow())
                        )
                    except Exception as exc:  # the database went away: step back, retry later
                        log.warning(
                            "%s could not start the scheduler (%s)", instance, safe_error(exc)
                        )
                        if scheduler is not None:
                            sched.stop(scheduler, wait=False)
                        scheduler = None
                        leadership.release()
                        stop.wait(config.leader_poll_seconds)
                        continue
                    log.info(
                        "%s is the leader: scheduler running (%s; %d abandoned run(s) marked)",
                        instance,
                        counts,
                        abandoned,
                    )
                    if on_leader:
                        on_leader(True)
            elif not leadership.still_held():
                log.warning("%s lost the leader lock: stopping the scheduler", instance)
                sched.stop(scheduler, wait=False)
                scheduler = None
                if on_leader:
                    on_leader(False)
            stop.wait(config.leader_poll_seconds)
    finally:
        if scheduler is not None:
            log.info("%s stopping: finishing the runs in progress", instance)
            sched.stop(scheduler, wait=True)
        leadership.release()
        set_context(None)
        log.info("steve serve %s stopped", instance)
