"""Benchmark: the morning run for a 10,000-patient practice, and outbox throughput over SMTP.

    python benchmarks/morning_run.py                    # SQLite in a temporary directory
    python benchmarks/morning_run.py --database-url postgresql://postgres@127.0.0.1:5432/bench

1. Builds the 10,000-patient demo practice (seed 7), then books 80 appointments on one
   weekday well after the demo's own diary: 20 for each of 4 in-house physicians.
2. Morning run, deterministic mode (no model): for each of the 4 physicians, the agenda,
   a pre-appointment briefing per appointment (agent.briefing's graph, deterministic
   composer) and their open tasks, rendered into one email, queued in the outbox and
   delivered as an .eml file. Reported: total time, and time per email.
3. Outbox throughput: `--messages` emails of the same size queued, then delivered to an
   aiosmtpd server on loopback over one SMTP connection. Reported: messages per second, and
   the duplicate window (seconds from the server's 250 to the commit of 'sent') per email.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from datetime import date, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from app.settings import Settings
from db.engine import make_engine, migrate, session_scope, utcnow
from db.models import (
    Affiliation,
    Appointment,
    Discipline,
    OutboxMessage,
    Patient,
    Practitioner,
    PractitionerStatus,
)
from demo import generate_demo
from schedules.email import outbox
from schedules.email.delivery import deliver_due
from schedules.jobs import JobContext, do_morning
from tools.clock import at_local

ZONE = ZoneInfo("Europe/London")
TODAY = date(2026, 11, 23)


def percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {k: values[0] if values else float("nan") for k in ("p50", "p95", "p99", "max")}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": q[49], "p95": q[94], "p99": q[98], "max": max(values)}


def deterministic_briefings(*, session: Session, physician_id: int, day: date) -> list[Any]:
    """The seam schedules.morning expects, over agent.briefing's graph with no model (what
    the lead wires as agent.briefing.briefings_for_day)."""
    from agent.briefing.gather import DatabasePreferences
    from agent.briefing.graph import brief_day
    from agent.briefing.state import BriefingContext

    context = BriefingContext(
        session=session, tz=ZONE, model=None, memory=DatabasePreferences(session)
    )
    out = []
    for b in brief_day(context=context, physician_id=physician_id, day=day, now=utcnow()):
        patient = session.get(Patient, b.patient_id)
        title = f"Briefing: {patient.full_name if patient else b.patient_id}"
        out.append((title, b.markdown, b.html))
    return out


def book_day(engine: Any, day: date, physicians: int, per_physician: int) -> list[int]:
    with session_scope(engine) as s:
        doctors = s.exec(
            select(Practitioner)
            .where(
                Practitioner.discipline == Discipline.PHYSICIAN,
                Practitioner.affiliation == Affiliation.IN_HOUSE,
                Practitioner.status == PractitionerStatus.ACTIVE,
            )
            .order_by(col(Practitioner.id))
            .limit(physicians)
        ).all()
        ids = []
        for doc in doctors:
            assert doc.id is not None
            ids.append(doc.id)
            if not doc.email:
                doc.email = f"physician{doc.id}@practice.example.org"
                s.add(doc)
            patients = s.exec(
                select(Patient.id)
                .where(Patient.primary_physician_id == doc.id)
                .order_by(col(Patient.id))
                .limit(per_physician)
            ).all()
            for n, pid in enumerate(patients):
                start = at_local(day, clock_time(8, 0), ZONE) + timedelta(minutes=25 * n)
                s.add(
                    Appointment(
                        practitioner_id=doc.id,
                        patient_id=pid or 0,
                        service_type="follow-up consultation",
                        starts_at=start,
                        ends_at=start + timedelta(minutes=20),
                    )
                )
        return ids


def morning(engine: Any, settings: Settings, ids: list[int], day: date) -> dict[str, Any]:
    ctx = JobContext(
        engine=engine, settings=settings, instance="bench", briefings=deterministic_briefings
    )
    per_email = []
    began = time.perf_counter()
    counts = []
    for pid in ids:
        t0 = time.perf_counter()
        result = do_morning(ctx, pid, day=day, force=True)
        per_email.append(time.perf_counter() - t0)
        counts.append(result.counts)
        assert result.outcome == "ok", (result.outcome, result.detail)
    total = time.perf_counter() - began
    return {"total": total, "per_email": per_email, "counts": counts}


def throughput(engine: Any, settings: Settings, messages: int) -> dict[str, Any]:
    from aiosmtpd.controller import Controller

    with Session(engine) as s:
        sample = s.exec(select(OutboxMessage).limit(1)).one()
    received = []

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(len(envelope.original_content or b""))
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with session_scope(engine) as s:
            for n in range(messages):
                outbox.enqueue(
                    session=s,
                    email=outbox.Email(
                        key=f"bench:{n}",
                        kind="bench",
                        recipient_id=None,
                        to_address=sample.to_address,
                        subject=sample.subject,
                        text=sample.text_body,
                        html=sample.html_body,
                    ),
                    mail_from=settings.email.mail_from,
                )
        email = {
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
            "smtp_timeout_seconds": 10.0,
        }
        smtp = settings.model_copy(update={"email": settings.email.model_copy(update=email)})
        t0 = time.perf_counter()
        report = deliver_due(engine=engine, settings=smtp, instance="bench", limit=messages)
        elapsed = time.perf_counter() - t0
    finally:
        controller.stop()
    assert report.sent == messages == len(received), (report, len(received))
    return {
        "elapsed": elapsed,
        "rate": messages / elapsed,
        "bytes": statistics.mean(received),
        "windows": percentiles([w * 1000 for w in report.windows]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="an empty database (default: SQLite, temp dir)")
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=500)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="steve-morning-"))
    url = args.database_url or f"sqlite:///{tmp / 'steve.db'}"
    engine = make_engine(url)
    migrate(engine)
    t0 = time.perf_counter()
    generate_demo(engine=engine, patients=args.patients, seed=7, today=TODAY, tz=ZONE)
    built = time.perf_counter() - t0
    day = TODAY + timedelta(days=120)  # a Monday well after the demo's diary
    ids = book_day(engine, day, physicians=4, per_physician=20)
    settings = Settings(
        data_dir=tmp / "data", timezone=ZONE.key, mail_from="Steve <steve@bench.test>"
    )
    result = morning(engine, settings, ids, day)
    tp = throughput(engine, settings, args.messages)

    print(
        f"Python {platform.python_version()}, {engine.dialect.name}; "
        f"demo of {args.patients} patients built in {built:.1f} s"
    )
    print(
        f"morning run: {len(ids)} emails, {sum(c['appointments'] for c in result['counts'])} "
        f"appointments, {sum(c['briefings'] for c in result['counts'])} briefings"
    )
    print(
        f"  total {result['total']:.2f} s; per email "
        + ", ".join(f"{t:.2f}" for t in result["per_email"])
        + " s"
    )
    sizes = sorted(p.stat().st_size for p in (tmp / "data" / "outbox").iterdir())
    print(f"  .eml sizes {sizes[0] / 1024:.0f}-{sizes[-1] / 1024:.0f} kB")
    w = tp["windows"]
    print(
        f"outbox -> loopback SMTP: {args.messages} messages of {tp['bytes'] / 1024:.0f} kB in "
        f"{tp['elapsed']:.2f} s = {tp['rate']:.0f} messages/s"
    )
    print(
        f"  duplicate window (250 after DATA -> 'sent' committed), ms: p50 {w['p50']:.2f} "
        f"p95 {w['p95']:.2f} p99 {w['p99']:.2f} max {w['max']:.2f}"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
