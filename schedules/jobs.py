"""The service's jobs: what runs, when, and how each run is recorded.

APScheduler stores jobs by reference (`schedules.jobs:morning_job` and plain int arguments),
so the job store holds nothing but names and numbers; the engine, settings and seams are in
a JobContext (built by app.wiring) that the scheduler's executor hands to every job as its
`context` argument (schedules.scheduler). Every run goes through history.record_run: a
history row, a log line at each end, and an exception fails that run only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlmodel import Session

from db.engine import session_scope, utcnow
from db.models import RunOutcome
from schedules.config import ServiceSettings, send_time_for
from schedules.email.delivery import DeliveryReport, Transport, deliver_due
from schedules.email.smtp_faults import fault
from schedules.history import RunResult, record_run
from schedules.morning import BriefingsForDay, morning_email, physicians, staff_for_task_summaries
from schedules.sweep import run_sweep
from tools.errors import InvalidInput

FAMILIES = (
    "morning-briefing",
    "task-summaries",
    "weekly-digest",
    "follow-up-sweep",
    "deliver-outbox",
    "memory-sync",
    "literature-refresh",
    "ehr-sync",
    "refresh-schedule",
)
PER_PHYSICIAN = ("morning-briefing", "weekly-digest")


@dataclass
class JobContext:
    engine: Engine
    settings: ServiceSettings
    instance: str
    # Seams (app.wiring fills them): the memory store (None: memory sync is off), the
    # briefing graph (None: the morning email carries the agenda and says so), the digest
    # composer (None: deterministic).
    open_memory_store: Callable[[], Any] | None = None
    briefings: BriefingsForDay | None = None
    composer: Callable[[], Any] | None = None
    transport: Transport | None = None  # None: from the settings (SMTP or .eml files)
    clock: Callable[[], datetime] = utcnow
    _memory_store: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)


# ------------------------------------------------------------------------ bodies


def _deliver(ctx: JobContext, keys: list[str] | None = None) -> DeliveryReport:
    return deliver_due(
        engine=ctx.engine,
        settings=ctx.settings,
        instance=ctx.instance,
        transport=ctx.transport,
        keys=keys,
    )


def _with_delivery(result: RunResult, report: DeliveryReport) -> RunResult:
    result.counts.update(report.counts())
    if report.errors and result.outcome == RunOutcome.OK:
        # Queued but not delivered: the email waits in the outbox for its retry.
        result.outcome = RunOutcome.PARTIAL
        result.detail = f"delivery: {report.errors[0]}"
    return result


def do_morning(
    ctx: JobContext, physician_id: int, *, day: date | None = None, force: bool = False
) -> RunResult:
    result, key = morning_email(
        engine=ctx.engine,
        settings=ctx.settings,
        practitioner_id=physician_id,
        now=ctx.clock(),
        day=day,
        force=force,
        briefings=ctx.briefings,
    )
    if key is None:
        return result
    fault("after_enqueue")
    return _with_delivery(result, _deliver(ctx, [key]))


def do_task_summaries(ctx: JobContext, *, day: date | None = None) -> RunResult:
    with Session(ctx.engine) as session:
        staff = staff_for_task_summaries(session=session)
    keys, total = [], RunResult(counts={"people": 0, "queued": 0})
    for pid in staff:
        result, key = morning_email(
            engine=ctx.engine,
            settings=ctx.settings,
            practitioner_id=pid,
            now=ctx.clock(),
            day=day,
        )
        if key:
            keys.append(key)
            total.counts["people"] += 1
            total.counts["queued"] += result.counts.get("queued", 0)
    return _with_delivery(total, _deliver(ctx, keys)) if keys else total


def do_digest(ctx: JobContext, physician_id: int, *, week_of: date | None = None) -> RunResult:
    from schedules.weekly import weekly_digest  # late: its model composer loads LangChain

    result, key = weekly_digest(
        engine=ctx.engine,
        settings=ctx.settings,
        physician_id=physician_id,
        now=ctx.clock(),
        week_of=week_of,
        composer=ctx.composer() if ctx.composer else None,
    )
    return _with_delivery(result, _deliver(ctx, [key])) if key else result


def do_sweep(ctx: JobContext) -> RunResult:
    with session_scope(ctx.engine) as session:
        report = run_sweep(session=session, settings=ctx.settings, now=ctx.clock())
    return RunResult(counts=report.counts())


def do_deliver(ctx: JobContext) -> RunResult:
    report = _deliver(ctx)
    counts = report.counts()
    if not report.errors:
        return RunResult(counts=counts)
    outcome = RunOutcome.PARTIAL if report.sent else RunOutcome.FAILED
    return RunResult(outcome, counts, report.errors[0])


def do_memory_sync(ctx: JobContext) -> RunResult:
    from memory.sync import drain, pending

    if ctx.open_memory_store is None:
        return RunResult(RunOutcome.SKIPPED, detail="no memory store configured")
    with Session(ctx.engine) as session:
        waiting = pending(session)
    if not waiting:  # the common case: do not even open the store (it loads a model)
        return RunResult(counts={"changes": 0})
    with ctx._lock:
        if ctx._memory_store is None:
            ctx._memory_store = ctx.open_memory_store()
    report = drain(engine=ctx.engine, store=ctx._memory_store)
    return RunResult(
        counts={
            "changes": report.changes,
            "upserted": report.upserted,
            "deleted": report.deleted,
            "skipped": len(report.skipped),
        }
    )


def do_literature(ctx: JobContext) -> RunResult:
    from schedules.literature import refresh_literature

    return refresh_literature(engine=ctx.engine, settings=ctx.settings, now=ctx.clock())


def do_ehr_sync(ctx: JobContext) -> RunResult:
    from schedules.ehr_sync import run_ehr_sync

    return run_ehr_sync(engine=ctx.engine, settings=ctx.settings, clock=ctx.clock)


def do_refresh_schedule(ctx: JobContext) -> RunResult:
    from schedules.scheduler import running_scheduler, sync_jobs

    scheduler = running_scheduler()
    if scheduler is None:
        return RunResult(RunOutcome.SKIPPED, detail="no scheduler running in this process")
    changed = sync_jobs(scheduler, job_specs(engine=ctx.engine, settings=ctx.settings))
    return RunResult(counts=changed)


# ------------------------------------------------- APScheduler's targets (by reference)


def _run(
    context: JobContext | None,
    job_id: str,
    body: Callable[[JobContext], RunResult],
    scheduled_for: Any,
) -> None:
    # Optional in the targets' signatures only because APScheduler checks a stored job's
    # arguments without it; its executor (schedules.scheduler) always passes it.
    if context is None:
        raise RuntimeError(f"job {job_id} was run without its context")
    record_run(
        engine=context.engine,
        job=job_id,
        instance=context.instance,
        body=lambda: body(context),
        scheduled_for=scheduled_for,
    )


def morning_job(
    physician_id: int, *, context: JobContext | None = None, scheduled_for: datetime | None = None
) -> None:
    body = partial(_morning_body, physician_id=physician_id, day=None, force=False)
    _run(context, f"morning-briefing:{physician_id}", body, scheduled_for)


def digest_job(
    physician_id: int, *, context: JobContext | None = None, scheduled_for: datetime | None = None
) -> None:
    body = partial(_digest_body, physician_id=physician_id, week_of=None)
    _run(context, f"weekly-digest:{physician_id}", body, scheduled_for)


def task_summaries_job(
    *, context: JobContext | None = None, scheduled_for: datetime | None = None
) -> None:
    _run(context, "task-summaries", do_task_summaries, scheduled_for)


def sweep_job(*, context: JobContext | None = None, scheduled_for: datetime | None = None) -> None:
    _run(context, "follow-up-sweep", do_sweep, scheduled_for)


def deliver_job(
    *, context: JobContext | None = None, scheduled_for: datetime | None = None
) -> None:
    _run(context, "deliver-outbox", do_deliver, scheduled_for)


def memory_sync_job(
    *, context: JobContext | None = None, scheduled_for: datetime | None = None
) -> None:
    _run(context, "memory-sync", do_memory_sync, scheduled_for)


def literature_job(
    *, context: JobContext | None = None, scheduled_for: datetime | None = None
) -> None:
    _run(context, "literature-refresh", do_literature, scheduled_for)


def ehr_sync_job(
    *, context: JobContext | None = None, scheduled_for: datetime | None = None
) -> None:
    _run(context, "ehr-sync", do_ehr_sync, scheduled_for)


def refresh_schedule_job(
    *, context: JobContext | None = None, scheduled_for: datetime | None = None
) -> None:
    _run(context, "refresh-schedule", do_refresh_schedule, scheduled_for)


# -------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class JobSpec:
    id: str
    family: str
    func: str  # textual reference: what the job store keeps
    args: tuple[int, ...]
    trigger: BaseTrigger
    signature: str  # what the trigger means; a stored job with the same one is kept as is
    description: str


def _cron(hour: int, minute: int, zone: Any, day_of_week: str | None = None) -> CronTrigger:
    return CronTrigger(day_of_week=day_of_week, hour=hour, minute=minute, timezone=zone)


def job_specs(*, engine: Engine, settings: ServiceSettings) -> list[JobSpec]:
    """Every job the practice should have now (physicians come and go: refreshed hourly)."""
    with Session(engine) as session:
        doctors = physicians(session=session)
    return [
        *_morning_specs(settings, doctors),
        *_digest_specs(settings, doctors),
        *_interval_specs(settings),
        *_literature_specs(settings),
        *_ehr_specs(settings),
    ]


def _morning_specs(settings: ServiceSettings, doctors: list[int]) -> list[JobSpec]:
    """Each physician's morning briefing (their own send time and zone, where set), then
    the task summaries for everyone else, at the practice's send time."""
    specs = []
    for pid in doctors:
        clock, zone = send_time_for(settings, pid)
        specs.append(
            JobSpec(
                f"morning-briefing:{pid}",
                "morning-briefing",
                "schedules.jobs:morning_job",
                (pid,),
                _cron(clock.hour, clock.minute, zone),
                f"daily {clock:%H:%M} {zone.key}",
                "agenda, pre-appointment briefings and open tasks, by email",
            )
        )
    clock, zone = settings.schedule.briefing_send_time, settings.zone
    specs.append(
        JobSpec(
            "task-summaries",
            "task-summaries",
            "schedules.jobs:task_summaries_job",
            (),
            _cron(clock.hour, clock.minute, zone),
            f"daily {clock:%H:%M} {zone.key}",
            "open tasks, by email, for staff who are not physicians",
        )
    )
    return specs


