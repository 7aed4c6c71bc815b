"""`steve demo` and `steve overview`: the main job on the embedded default."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import time_machine
from sqlmodel import Session, func, select

from db.models import Patient, PracticeMeta
from tests.support import factories
from tests.support.cli import practice_engine, run, run_json

DAY = "2026-11-23"  # a Monday


def test_demo_builds_and_prints_the_overview() -> None:
    result = run("demo", "--patients", "60", "--date", DAY)
    assert result.exit_code == 0, result.stderr
    assert "Practice overview for Monday 23 November 2026" in result.stdout
    for heading in (
        "Appointments today",
        "Overdue referrals",
        "Overdue lab results",
        "Supplement reorders due",
        "Open tasks",
    ):
        assert heading in result.stdout
    assert "Demo practice created: 60 patients" in result.stderr
    engine = practice_engine()
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Patient)).one() == 60
        meta = json.loads(s.get(PracticeMeta, "demo").value)
    engine.dispose()
    assert meta == {"seed": 7, "patients": 60, "today": DAY}


def test_demo_json_overview_has_every_section() -> None:
    data = run_json("demo", "--patients", "60", "--date", DAY)
    assert data["day"] == DAY and data["timezone"] == "Europe/London"
    assert sum(r["appointments"] for r in data["schedule"]) > 0
    assert data["overdue_referrals"] and data["overdue_labs"] and data["reorders_due"]
    assert data["open_tasks"] >= data["overdue_tasks"] > 0
    # The overview agrees with the dedicated commands on the same day, whatever the calendar.
    assert [r["id"] for r in run_json("referrals", "overdue", "--date", DAY)] == [
        r["id"] for r in data["overdue_referrals"]
    ]
    assert len(run_json("tasks", "list", "--overdue", "--date", DAY)) == data["overdue_tasks"]
    again = run_json("overview", "--date", DAY)
    assert again == data


def test_every_command_reads_the_same_clock() -> None:
    """With no --date, each command reads today from one clock; moving it moves them all,
    and a day asked for by --date looks the same whenever it is asked."""
    day = date.fromisoformat(DAY)
    with time_machine.travel(datetime.combine(day, time(10), tzinfo=UTC), tick=False):
        made = run_json("demo", "--patients", "60", "--date", DAY)
        assert run_json("overview") == made
    later = day + timedelta(days=45)
    with time_machine.travel(datetime.combine(later, time(10), tzinfo=UTC), tick=False):
        implicit = run_json("overview")
        assert implicit["day"] == later.isoformat()
        assert implicit == run_json("overview", "--date", later.isoformat())
        overdue_ids = [r["id"] for r in run_json("referrals", "overdue")]
        assert overdue_ids == [r["id"] for r in implicit["overdue_referrals"]]
        assert len(run_json("tasks", "list", "--overdue")) == implicit["overdue_tasks"]
        # The demo's day, asked for 45 days later, is the day it was.
        assert run_json("overview", "--date", DAY) == made
    # 45 days on, more is late than on the demo's day: the moved clock was really read.
    assert len(implicit["overdue_referrals"]) > len(made["overdue_referrals"])
    assert implicit["overdue_tasks"] > made["overdue_tasks"]


def test_running_demo_again_reuses_it_and_reset_rebuilds() -> None:
    first = run("demo", "--patients", "30", "--date", DAY)
    assert first.exit_code == 0
    task = run_json("tasks", "add", "Call the lab", "--assignee", "priya")
    second = run("demo", "--patients", "30", "--date", DAY)
    assert second.exit_code == 0 and "already present" in second.stderr
    assert [t["id"] for t in run_json("tasks", "list", "-a", "priya") if t["id"] == task["id"]]
    rebuilt = run("demo", "--patients", "30", "--date", DAY, "--reset")
    assert rebuilt.exit_code == 0 and "Demo practice created" in rebuilt.stderr
    titles = [t["title"] for t in run_json("tasks", "list", "-a", "priya")]
    assert "Call the lab" not in titles


def test_demo_refuses_to_replace_a_real_practice() -> None:
    assert run("init").exit_code == 0
    engine = practice_engine()
    with Session(engine) as s:
        factories.patient(s, given="Real", family="Person")
        s.commit()
    result = run("demo", "--patients", "10", "--reset")
    assert result.exit_code == 2
    assert "holds a real practice" in result.stderr
    with Session(engine) as s:
        assert [p.family_name for p in s.exec(select(Patient)).all()] == ["Person"]
    engine.dispose()


def test_demo_bad_input() -> None:
    for args, needle in (
        (["--patients", "0"], "--patients 0 is out of range"),
        (["--patients", "many"], "Invalid value for '--patients'"),
        (["--date", "23/11/2026"], "invalid date '23/11/2026'"),
    ):
        result = run("demo", *args)
        assert result.exit_code != 0
        assert needle in result.stderr
    assert run("overview", "--date", "2026-02-30").exit_code == 1


def test_usage_errors_are_one_line() -> None:
    for args in (["frobnicate"], ["tasks", "add"], ["demo", "--patients", "many"]):
        result = run(*args)
        assert result.exit_code == 2
        assert result.stderr.startswith("error: ")
        assert result.stderr.count("\n") == 1, result.stderr
