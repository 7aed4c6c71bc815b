"""Benchmark: `steve export fhir` (tools.interop.fhir.export) on the demo practice.

    python benchmarks/export_fhir.py                      # 300 patients, SQLite in a temp dir
    python benchmarks/export_fhir.py --patients 2000
    python benchmarks/export_fhir.py --database-url postgresql://postgres@127.0.0.1:5432/bench

Fills an empty, migrated database with `demo.generate_demo` (seed 7), then exports the whole
practice, best of `--repeat`, as transaction Bundles (a file per patient) and as Bulk Data
NDJSON, each resource built and validated with the R4B models. Prints resources per second,
the share of the time the FHIR library's validation alone takes, and the peak traced memory
of an NDJSON export (it streams in batches of 200 patients, so it should not grow with the
practice).
"""

from __future__ import annotations

import argparse
import platform
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from db.engine import make_engine, migrate
from demo import generate_demo
from tools.interop.fhir import validation
from tools.interop.fhir.export.run import ExportSummary, export_fhir


def _export(engine: Any, out: Path, *, ndjson: bool) -> tuple[float, ExportSummary]:
    shutil.rmtree(out, ignore_errors=True)
    with Session(engine) as session:
        started = time.perf_counter()
        summary = export_fhir(session=session, out=out, ndjson=ndjson)
        elapsed = time.perf_counter() - started
        session.rollback()  # the audit rows: the next run starts from the same practice
    return elapsed, summary


def _validation_share(engine: Any, out: Path) -> float:
    """The share of an NDJSON export spent in `validate_resource` (the library's work)."""
    spent = 0.0
    real: Callable[..., Any] = validation.validate_resource

    def timed(**kwargs: Any) -> Any:
        nonlocal spent
        started = time.perf_counter()
        try:
            return real(**kwargs)
        finally:
            spent += time.perf_counter() - started

    import tools.interop.fhir.export.run as run

    run.validate_resource = timed  # type: ignore[assignment]
    try:
        total, _ = _export(engine, out, ndjson=True)
    finally:
        run.validate_resource = real  # type: ignore[assignment]
    return spent / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        url = args.database_url or f"sqlite:///{folder / 'steve.db'}"
        engine = make_engine(url)
        migrate(engine)
        started = time.perf_counter()
        generate_demo(
            engine=engine,
            patients=args.patients,
            seed=7,
            today=date(2025, 3, 3),
            tz=ZoneInfo("Europe/London"),
        )
        print(f"demo: {args.patients} patients in {time.perf_counter() - started:.1f} s")
        print(f"{platform.python_version()} on {platform.machine()}, {engine.dialect.name}")
        for ndjson in (False, True):
            runs = [_export(engine, folder / "out", ndjson=ndjson) for _ in range(args.repeat)]
            best, summary = min(runs, key=lambda r: r[0])
            total = sum(summary.resources.values())
            print(
                f"{'ndjson ' if ndjson else 'bundles'}: {total:,} resources, {summary.files} "
                f"files in {best:.2f} s = {total / best:,.0f} resources/s"
            )
        share = _validation_share(engine, folder / "out")
        print(f"validation with fhir.resources: {share:.0%} of the export's time")
        tracemalloc.start()
        _export(engine, folder / "out", ndjson=True)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"peak traced memory, NDJSON export: {peak / 1e6:.1f} MB")
        engine.dispose()


if __name__ == "__main__":
    main()
