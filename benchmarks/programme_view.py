"""Benchmark: the consolidated programme view and a visit-block slot search on a large demo.

    python benchmarks/programme_view.py                       # 10,000 patients, SQLite
    python benchmarks/programme_view.py --database-url postgresql://postgres@127.0.0.1/bench

The database must be empty (a fresh SQLite file in a temporary directory by default); it is
migrated, filled with the demo practice, then measured:

- programme view: `tools.registry.programme_view` for `--samples` random patients, one fresh
  Session per view as a request would have, committed (the view writes an audit row).
  Reported: time of the view's reads alone and of view + commit, and the number of SQL
  statements each view issued (counted with a `before_cursor_execute` listener).
- block search: `tools.scheduling.block_slots` for a three-practitioner visit block on
  `--days` different weekdays of the demo's eight weeks, one Session per search. The three
  are the lowest-id in-house physician, acupuncturist and nutritional therapist: care team 1,
  the practice's original team (a large demo has one care team per ~300 patients).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

from practice import demo_practice, machine  # beside this module
from sqlalchemy import Engine, event
from sqlmodel import Session, col, select

from db.models import Affiliation, Discipline, Patient, Practitioner
from tools.clock import at_local
from tools.programme import PROGRAMME_VIEW_QUERIES, programme_view

WARM_UP = 20  # views run first and not measured: statement caches, connection pool


def percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        only = values[0] if values else float("nan")
        return {"p50": only, "p95": only, "p99": only, "max": only}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": q[49], "p95": q[94], "p99": q[98], "max": max(values)}


class StatementCounter:
    """Counts statements sent to the database while `active`."""

    def __init__(self, engine: Engine) -> None:
        self.active = False
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        if self.active:
            self.count += 1


def progress_bar(stage: str, done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r  {stage:<14} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def bench_views(
    engine: Engine, patient_ids: list[int], now: datetime, counter: StatementCounter
) -> tuple[list[float], list[float], list[int]]:
    reads, totals, statements = [], [], []
    for n, patient_id in enumerate(patient_ids):
        started = time.perf_counter()
        with Session(engine) as session:
            counter.count, counter.active = 0, True
            view = programme_view(session=session, patient_id=patient_id, now=now)
            counter.active = False
            read = time.perf_counter()
            assert view.patient.id == patient_id
            session.commit()
        done = time.perf_counter()
        if n >= WARM_UP:
            reads.append((read - started) * 1000)
            totals.append((done - started) * 1000)
            statements.append(counter.count)
    return reads, totals, statements


def in_house(session: Session, discipline: Discipline) -> int:
    return (
        session.exec(
            select(Practitioner.id)
            .where(
                Practitioner.discipline == discipline,
                Practitioner.affiliation == Affiliation.IN_HOUSE,
            )
            .order_by(col(Practitioner.id))
        ).first()
        or 0
    )


def bench_blocks(
    engine: Engine, today: date, tz: ZoneInfo, days: int
) -> tuple[list[float], list[int], str]:
    try:
        from tools.scheduling import BlockPart, block_slots
    except ImportError as exc:  # the scheduling module is written separately
        return [], [], f"skipped: {exc}"
    with Session(engine) as session:  # team 1: the first of each discipline
        people = [
            (in_house(session, Discipline.PHYSICIAN), 35, "follow-up consultation"),
            (in_house(session, Discipline.ACUPUNCTURE), 50, "acupuncture"),
            (in_house(session, Discipline.NUTRITIONAL_THERAPY), 50, "nutritional therapy"),
        ]
    parts = [BlockPart(pid, minutes, service) for pid, minutes, service in people]
    # Weekdays the three all work (Mon-Thu in the demo), spread over the eight weeks.
    first = today - timedelta(weeks=4)
    candidates = [first + timedelta(days=d) for d in range(56)]
    candidates = [d for d in candidates if d.weekday() < 4]
    picks = min(days, len(candidates))
    chosen = [candidates[i * (len(candidates) - 1) // max(1, picks - 1)] for i in range(picks)]
    now = at_local(first, clock_time(0), tz)  # search past days too: their diaries are full
    timings, found = [], []
    for day in chosen:
        started = time.perf_counter()
        with Session(engine) as session:
            options = block_slots(session=session, parts=parts, day=day, tz=tz, now=now)
        timings.append((time.perf_counter() - started) * 1000)
        found.append(len(options))
    shape = " + ".join(f"{s} {m} min" for _, m, s in people)
    return timings, found, f"{shape}, gap 10 min, step 15 min"


def print_counts(engine: Engine, counts: dict[str, int]) -> None:
    """Rows per table, and the practice's staff by affiliation."""
    with Session(engine) as session:
        staff = Counter(
            (str(a), d == Discipline.ADMIN)
            for a, d in session.exec(select(Practitioner.affiliation, Practitioner.discipline))
        )
    clinicians = staff[(str(Affiliation.IN_HOUSE), False)]
    admins = staff[(str(Affiliation.IN_HOUSE), True)]
    external = staff[(str(Affiliation.EXTERNAL), False)]
    print(
        f"Staff: {clinicians} in-house clinicians, {admins} admin, {external} external "
        "network practitioners\n"
    )
    print("| table | rows |\n| --- | ---: |")
    for name, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        if n:
            print(f"| {name} | {n:,} |")
    print()


