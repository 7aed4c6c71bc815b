"""The enriched demo practice the export tests read, built once per backend per module."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from db.engine import make_engine
from tests.support.databases import empty_tables
from tests.support.fhir_export import build


@dataclass
class Practice:
    engine: Engine
    backend: str
    documents: Path


@pytest.fixture(
    scope="module",
    name="practice",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def enriched_practice(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Practice]:
    """Seed 7's demo (40 patients) plus the rows it lacks; tests roll their writes back."""
    folder = Path(tmp_path_factory.mktemp("export"))
    documents = folder / "documents"
    if request.param == "sqlite":
        target = folder / "demo.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        engine = make_engine(f"sqlite:///{target}")
        build(engine, documents)
        yield Practice(engine, "sqlite", documents)
        engine.dispose()
        return
    engine = make_engine(request.getfixturevalue("postgres_url"))
    try:
        build(engine, documents)
        yield Practice(engine, "postgresql", documents)
    finally:
        empty_tables(engine)
        engine.dispose()
