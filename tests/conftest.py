"""Shared fixtures: a migrated practice database on SQLite and on the machine's PostgreSQL.

Every test that asks for `engine` (or `session`) runs twice, once per backend. PostgreSQL
tests skip with a reason when no server answers, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from db.engine import make_engine, migrate
from tests.support import clock_shift
from tests.support.databases import (
    IN_CI,
    create_database,
    drop_database,
    empty_tables,
    postgres_available,
)


def pytest_configure(config: pytest.Config) -> None:
    clock_shift.configure()


def pytest_report_header(config: pytest.Config) -> str | None:
    return clock_shift.report_header()


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets its own data directory and no inherited Steve settings."""
    for key in list(os.environ):
        if key.startswith("STEVE_") and key != "STEVE_TEST_POSTGRES_URL":
            monkeypatch.delenv(key)
    data_dir = tmp_path / "steve-data"
    monkeypatch.setenv("STEVE_DATA_DIR", str(data_dir))
    monkeypatch.chdir(tmp_path)  # so no developer's .env is read
    from app.settings import get_settings

    get_settings.cache_clear()
    yield data_dir
    get_settings.cache_clear()


# ------------------------------------------------------------------------ SQLite


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database migrated once; each test copies it (much faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


# -------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated database on the machine's server for this test session."""
    reason = postgres_available()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    url = create_database("steve_test")
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    drop_database(url)


# ----------------------------------------------------------------------- engine


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated practice database on each backend."""
    if request.param == "sqlite":
        target = tmp_path / "steve.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    engine = make_engine(url)
    empty_tables(engine)
    engine.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s
