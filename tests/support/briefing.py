"""The demo practice the briefing tests share: seed 7, 300 patients, 'today' 2025-03-03.

Built once per backend per test module (the module-scoped `demo` fixture in
tests/agent/conftest.py: generating it for every test would cost seconds each), with the demo's
saved literature ingested at a fixed time so the evidence in briefings is the same on every run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from agent.briefing.state import BriefingContext
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


def fill(engine: Engine) -> None:
    generate_demo(engine=engine, patients=DEMO_PATIENTS, seed=DEMO_SEED, today=DEMO_TODAY, tz=TZ)
    with Session(engine) as session:
        ingest_demo_literature(session=session, now=at_local(DEMO_TODAY, time(6, 0), TZ))
        session.commit()