def row(name: str, stats: dict[str, float], extra: str = "") -> str:
    cells = " | ".join(f"{stats[k]:.2f}" for k in ("p50", "p95", "p99", "max"))
    return f"| {name} | {cells} | {extra} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--days", type=int, default=20, help="weekdays for the block search")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--database-url",
        default=None,
        help="an empty database (default: SQLite file in a temp directory)",
    )
    parser.add_argument("--timezone", default="Europe/London")
    args = parser.parse_args(argv)

    tz = ZoneInfo(args.timezone)
    today = datetime.now(tz).date()
    with demo_practice(args, today=today, tz=tz, progress=progress_bar) as practice:
        engine, summary, generation = practice.engine, practice.summary, practice.seconds
        counter = StatementCounter(engine)
        with Session(engine) as session:
            ids = list(session.exec(select(Patient.id).order_by(col(Patient.id))).all())
        rng = random.Random(args.seed)
        sample = [rng.choice(ids) for _ in range(args.samples + WARM_UP)]
        now = at_local(today, clock_time(9, 30), tz)
        reads, totals, statements = bench_views(engine, [i or 0 for i in sample], now, counter)
        blocks = bench_blocks(engine, today, tz, args.days)
        print(f"\n## Programme view benchmark ({engine.dialect.name})\n")
        print(f"Machine: {machine(engine)}\n")
        print(
            f"Demo: {args.patients:,} patients, seed {args.seed}, today {today}, "
            f"{sum(summary.counts.values()):,} rows; generated in {generation:.1f} s "
            f"({summary.counts['appointment']:,} appointments, "
            f"{summary.counts['lab_result']:,} lab results, "
            f"{summary.counts['clinical_note']:,} notes)\n"
        )
        print_counts(engine, summary.counts)
        print_timings(reads, totals, blocks)
        print_statements(statements)
        target = percentiles(reads)["p95"]
        print(f"Target p95 < 20 ms: {'met' if target < 20 else 'MISSED'} ({target:.2f} ms).")
        engine.dispose()
    return 0


def print_timings(
    reads: list[float], totals: list[float], blocks: tuple[list[float], list[int], str]
) -> None:
    """The table of view and block-search timings."""
    timings, found, shape = blocks
    print("| measure (ms) | p50 | p95 | p99 | max | notes |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(
        row(
            "programme_view reads",
            percentiles(reads),
            f"{len(reads)} random patients, fresh Session each",
        )
    )
    print(row("programme_view + audit commit", percentiles(totals), "as a request would"))
    if timings:
        print(
            row(
                "block_slots, 3 practitioners",
                percentiles(timings),
                f"{len(timings)} weekdays; {shape}; options/day {min(found)}-{max(found)}",
            )
        )
    else:
        print(f"| block_slots | - | - | - | - | {shape} |")


def print_statements(statements: list[int]) -> None:
    """How many SQL statements each view sent."""
    low, high = min(statements), max(statements)
    spread = ", ".join(f"{k}: {v}" for k, v in sorted(Counter(statements).items()))
    print(
        f"\nSQL statements per view: min {low}, max {high} (views per count: {spread}; "
        f"PROGRAMME_VIEW_QUERIES = {PROGRAMME_VIEW_QUERIES}). The lab-result query is "
        "skipped when a patient has no lab received in 90 days; the audit INSERT is sent "
        "at commit and not counted."
    )


if __name__ == "__main__":
    raise SystemExit(main())
