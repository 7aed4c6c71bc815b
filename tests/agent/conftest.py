"""Fixtures of the agent tests: the demo practice the briefing and evidence graphs read."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from db.engine import make_engine
from tests.support.briefing import BRIEF_AT, DEMO_TODAY, TZ, Demo, fill
from tests.support.databases import empty_tables


@pytest.fixture(
    scope="module",
    name="demo",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def demo_practice(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    """Seed 7's demo practice, built once per backend per module; tests only read it."""
    if request.param == "sqlite":
        target = Path(tmp_path_factory.mktemp("briefing")) / "demo.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        engine = make_engine(f"sqlite:///{target}")
        fill(engine)
        yield Demo(engine, "sqlite", DEMO_TODAY, BRIEF_AT, TZ)
        engine.dispose()
        return
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    try:
        fill(engine)
        yield Demo(engine, "postgresql", DEMO_TODAY, BRIEF_AT, TZ)
    finally:
        empty_tables(engine)  # as the per-test fixtures leave it
        engine.dispose()
