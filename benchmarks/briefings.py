"""Benchmark: a physician's day of 20 pre-appointment briefings on the 10,000-patient demo.

    python benchmarks/briefings.py                       # 10,000 patients, SQLite, temp dir
    python benchmarks/briefings.py --database-url postgresql://postgres@127.0.0.1:5432/bench

The database must be empty; it is migrated, filled with the demo practice (seed 7, today's
date) and the demo's saved literature. Demo physicians see 7-9 patients a day, so "a day of
20 appointments" is the busiest physician's next 20 appointments from today, briefed as one
batch in one session, as `steve brief --day` does.

Measured per briefing, from the graph's own node timings (time.perf_counter):
- gather (programme view + changes since the last visit + conflicts, interactions,
  evidence) and verify (the checker, with the guard), which the target covers;
- the whole graph excluding model time (gather + compose + verify + render + LangGraph);
- model calls, and the prompt tokens of the one call (agent.documents.tokens: tiktoken cl100k_base
  when its encoding is on disk, else the documented estimate).

The model is a stand-in that answers at once with the deterministic composition of the facts
it was sent, so the checker has a full-length text to verify and no model time is counted.
Each batch runs twice: cold (first queries, template compilation) and warm.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import date, datetime
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from practice import demo_practice  # beside this module
from sqlmodel import Session, col, func, select

from agent.briefing.document import deterministic_body
from agent.briefing.graph import Briefing, run_briefing
from agent.briefing.state import BriefingContext
from agent.documents.facts import FACTS_CLOSE, FACTS_OPEN, Fact
from agent.documents.tokens import counter_name
from db.models import Appointment, AppointmentStatus, Discipline, Practitioner
from demo.literature import ingest_demo_literature
from tools.clock import at_local, local_day_bounds

TARGET_SECONDS = 2.0
TARGET_TOKENS = 3000


class EchoModel(BaseChatModel):
    """Answers instantly with the deterministic briefing of the facts it was sent."""

    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "echo"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        self.calls += 1
        data = str(messages[-1].content)
        lines = data.removeprefix(FACTS_OPEN + "\n").removesuffix("\n" + FACTS_CLOSE).splitlines()
        facts = []
        for line in lines:
            r = json.loads(line)
            facts.append(
                Fact(
                    r["ref"],
                    r["text"],
                    r["section"],
                    bool(r.get("quoted")),
                    tuple(r.get("also", ())),
                )
            )
        return ChatResult(
            generations=[ChatGeneration(message=AIMessage(deterministic_body(facts)))]
        )


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def busiest_day(
    session: Session, today: date, tz: ZoneInfo, count: int
) -> tuple[int, list[Appointment]]:
    """The physician with the most appointments today, and their next `count` appointments."""
    start, end = local_day_bounds(today, tz)
    physicians = select(Practitioner.id).where(Practitioner.discipline == Discipline.PHYSICIAN)
    booked = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED, AppointmentStatus.COMPLETED)
    row = session.exec(
        select(Appointment.practitioner_id, func.count())
        .where(
            col(Appointment.practitioner_id).in_(physicians),
            col(Appointment.starts_at) >= start,
            col(Appointment.starts_at) < end,
            col(Appointment.status).in_(booked),
        )
        .group_by(col(Appointment.practitioner_id))
        .order_by(func.count().desc(), col(Appointment.practitioner_id))
    ).first()
    assert row is not None, "no physician appointments today"
    physician = row[0]
    appointments = session.exec(
        select(Appointment)
        .where(
            Appointment.practitioner_id == physician,
            col(Appointment.starts_at) >= start,
            col(Appointment.status).in_(booked),
        )
        .order_by(col(Appointment.starts_at), col(Appointment.id))
        .limit(count)
    ).all()
    return physician, list(appointments)


def run_batch(
    engine: sa.Engine, tz: ZoneInfo, now: datetime, physician: int, ids: list[int], model: Any
) -> tuple[float, list[Briefing]]:
    started = time.perf_counter()
    out = []
    with Session(engine) as session:
        context = BriefingContext(session=session, tz=tz, model=model)
        for appointment_id in ids:
            appointment = session.get(Appointment, appointment_id)
            assert appointment is not None
            out.append(
                run_briefing(
                    context=context,
                    patient_id=appointment.patient_id,
                    physician_id=physician,
                    now=now,
                    appointment_id=appointment_id,
                )
            )
        session.rollback()  # the audit rows of a benchmark are not kept
    return time.perf_counter() - started, out


def report(label: str, wall: float, briefings: list[Briefing]) -> dict[str, float]:
    t = [b.timings for b in briefings]
    gather = sum(x.get("gather", 0.0) for x in t)
    verify = sum(x.get("verify", 0.0) for x in t)
    model = sum(x.get("model", 0.0) for x in t)
    out = {
        "gather": gather,
        "verify": verify,
        "gather+verify": gather + verify,
        "compose (excl. model)": sum(x.get("compose", 0.0) for x in t) - model,
        "render": sum(x.get("render", 0.0) for x in t),
        "whole batch excl. model": wall - model,
    }
    cells = " | ".join(f"{v:.3f}" for v in out.values())
    print(f"| {label} | {cells} |")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--appointments", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="an empty database")
    parser.add_argument("--timezone", default="Europe/London")
    args = parser.parse_args(argv)
    tz = ZoneInfo(args.timezone)
    today = datetime.now(tz).date()
    with demo_practice(args, today=today, tz=tz) as practice:
        engine, generation = practice.engine, practice.seconds
        started = time.perf_counter()
        now = at_local(today, clock_time(7, 0), tz)
        with Session(engine) as session:
            reading = ingest_demo_literature(session=session, now=now)
            session.commit()
        print(
            f"Demo: {args.patients:,} patients, seed {args.seed}, today {today}, built in "
            f"{generation + time.perf_counter() - started:.1f} s; {reading.new} articles, "
            f"{reading.matches} topic matches",
            file=sys.stderr,
        )
        with Session(engine) as session:
            physician, appointments = busiest_day(session, today, tz, args.appointments)
        ids = [a.id or 0 for a in appointments]
        days = sorted({a.starts_at.astimezone(tz).date() for a in appointments})
        print(f"\n## Briefings benchmark ({engine.dialect.name})\n")
        print(
            f"Machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), Python "
            f"{platform.python_version()}, SQLAlchemy {sa.__version__}, {platform.machine()}\n"
        )
        print(
            f"Physician {physician}: {len(ids)} appointments from {days[0]} to {days[-1]} "
            f"({len(days)} clinic days), briefed as one batch at {now:%Y-%m-%d %H:%M} UTC.\n"
        )
        print(
            "| batch (seconds, totals over the briefings) | gather | verify | gather+verify | "
            "compose excl. model | render | whole batch excl. model |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        rows = {}
        for label, model_factory in (
            ("no model, cold", lambda: None),
            ("no model, warm", lambda: None),
            ("stand-in model, warm", EchoModel),
        ):
            model = model_factory()
            wall, briefings = run_batch(engine, tz, now, physician, ids, model)
            rows[label] = (report(label, wall, briefings), briefings, model)
        _, with_model, echo = rows["stand-in model, warm"]
        tokens = [float(b.prompt_tokens) for b in with_model]
        calls = [b.model_calls for b in with_model]
        facts = [len(b.facts) for b in with_model]
        dropped = sum(b.dropped_total for b in with_model)
        print(
            f"\nModel calls: {sum(calls)} for {len(with_model)} briefings "
            f"(per briefing: min {min(calls)}, max {max(calls)}; the model saw "
            f"{echo.calls if echo else 0} calls). Sentences removed by the checker: {dropped}."
        )
        print(
            f"Prompt tokens per briefing ({counter_name()}): p50 {percentile(tokens, 50):.0f}, "
            f"p95 {percentile(tokens, 95):.0f}, max {max(tokens):.0f}; facts per briefing "
            f"{min(facts)}-{max(facts)} (median {statistics.median(facts):.0f})."
        )
        warm = rows["no model, warm"][0]
        cold = rows["no model, cold"][0]
        print(
            f"Target gather+verify < {TARGET_SECONDS:.0f} s for the day: "
            f"{'met' if cold['gather+verify'] < TARGET_SECONDS else 'MISSED'} "
            f"(cold {cold['gather+verify']:.3f} s, warm {warm['gather+verify']:.3f} s). "
            f"Target prompt tokens p95 < {TARGET_TOKENS:,}: "
            f"{'met' if percentile(tokens, 95) < TARGET_TOKENS else 'MISSED'}."
        )
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