def _digest_specs(settings: ServiceSettings, doctors: list[int]) -> list[JobSpec]:
    clock, day, zone = (
        settings.schedule.digest_time,
        settings.schedule.digest_weekday,
        settings.zone,
    )
    return [
        JobSpec(
            f"weekly-digest:{pid}",
            "weekly-digest",
            "schedules.jobs:digest_job",
            (pid,),
            _cron(clock.hour, clock.minute, zone, day),
            f"{day} {clock:%H:%M} {zone.key}",
            "last week's research digest and the protocol reviews due, by email",
        )
        for pid in doctors
    ]


def _interval_specs(settings: ServiceSettings) -> list[JobSpec]:
    """The jobs that run every so often: sweep, outbox, memory sync, schedule refresh."""
    every = (
        (
            "follow-up-sweep",
            "sweep_job",
            settings.schedule.sweep_interval_minutes * 60,
            "overdue referrals and labs, intake forms, unacknowledged messages, reorders -> tasks",
        ),
        (
            "deliver-outbox",
            "deliver_job",
            settings.email.outbox_poll_seconds,
            "send (or retry) what waits in the outbox",
        ),
        (
            "memory-sync",
            "memory_sync_job",
            settings.schedule.memory_sync_seconds,
            "apply the memory change log to the memory store",
        ),
        (
            "refresh-schedule",
            "refresh_schedule_job",
            900.0,
            "add and remove per-physician jobs as the team changes",
        ),
    )
    return [
        JobSpec(
            job_id,
            job_id,
            f"schedules.jobs:{func}",
            (),
            IntervalTrigger(seconds=seconds, timezone=settings.zone),
            f"every {seconds:g}s",
            text,
        )
        for job_id, func, seconds, text in every
    ]


