"""Hardening of the practice database's life cycle (issue 11, items 7 and 16).

- A migration is atomic: a real `steve init` SIGKILLed between two DDL statements of one
  migration (fault point `migration_ddl_<n>`, db/engine.py) leaves the database at the last
  whole revision, and the next `steve init` completes it; on SQLite and PostgreSQL.
- A schema that does not match its revision is reported as such, with the way out, and
  `steve init --repair` (SQLite) rebuilds it when nothing would be lost.
- Read-only commands create nothing when the practice is not initialised.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from db.engine import head_revision, make_engine, migrate, schema_revision
from db.schema_check import inspect_schema
from tests.support import paths
from tests.support.cli import run
from tests.support.databases import IN_CI, create_database, drop_database

ROOT = paths.ROOT
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006")


def _ddl_boundaries() -> dict[str, int]:
    """Revision -> how many DDL statements a fresh migration has run once it is complete."""
    import tempfile

    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        eng = make_engine(f"sqlite:///{tmp}/count.db")
        seen = 0

        @event.listens_for(eng, "after_cursor_execute")
        def _count(_c: object, _cur: object, statement: str, *_a: object) -> None:
            nonlocal seen
            if statement.lstrip().split(None, 1)[0].upper() in ("CREATE", "DROP", "ALTER"):
                seen += 1

        for rev in REVISIONS:
            migrate(eng, rev)
            counts[rev] = seen
        eng.dispose()
    return counts


@pytest.fixture(scope="module")
def boundaries() -> dict[str, int]:
    return _ddl_boundaries()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(database URL, data directory) of a practice with no database yet, on each backend."""
    data_dir = tmp_path / "practice"
    if request.param == "sqlite":
        yield f"sqlite:///{data_dir / 'steve.db'}", data_dir
        return
    try:
        url = create_database("steve_mig")
    except sa.exc.OperationalError as exc:
        if IN_CI:
            raise
        pytest.skip(f"PostgreSQL not reachable ({type(exc).__name__})")
    yield url, data_dir
    drop_database(url)


