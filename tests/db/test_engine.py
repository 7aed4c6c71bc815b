"""The database layer: URL checks, UTC round trips, migrations that match the models."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import Session, SQLModel, select

from db.engine import head_revision, make_engine, migrate, normalise_database_url, schema_revision
from db.models import Appointment
from tests.support import factories
from tools.errors import ConfigError


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("not a url", "malformed"),
        ("mysql://root@localhost/db", "not supported"),
        ("sqlite://", "names no file"),
        ("postgresql://postgres@127.0.0.1:5432", "names no database"),
    ],
)
def test_bad_database_urls_get_one_clear_line(url: str, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        normalise_database_url(url)
    message = str(info.value)
    assert needle in message
    assert "\n" not in message


def test_password_never_appears_in_url_errors() -> None:
    with pytest.raises(ConfigError) as info:
        normalise_database_url("oracle://admin:s3cret-pw@db/x")
    assert "s3cret-pw" not in str(info.value)


def test_postgres_urls_use_psycopg3() -> None:
    assert normalise_database_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    assert normalise_database_url("postgres://u@h/db").startswith("postgresql+psycopg://")


def test_migrations_create_exactly_the_models(engine) -> None:
    assert schema_revision(engine) == head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_migrate_is_idempotent(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    migrate(engine)
    migrate(engine)
    assert schema_revision(engine) == head_revision()


def test_datetimes_round_trip_as_aware_utc(session: Session) -> None:
    doc = factories.practitioner(session)
    pat = factories.patient(session)
    local = datetime(2026, 7, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    session.add(
        Appointment(
            practitioner_id=doc.id,
            patient_id=pat.id,
            service_type="x",
            starts_at=local,
            ends_at=local + timedelta(minutes=30),
        )
    )
    session.commit()
    session.expunge_all()
    appt = session.exec(select(Appointment)).one()
    assert appt.starts_at == datetime(2026, 7, 1, 7, 30, tzinfo=UTC)
    assert appt.starts_at.tzinfo is UTC
    assert pat.date_of_birth == date(1980, 5, 17)


def test_database_refuses_impossible_rows(session: Session) -> None:
    """Constraints hold even for code that skips the operations' checks."""
    from sqlalchemy.exc import IntegrityError

    from db.models import Referral, WorkingHours

    doc = factories.practitioner(session)
    pat = factories.patient(session)
    session.commit()
    start = datetime(2026, 7, 1, 9, tzinfo=UTC)
    bad_rows = [
        Appointment(
            practitioner_id=doc.id,
            patient_id=pat.id,
            service_type="x",
            starts_at=start,
            ends_at=start - timedelta(minutes=5),
        ),
        WorkingHours(practitioner_id=doc.id, weekday=7, start=time(9), end=time(17)),
        WorkingHours(practitioner_id=doc.id, weekday=1, start=time(17), end=time(9)),
        Referral(
            direction="outbound",
            patient_id=pat.id,
            from_practitioner_id=doc.id,
            to_practitioner_id=doc.id,
            reason="x",
            outcome_rating=9,
        ),
    ]
    for row in bad_rows:
        session.add(row)
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()


def test_reset_schema_round_trips_the_migrations(tmp_path) -> None:
    from db.engine import has_table, reset_schema

    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    migrate(engine)
    with Session(engine) as s:
        factories.practitioner(s)
        s.commit()
    reset_schema(engine)
    assert has_table(engine, "practitioner") and schema_revision(engine) == head_revision()
    with Session(engine) as s:
        assert s.exec(select(Appointment)).all() == []


def test_in_batches_keeps_every_value_in_order_under_the_limit() -> None:
    from db.engine import IN_LIMIT, in_batches

    values = list(range(2 * IN_LIMIT + 1))
    batches = list(in_batches(values))
    assert [len(b) for b in batches] == [IN_LIMIT, IN_LIMIT, 1]
    assert [v for b in batches for v in b] == values
    assert list(in_batches([])) == []


def test_revisions_read_without_alembic_agree_with_alembic(engine, tmp_path) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from db.engine import MIGRATIONS_DIR

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert head_revision() == ScriptDirectory.from_config(cfg).get_current_head()
    with engine.connect() as conn:
        assert schema_revision(engine) == MigrationContext.configure(conn).get_current_revision()
    assert schema_revision(make_engine(f"sqlite:///{tmp_path / 'empty.db'}")) is None


def test_a_branched_or_merged_history_is_left_to_alembic(tmp_path) -> None:
    from db.engine import _linear_head

    def write(name: str, revision: str, down: str) -> None:
        (tmp_path / name).write_text(f"revision: str = '{revision}'\ndown_revision = {down}\n")

    write("a.py", "a", "None")
    write("b.py", "b", "'a'")
    assert _linear_head(tmp_path) == "b"
    write("c.py", "c", "'a'")  # a second head
    assert _linear_head(tmp_path) is None
    write("d.py", "d", "('b', 'c')")  # a merge, written as a tuple
    assert _linear_head(tmp_path) is None


def test_upgrading_keeps_every_row_when_a_migration_rebuilds_a_table(tmp_path) -> None:
    """0008 rebuilds `patient` on SQLite (a batch migration); with foreign keys enforced,
    dropping the old table cascaded to every appointment. Migrations run with them off and
    the keys are checked instead (db.engine.migration_connection)."""
    from sqlalchemy import text

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    migrate(engine, "0007")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO practitioner (id, name, discipline, affiliation, status, created_at)"
                " VALUES (1, 'Dr A', 'physician', 'in_house', 'active', '2026-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO patient (id, given_name, family_name, date_of_birth, sex, status,"
                " name_key, created_at) VALUES (1, 'A', 'B', '1980-01-01', 'female', 'active',"
                " 'a b', '2026-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO appointment (id, practitioner_id, patient_id, service_type,"
                " starts_at, ends_at, status, billing_track, created_at, updated_at) VALUES"
                " (1, 1, 1, 'x', '2026-01-01 09:00:00', '2026-01-01 09:30:00', 'booked',"
                " 'direct_pay', '2026-01-01', '2026-01-01')"
            )
        )
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM appointment")).scalar() == 1
        assert conn.execute(text("SELECT deceased FROM patient")).scalar() in (0, False)
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