def _literature_specs(settings: ServiceSettings) -> list[JobSpec]:
    cron, zone = settings.schedule.literature_refresh_cron, settings.zone
    if not cron:
        return []
    return [
        JobSpec(
            "literature-refresh",
            "literature-refresh",
            "schedules.jobs:literature_job",
            (),
            CronTrigger.from_crontab(cron, timezone=zone),
            f"cron {cron} {zone.key}",
            "fetch PubMed and the journal feeds, store and score",
        )
    ]


def _ehr_specs(settings: ServiceSettings) -> list[JobSpec]:
    from schedules.ehr_sync import ehr_sync_wanted

    if not ehr_sync_wanted(settings):
        return []
    seconds = settings.ehr.interval_minutes * 60
    return [
        JobSpec(
            "ehr-sync",
            "ehr-sync",
            "schedules.jobs:ehr_sync_job",
            (),
            IntervalTrigger(seconds=seconds, timezone=settings.zone),
            f"every {seconds:g}s",
            "pull what changed on the EHR (FHIR) into the practice database",
        )
    ]


# ----------------------------------------------------------------- runs by hand


def run_by_name(
    ctx: JobContext,
    name: str,
    *,
    physician_id: int | None = None,
    day: date | None = None,
    force: bool = False,
) -> list[tuple[str, RunResult]]:
    """`steve jobs run NAME`: run a job family (or one job id) now, recorded in the history."""
    family, _, ident = name.partition(":")
    if family not in FAMILIES:
        raise InvalidInput(f"unknown job {name!r}; jobs: {', '.join(FAMILIES)}")
    if ident:
        if not ident.isdigit() or family not in PER_PHYSICIAN:
            raise InvalidInput(f"unknown job {name!r}")
        physician_id = int(ident)
    bodies: list[tuple[str, Callable[[JobContext], RunResult]]] = []
    if family in PER_PHYSICIAN:
        if physician_id is not None:
            ids = [physician_id]
        else:
            with Session(ctx.engine) as session:
                ids = physicians(session=session)
        for pid in ids:
            if family == "morning-briefing":
                body = partial(_morning_body, physician_id=pid, day=day, force=force)
            else:
                body = partial(_digest_body, physician_id=pid, week_of=day)
            bodies.append((f"{family}:{pid}", body))
    else:
        simple: dict[str, Callable[[JobContext], RunResult]] = {
            "task-summaries": lambda c: do_task_summaries(c, day=day),
            "follow-up-sweep": do_sweep,
            "deliver-outbox": do_deliver,
            "memory-sync": do_memory_sync,
            "literature-refresh": do_literature,
            "ehr-sync": do_ehr_sync,
            "refresh-schedule": do_refresh_schedule,
        }
        bodies.append((family, simple[family]))
    return [
        (
            job_id,
            record_run(
                engine=ctx.engine, job=job_id, instance=ctx.instance, body=partial(body, ctx)
            ),
        )
        for job_id, body in bodies
    ]


def _morning_body(
    ctx: JobContext, *, physician_id: int, day: date | None, force: bool
) -> RunResult:
    return do_morning(ctx, physician_id, day=day, force=force)


def _digest_body(ctx: JobContext, *, physician_id: int, week_of: date | None) -> RunResult:
    return do_digest(ctx, physician_id, week_of=week_of)


def run_morning_briefings(ctx: JobContext, *, day: date) -> list[tuple[str, RunResult]]:
    """Every physician's morning email for `day`, queued and delivered now (for `steve demo`:
    into <data dir>/outbox as .eml files unless SMTP is configured). Reruns change nothing."""
    return run_by_name(ctx, "morning-briefing", day=day, force=True)