def steve(data_dir: Path, db_url: str, *args: str, fault: str | None = None) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEVE_")}
    env.update(PYTHONPATH=str(ROOT), STEVE_DATA_DIR=str(data_dir), STEVE_DATABASE_URL=db_url)
    if fault:
        env["STEVE_FAULT_POINT"] = fault
    return subprocess.run(
        [sys.executable, "-m", "app.cli.main", *args],
        env=env,
        cwd=data_dir.parent,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.process
@pytest.mark.parametrize("killed_in", ["0001", "0002", "0006"])
def test_init_killed_inside_a_migration_leaves_the_last_whole_revision(
    empty_db: tuple[str, Path], boundaries: dict[str, int], killed_in: str
) -> None:
    db_url, data_dir = empty_db
    index = REVISIONS.index(killed_in)
    before = REVISIONS[index - 1] if index else None
    start = boundaries[before] if before else 0
    assert boundaries[killed_in] - start >= 3, "need a migration with several DDL statements"
    middle = start + (boundaries[killed_in] - start) // 2  # some of its DDL ran, not all

    killed = steve(data_dir, db_url, "init", "--no-admin", fault=f"migration_ddl_{middle}")
    assert killed.returncode == -9, killed.stderr  # SIGKILL, half-way through `killed_in`

    eng = make_engine(db_url)
    try:
        assert schema_revision(eng) == before
        report = inspect_schema(eng)
        assert report.ok, report.describe()  # nothing of the killed migration is left
        if before is None:
            assert not [t for t in sa.inspect(eng).get_table_names() if t != "alembic_version"]
    finally:
        eng.dispose()

    done = steve(data_dir, db_url, "init", "--no-admin")
    assert done.returncode == 0, done.stderr
    eng = make_engine(db_url)
    try:
        assert schema_revision(eng) == head_revision()
        assert inspect_schema(eng).ok
    finally:
        eng.dispose()


# ----------------------------------------------------- a schema that lies about itself


@pytest.fixture
def practice(tmp_path: Path) -> Path:
    """An initialised SQLite practice (the per-test data directory)."""
    result = run("init", "--no-admin")
    assert result.exit_code == 0, result.stderr
    return tmp_path / "steve-data" / "steve.db"


def _sqlite(path: Path, *statements: str) -> None:
    eng = sa.create_engine(f"sqlite:///{path}")
    with eng.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    eng.dispose()


def test_missing_table_at_its_revision_is_reported_with_the_way_out(practice: Path) -> None:
    _sqlite(practice, "DROP TABLE supplement_item")
    for args in (("overview",), ("tasks", "list"), ("init", "--no-admin")):
        result = run(*args)
        assert result.exit_code == 2, (args, result.stdout)
        message = " ".join(result.stderr.split())
        assert f"schema at revision {head_revision()}" in message
        assert "table supplement_item is missing" in message
        assert "steve init --repair" in message and "backup" in message
        assert "upgraded" not in result.stdout

    repaired = run("init", "--repair", "--no-admin")
    assert repaired.exit_code == 0, repaired.stderr
    assert "supplement_item" in repaired.stdout
    assert run("tasks", "list").exit_code == 0
    eng = make_engine(f"sqlite:///{practice}")
    assert inspect_schema(eng).ok
    eng.dispose()


def test_repair_keeps_data_and_drops_empty_tables_of_an_unfinished_upgrade(
    practice: Path,
) -> None:
    # What an older Steve left when killed inside 0006: stamped 0005, some 0006 tables made
    # (and nothing of the revisions after it).
    practice.unlink()
    eng = make_engine(f"sqlite:///{practice}")
    migrate(eng, "0006")
    eng.dispose()
    _sqlite(
        practice,
        "DROP TABLE web_session",
        "DROP TABLE chat_thread",
        "UPDATE alembic_version SET version_num = '0005'",
        "INSERT INTO practice_meta (key, value) VALUES ('kept', 'yes')",
    )
    refused = run("init", "--no-admin")
    assert refused.exit_code == 2
    message = " ".join(refused.stderr.split())
    assert "schema at revision 0005" in message
    assert "api_token, app_user are left by an unfinished upgrade" in message

    repaired = run("init", "--repair", "--no-admin")
    assert repaired.exit_code == 0, repaired.stderr
    assert f"upgraded (schema {head_revision()})" in repaired.stdout
    eng = make_engine(f"sqlite:///{practice}")
    with eng.connect() as conn:
        kept = conn.exec_driver_sql("SELECT value FROM practice_meta WHERE key='kept'").scalar()
    assert kept == "yes" and inspect_schema(eng).ok
    eng.dispose()


def test_repair_refuses_when_rows_would_be_lost(practice: Path) -> None:
    _sqlite(
        practice,  # a plain connection: foreign keys are not enforced, as in a hand edit
        "DROP TABLE web_session",
        "UPDATE alembic_version SET version_num = '0005'",
        "INSERT INTO chat_thread VALUES ('t1', 1, 'title', '2026-01-01', '2026-01-01')",
    )
    refused = run("init", "--repair", "--no-admin")
    assert refused.exit_code == 2
    message = " ".join(refused.stderr.split())
    assert "table chat_thread holds rows; restore from a backup" in message
    eng = make_engine(f"sqlite:///{practice}")
    assert schema_revision(eng) == "0005"  # nothing was changed
    assert sa.inspect(eng).has_table("app_user")
    eng.dispose()


# ------------------------------------------------ read-only commands create nothing

READ_ONLY = [
    ("jobs", "list"),
    ("jobs", "history"),
    ("jobs", "outbox"),
    ("overview",),
    ("patient", "find", "Smith"),
    ("patient", "show", "1"),
    ("tasks", "list"),
    ("referrals", "overdue"),
    ("literature", "digest", "--physician", "Smith"),
    ("literature", "topics"),
    ("referrals", "stats"),
    ("schedule", "slots", "1", "--date", "2026-11-23"),
    ("memory", "search", "ginger"),
]


@pytest.mark.parametrize("args", READ_ONLY, ids=lambda a: " ".join(a))
def test_read_only_commands_create_nothing_before_init(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    data_dir = tmp_path / "steve-data"
    assert not data_dir.exists()
    result = run(*args)
    assert result.exit_code != 0
    assert "not initialised" in result.stderr and "steve init" in result.stderr
    assert not data_dir.exists()  # no directory, no empty steve.db

    data_dir.mkdir()
    result = run(*args)
    assert result.exit_code != 0 and "not initialised" in result.stderr
    assert list(data_dir.iterdir()) == []
