"""`steve jobs`: list the scheduled jobs, run one by hand, read the run history and the outbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import typer
from sqlmodel import Session

from app.cli.common import (
    JSON_OPTION,
    console,
    emit_json,
    engine,
    err_console,
    handle_errors,
    settings,
    table,
    transaction,
)
from db.engine import utcnow
from db.models import OutboxState, RunOutcome
from db.models.service import apscheduler_jobs
from schedules.email.outbox import list_messages, requeue
from schedules.history import instance_name, last_runs, recent_runs
from schedules.jobs import FAMILIES, job_specs, run_by_name
from tools.clock import parse_date
from tools.errors import InvalidInput
from tools.registry import find_practitioner

app = typer.Typer(help="Scheduled jobs: list, run by hand, history, outbox.", no_args_is_help=True)


def _local(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(settings().zone).strftime("%Y-%m-%d %H:%M:%S")


def _stored_next_runs(eng: sa.Engine) -> dict[str, datetime | None]:
    """Next run times as the scheduler's job store holds them (after `steve serve` ran)."""
    table = apscheduler_jobs
    with eng.connect() as conn:
        rows = conn.execute(sa.select(table.c.id, table.c.next_run_time)).all()
    return {
        str(job_id): datetime.fromtimestamp(ts, UTC) if ts is not None else None
        for job_id, ts in rows
    }


@app.command("list")
@handle_errors
def list_jobs(as_json: bool = JSON_OPTION) -> None:
    """Every job the practice has, when it runs next and how its last run went."""
    s = settings()
    eng = engine()
    try:
        specs = job_specs(engine=eng, settings=s)
        stored = _stored_next_runs(eng)
        with Session(eng) as session:
            last = last_runs(session=session)
    finally:
        eng.dispose()
    now = utcnow()
    rows = []
    for spec in specs:
        nxt = stored[spec.id] if spec.id in stored else spec.trigger.get_next_fire_time(None, now)
        run = last.get(spec.id)
        rows.append(
            {
                "job": spec.id,
                "schedule": spec.signature,
                "next_run": _local(nxt),
                "in_job_store": spec.id in stored,
                "last_outcome": str(run.outcome) if run else None,
                "last_started": _local(run.started_at) if run else None,
                "what": spec.description,
            }
        )
    if as_json:
        emit_json(rows)
        return
    console.print(
        table(
            f"{len(rows)} job(s)",
            ["job", "schedule", "next run", "last run", "what"],
            [
                [
                    r["job"],
                    r["schedule"],
                    r["next_run"],
                    f"{r['last_outcome']} {r['last_started']}" if r["last_outcome"] else "",
                    r["what"],
                ]
                for r in rows
            ],
        )
    )


@app.command()
@handle_errors
def run(
    name: str = typer.Argument(..., help=f"A job ({', '.join(FAMILIES)}) or a job id."),
    physician: str | None = typer.Option(None, "--physician", help="Only this physician."),
    day: str | None = typer.Option(None, "--date", help="Morning email day / digest week."),
    force: bool = typer.Option(
        False, "--force", help="Send a morning briefing even after the first appointment."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run a job now, in this process (recorded in the history like a scheduled run)."""
    from app.wiring import job_context

    on = parse_date(day) if day else None
    eng = engine()
    try:
        pid = None
        if physician:
            with Session(eng) as session:
                pid = find_practitioner(session=session, query=physician).id
        ctx = job_context(settings(), engine=eng, instance=instance_name("cli"))
        results = run_by_name(ctx, name, physician_id=pid, day=on, force=force)
    finally:
        eng.dispose()
    rows: list[dict[str, Any]] = [
        {"job": job, "outcome": str(r.outcome), "counts": r.counts, "detail": r.detail}
        for job, r in results
    ]
    if as_json:
        emit_json(rows)
    else:
        for r in rows:
            counts = ", ".join(f"{k} {v}" for k, v in r["counts"].items())
            line = f"{r['job']}: {r['outcome']}" + (f" ({counts})" if counts else "")
            console.print(line + (f": {r['detail']}" if r["detail"] else ""), highlight=False)
    if any(r.outcome == RunOutcome.FAILED for _, r in results):
        raise typer.Exit(1)


@app.command()
@handle_errors
def history(
    job: str | None = typer.Option(None, "--job", help="One job or family, e.g. weekly-digest."),
    limit: int = typer.Option(30, "--limit", min=1, max=1000, help="How many runs."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The latest job runs: when, which process, outcome, counts and reasons."""
    with transaction() as session:
        runs = recent_runs(session=session, job=job, limit=limit)
        rows: list[dict[str, Any]] = [
            {
                "id": r.id,
                "job": r.job,
                "scheduled_for": _local(r.scheduled_for),
                "started": _local(r.started_at),
                "finished": _local(r.finished_at),
                "outcome": str(r.outcome),
                "instance": r.instance,
                "counts": r.counts,
                "detail": r.detail,
            }
            for r in runs
        ]
    if as_json:
        emit_json(rows)
        return
    console.print(
        table(
            f"{len(rows)} run(s)",
            ["id", "job", "started", "outcome", "counts", "detail"],
            [
                [
                    r["id"],
                    r["job"],
                    r["started"],
                    r["outcome"],
                    ", ".join(f"{k} {v}" for k, v in r["counts"].items()),
                    r["detail"],
                ]
                for r in rows
            ],
        )
    )


@app.command()
@handle_errors
def outbox(
    state: str | None = typer.Option(None, "--state", help="pending, sending, sent or failed."),
    limit: int = typer.Option(30, "--limit", min=1, max=1000),
    as_json: bool = JSON_OPTION,
) -> None:
    """The emails in the outbox, newest first, with their delivery state and last error."""
    try:
        wanted = OutboxState(state) if state else None
    except ValueError:
        raise InvalidInput(
            f"unknown state {state!r}; use pending, sending, sent or failed"
        ) from None
    with transaction() as session:
        rows = [
            {
                "key": m.key,
                "state": str(m.state),
                "attempts": m.attempts,
                "to": m.to_address,
                "next_attempt": _local(m.next_attempt_at) if m.state == "pending" else None,
                "sent": _local(m.sent_at),
                "last_error": m.last_error,
            }
            for m in list_messages(session=session, state=wanted, limit=limit)
        ]
    if as_json:
        emit_json(rows)
        return
    console.print(
        table(
            f"{len(rows)} email(s)",
            ["key", "state", "attempts", "to", "sent / next attempt", "last error"],
            [
                [
                    r["key"],
                    r["state"],
                    r["attempts"],
                    r["to"],
                    r["sent"] or r["next_attempt"],
                    r["last_error"],
                ]
                for r in rows
            ],
        )
    )


@app.command()
@handle_errors
def retry(key: str = typer.Argument(..., help="The failed email's key.")) -> None:
    """Give a failed email a new round of attempts (after fixing what made it fail)."""
    with transaction() as session:
        requeue(session=session, key=key)
    err_console.print(f"{key} is pending again; `steve serve` sends it on its next round.")
