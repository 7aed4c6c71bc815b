"""What the benchmarks stand on: a demo practice in an empty database, and the machine line.

Imported by the benchmark scripts beside it (they run as scripts, so this folder is on
sys.path).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Engine

from db.engine import make_engine, migrate
from demo import DemoSummary, generate_demo


@dataclass(frozen=True)
class Practice:
    """A demo practice built for a benchmark, and where it lives."""

    engine: Engine
    summary: DemoSummary
    seconds: float  # to generate it (after migrating)
    url: str
    directory: str  # a temporary directory, removed afterwards


@contextmanager
def demo_practice(
    args: argparse.Namespace,
    *,
    today: date,
    tz: ZoneInfo,
    prefix: str = "steve-bench-",
    progress: Callable[[str, int, int], None] | None = None,
) -> Iterator[Practice]:
    """The demo practice (`args.patients`, `args.seed`) in `args.database_url`, which must be
    empty, or by default in a SQLite file in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        migrate(engine)
        started = time.perf_counter()
        summary = generate_demo(
            engine=engine,
            patients=args.patients,
            seed=args.seed,
            today=today,
            tz=tz,
            progress=progress,
        )
        yield Practice(engine, summary, time.perf_counter() - started, url, tmp)


def machine(engine: Engine) -> str:
    """CPUs, Python, SQLAlchemy, the database server and the platform, on one line."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            version = "SQLite " + conn.exec_driver_sql("select sqlite_version()").scalar_one()
        else:
            version = str(conn.exec_driver_sql("show server_version").scalar_one())
            version = f"PostgreSQL {version}"
    return (
        f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
        f"Python {platform.python_version()}, SQLAlchemy {sa.__version__}, {version}, "
        f"{platform.system()} {platform.machine()}"
    )
