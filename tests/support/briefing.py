"""The demo practice the briefing tests share: seed 7, 300 patients, 'today' 2025-03-03.

Built once per backend per test module (a module-scoped fixture: generating it for every
test would cost seconds each), with the demo's saved literature ingested at a fixed time so
the evidence in briefings is the same on every run. On PostgreSQL the tables are emptied
afterwards, as the per-test fixtures do.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel

from agent.briefing.state import BriefingContext
from db.engine import make_engine
from demo import generate_demo
from demo.literature import ingest_demo_literature
from tools.clock import at_local

DEMO_SEED = 7
DEMO_PATIENTS = 300
DEMO_TODAY = date(2025, 3, 3)  # a Monday
TZ = ZoneInfo("Europe/London")
BRIEF_AT = at_local(DEMO_TODAY, time(7, 0), TZ)  # before clinic


@dataclass
class Demo:
    engine: Engine
    backend: str
    today: date
    now: datetime
    tz: ZoneInfo

    def context(self, session: Session, **kwargs: Any) -> BriefingContext:
        return BriefingContext(session=session, tz=self.tz, **kwargs)


def _fill(engine: Engine) -> None:
    generate_demo(engine=engine, patients=DEMO_PATIENTS, seed=DEMO_SEED, today=DEMO_TODAY, tz=TZ)
    with Session(engine) as session:
        ingest_demo_literature(session=session, now=at_local(DEMO_TODAY, time(6, 0), TZ))
        session.commit()


@pytest.fixture(
    scope="module",
    name="demo",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def demo_practice(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    if request.param == "sqlite":
        target = Path(tmp_path_factory.mktemp("briefing")) / "demo.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        engine = make_engine(f"sqlite:///{target}")
        _fill(engine)
        yield Demo(engine, "sqlite", DEMO_TODAY, BRIEF_AT, TZ)
        engine.dispose()
        return
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    try:
        _fill(engine)
        yield Demo(engine, "postgresql", DEMO_TODAY, BRIEF_AT, TZ)
    finally:
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
