"""The `steve` CLI: init, patients, referrals, tasks; bad input gives one line and exit != 0."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, func, select

from db.models import (
    Affiliation,
    AuditEvent,
    Discipline,
    Referral,
    ReferralCreate,
    ReferralDirection,
    Task,
)
from tests.support import factories
from tests.support.cli import practice_engine, run, run_json
from tools.referrals import create_referral


@pytest.fixture
def practice(db_url: str, monkeypatch: pytest.MonkeyPatch):
    """An initialised practice (SQLite and PostgreSQL in turn) with a few people."""
    monkeypatch.setenv("STEVE_DATABASE_URL", db_url)
    result = run("init")
    assert result.exit_code == 0, result.stderr
    assert "up to date" in result.stdout
    engine = practice_engine()
    with Session(engine, expire_on_commit=False) as s:
        doc = factories.practitioner(s, name="Dr Helena Brandt")
        admin = factories.practitioner(s, name="Maya Admin", discipline=Discipline.ADMIN)
        ext = factories.practitioner(
            s,
            name="Dr Colon",
            discipline=Discipline.GASTROENTEROLOGY,
            affiliation=Affiliation.EXTERNAL,
        )
        zoe = factories.patient(
            s, given="Zoë", family="Ó Briain", born=date(1979, 2, 3), physician=doc
        )
        sam1 = factories.patient(s, given="Sam", family="Lee", born=date(1990, 1, 1))
        sam2 = factories.patient(s, given="Sam", family="Leeds", born=date(1991, 1, 1))
        ref = create_referral(
            session=s,
            data=ReferralCreate(
                direction=ReferralDirection.OUTBOUND,
                patient_id=zoe.id,
                from_practitioner_id=doc.id,
                to_practitioner_id=ext.id,
                reason="IBS work-up",
            ),
        )
        s.commit()
    yield {
        "engine": engine,
        "doc": doc,
        "admin": admin,
        "zoe": zoe,
        "sam1": sam1,
        "sam2": sam2,
        "ref": ref,
    }
    engine.dispose()


def test_init_creates_then_is_idempotent() -> None:
    first = run("init")
    assert first.exit_code == 0 and "created" in first.stdout
    again = run("init")
    assert again.exit_code == 0 and "up to date" in again.stdout


def test_patient_find_and_show(practice) -> None:
    found = run_json("patient", "find", "zoe o briain")
    assert [p["id"] for p in found] == [practice["zoe"].id]
    shown = run_json("patient", "show", str(practice["zoe"].id))
    assert shown["patient"]["family_name"] == "Ó Briain"
    assert [r["id"] for r in shown["open_referrals"]] == [practice["ref"].id]
    table = run("patient", "show", "zoe")
    assert table.exit_code == 0 and "Dr Helena Brandt" in table.stdout
    with Session(practice["engine"]) as s:
        assert (
            s.exec(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.entity == "programme_view", AuditEvent.actor == "cli")
            ).one()
            == 2
        )


def test_patient_ambiguous_and_unknown(practice) -> None:
    result = run("patient", "show", "sam")
    assert result.exit_code == 1
    assert "2 patients match 'sam'" in result.stderr
    assert f"{practice['sam1'].id}: Sam Lee" in result.stderr
    assert result.stderr.count("\n") == 1
    assert run("patient", "show", "9999").stderr.strip() == "error: no patient with id 9999"
    bad_dob = run("patient", "find", "--dob", "1990-13-01")
    assert bad_dob.exit_code == 1 and "invalid date of birth '1990-13-01'" in bad_dob.stderr


def test_referrals_advance_and_invalid_transition(practice) -> None:
    rid = str(practice["ref"].id)
    assert run_json("referrals", "advance", rid, "sent")["status"] == "sent"
    bad = run("referrals", "advance", rid, "closed", "--rating", "7")
    assert bad.exit_code == 1 and "between 1 and 5" in bad.stderr
    wrong = run("referrals", "advance", rid, "seen")
    assert wrong.exit_code == 1
    assert "is sent; it cannot become seen (next: accepted, declined, closed)" in wrong.stderr
    unknown = run("referrals", "advance", rid, "teleported")
    assert unknown.exit_code == 1 and "unknown referral state" in unknown.stderr
    with Session(practice["engine"]) as s:
        assert s.get(Referral, practice["ref"].id).status == "sent"
    assert run_json("referrals", "overdue") == []
    stats = run_json("referrals", "stats")
    assert "gastroenterology" not in stats["gaps"] and "neurology" in stats["gaps"]


def test_tasks_add_list_done(practice) -> None:
    task = run_json(
        "tasks",
        "add",
        "Chase GI report",
        "--assignee",
        "maya",
        "--by",
        "brandt",
        "--patient",
        "zoe",
        "--due",
        "2020-01-01",
    )
    assert task["assignee_id"] == practice["admin"].id and task["overdue"] is True
    assert [t["id"] for t in run_json("tasks", "list", "--overdue")] == [task["id"]]
    assert [t["id"] for t in run_json("tasks", "list", "-a", "maya")] == [task["id"]]
    assert run_json("tasks", "done", str(task["id"]))["status"] == "done"
    assert run_json("tasks", "list") == []
    again = run("tasks", "done", str(task["id"]))
    assert again.exit_code == 1 and "already done" in again.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["tasks", "add", "x", "--assignee", "nobody"], "no practitioner matches 'nobody'"),
        (["tasks", "add", "x", "--assignee", "dr"], "practitioners match 'dr'"),
        (["tasks", "add", "x", "--assignee", "maya", "--due", "31/12/2026"], "invalid due date"),
        (["tasks", "add", "x", "--assignee", "maya", "--patient", "sam"], "2 patients match"),
        (["tasks", "add", "", "--assignee", "maya"], "title"),
    ],
)
def test_task_bad_input_writes_nothing(practice, args: list[str], needle: str) -> None:
    result = run(*args)
    assert result.exit_code != 0
    assert needle in result.stderr
    with Session(practice["engine"]) as s:
        assert s.exec(select(func.count()).select_from(Task)).one() == 0


def test_commands_before_init_say_so() -> None:
    result = run("tasks", "list")
    assert result.exit_code == 2
    assert "run `steve init` first" in result.stderr


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"STEVE_DATABASE_URL": "this is not a url"}, "database URL is malformed"),
        ({"STEVE_TIMEZONE": "Europe/Atlantis"}, "unknown time zone 'Europe/Atlantis'"),
    ],
)
def test_bad_settings_exit_non_zero_with_one_line(env: dict[str, str], needle: str) -> None:
    result = run("init", env=env)
    assert result.exit_code == 2
    assert needle in result.stderr
    assert result.stderr.count("\n") == 1


def test_unreachable_database_is_a_clear_error() -> None:
    result = run("init", env={"STEVE_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.exit_code == 3
    assert "database 'none' on 127.0.0.1 is unreachable" in result.stderr
