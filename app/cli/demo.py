"""`steve demo`: build the synthetic demo practice and print today's overview."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import typer
from sqlmodel import Session, select

from app.cli.common import (
    JSON_OPTION,
    emit_json,
    err_console,
    handle_errors,
    progress_bar,
    settings,
    stage_reporter,
)
from app.cli.common import today as today_for
from app.cli.overview import load_overview, overview_data, print_overview
from db.engine import make_engine, migrate, reset_schema, session_scope
from db.models import Patient, PracticeMeta
from db.private_files import private_dir
from tools.errors import ConfigError, InvalidInput


@handle_errors
def demo(
    patients: int = typer.Option(300, "--patients", "-n", help="Number of patients (1-100000)."),
    seed: int = typer.Option(7, "--seed", help="Random seed: the same seed gives the same data."),
    day: str | None = typer.Option(None, "--date", help="The demo's 'today', YYYY-MM-DD."),
    reset: bool = typer.Option(False, "--reset", help="Replace an existing demo practice."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create the demo practice in the data directory and print today's practice overview."""
    if not 1 <= patients <= 100_000:
        raise InvalidInput(f"--patients {patients} is out of range (1 to 100000)")
    s = settings()
    today = today_for(day)
    private_dir(s.data_dir)
    engine = make_engine(s.db_url)
    try:
        migrate(engine)
        with Session(engine) as session:
            marker = session.get(PracticeMeta, "demo")
            has_patients = session.exec(select(Patient.id).limit(1)).first() is not None
        if has_patients and marker is None:
            raise ConfigError(
                "the database holds a real practice, not the demo; point STEVE_DATA_DIR or "
                "STEVE_DATABASE_URL elsewhere to try the demo"
            )
        if marker is not None:
            existing = json.loads(marker.value)
            wanted = {"seed": seed, "patients": patients, "today": today.isoformat()}
            if reset or (existing != wanted and (day or patients != 300 or seed != 7)):
                reset_schema(engine)
                marker = None
            else:
                err_console.print(
                    f"Demo practice already present ({existing['patients']} patients, seed "
                    f"{existing['seed']}, made for {existing['today']}); --reset rebuilds it."
                )
        if marker is None:
            from demo import generate_demo  # heavy vocabularies: load only when needed

            with progress_bar(transient=as_json) as bar:
                summary = generate_demo(
                    engine=engine,
                    patients=patients,
                    seed=seed,
                    today=today,
                    tz=s.zone,
                    progress=stage_reporter(bar),
                )
            from demo.literature import ingest_demo_literature

            with session_scope(engine) as session:
                reading = ingest_demo_literature(session=session)
            err_console.print(
                f"Demo practice created: {summary.counts.get('patient', patients)} patients, "
                f"{summary.counts.get('appointment', 0)} appointments, seed {seed}; "
                f"{reading.new} articles read, {reading.matches} topic matches."
            )
        _morning_emails(engine, today)
    finally:
        engine.dispose()
    ov = load_overview(today)
    if as_json:
        emit_json(overview_data(ov))
    else:
        print_overview(ov)


def _morning_emails(engine: Any, today: date) -> None:
    """Today's morning briefing emails for the demo physicians, as the service would send
    them: into the outbox folder (.eml) unless SMTP is configured. Reruns add nothing."""
    from app.wiring import job_context
    from schedules.history import instance_name
    from schedules.jobs import run_morning_briefings

    s = settings()
    ctx = job_context(s, engine=engine, instance=instance_name("cli"), memory=False)
    results = run_morning_briefings(ctx, day=today)
    queued = sum(1 for _, r in results if str(r.outcome) in ("ok", "partial"))
    where = "SMTP" if s.email.smtp_host else str(s.data_dir / "outbox")
    err_console.print(f"Morning briefing emails for {today.isoformat()}: {queued} in {where}.")
