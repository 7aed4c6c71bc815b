"""A deterministic, seeded synthetic integrative-medicine practice (no real people).

    summary = generate_demo(engine=engine, patients=300, seed=7, today=date(2025, 3, 3),
                            tz=ZoneInfo("Europe/London"))

Same seed, `today` and patient count give identical rows. The in-house team grows with the
register (one care team per ~300 patients, see demo.staff), so a large practice has
about as many appointments, notes and tasks per patient as the default one. Everything is
generated in memory first, then written in one transaction with chunked bulk inserts and
explicit ids, so a 10,000-patient practice takes seconds and a failure leaves the database
untouched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from demo.build_state import Context, Progress
from demo.care import generate_intake, generate_messages, generate_protocols, generate_tasks
from demo.patients import generate_patients
from demo.referrals import generate_referrals
from demo.schedule import generate_appointments
from demo.staff import generate_staff, team_count
from demo.supplements_labs import generate_labs, generate_supplements
from demo.writer import ensure_empty, reset_sequences, write_rows
from tools.errors import InvalidInput

MAX_PATIENTS = 100_000


@dataclass
class DemoSummary:
    counts: dict[str, int]  # rows written per table (every table, 0 when none)
    seed: int
    today: date


def _check(patients: object, seed: object, today: object, tz: object) -> None:
    if isinstance(patients, bool) or not isinstance(patients, int):
        raise InvalidInput(f"patients must be a whole number, not {type(patients).__name__}")
    if not 1 <= patients <= MAX_PATIENTS:
        raise InvalidInput(f"patients must be between 1 and {MAX_PATIENTS:,}; got {patients}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidInput(f"seed must be a whole number, not {type(seed).__name__}")
    if isinstance(today, datetime) or not isinstance(today, date):
        raise InvalidInput("today must be a date (not a datetime)")
    if not isinstance(tz, ZoneInfo):
        raise InvalidInput("tz must be a ZoneInfo time zone such as Europe/London")


def build(ctx: Context, patients: int) -> None:
    """Generate every row in memory; order matters where later stages refer to earlier ones."""
    generate_staff(ctx, team_count(patients))
    generate_patients(ctx, patients)
    generate_supplements(ctx)
    generate_intake(ctx)
    generate_labs(ctx)
    generate_referrals(ctx)
    generate_appointments(ctx)
    generate_messages(ctx)
    generate_tasks(ctx)
    generate_protocols(ctx)


def generate_demo(
    *,
    engine: Engine,
    patients: int = 300,
    seed: int = 7,
    today: date,
    tz: ZoneInfo,
    progress: Progress | None = None,
) -> DemoSummary:
    """Fill an empty, migrated database with a demo practice; all or nothing."""
    _check(patients, seed, today, tz)
    ctx = Context(seed=seed, today=today, tz=tz, progress=progress)
    build(ctx, patients)
    ctx.rows["practice_meta"].append(
        {
            "key": "demo",
            "value": json.dumps({"seed": seed, "patients": patients, "today": today.isoformat()}),
        }
    )
    with engine.begin() as conn:
        ensure_empty(conn)
        counts = write_rows(conn, ctx.rows, ctx.report)
        reset_sequences(conn, [name for name, n in counts.items() if n])
    return DemoSummary(counts=counts, seed=seed, today=today)
