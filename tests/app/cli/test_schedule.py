"""`steve schedule`: slots, visit blocks, booking, cancelling and rescheduling from the shell."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, func, select
from typer.testing import CliRunner, Result

from app.cli.main import cli
from app.settings import get_settings
from db.engine import make_engine, session_scope
from db.models import Appointment, AppointmentStatus, AuditEvent, Discipline
from tests.support import factories

runner = CliRunner()
TZ = ZoneInfo("Europe/London")  # the default practice zone
# A Monday at least a week ahead, so the CLI's own clock never finds it in the past.
_today = date.today()
DAY = _today + timedelta(days=14 - _today.weekday())
D = DAY.isoformat()


def run(*args: str) -> Result:
    return runner.invoke(cli, list(args))


def fails(result: Result, text: str) -> None:
    """A non-zero exit with one line on stderr naming the problem."""
    assert result.exit_code != 0, result.stdout
    message = result.stderr.strip()
    assert message.startswith("error:") and "\n" not in message, message
    assert text in message, message


def db() -> Any:
    return make_engine(get_settings().db_url)


def counts() -> tuple[int, int]:
    engine = db()
    with Session(engine) as s:
        appointments = s.exec(select(func.count()).select_from(Appointment)).one()
        audits = s.exec(select(func.count()).select_from(AuditEvent)).one()
    engine.dispose()
    return appointments, audits


def appointments() -> list[Appointment]:
    engine = db()
    with Session(engine) as s:
        rows = list(s.exec(select(Appointment).order_by(col(Appointment.id))).all())
    engine.dispose()
    return rows


@pytest.fixture
def practice() -> dict[str, int]:
    assert run("init").exit_code == 0
    engine = db()
    with session_scope(engine) as s:
        ids = {
            "doc": factories.practitioner(s, name="Dr Ivy Hale").id,
            "acu": factories.practitioner(s, name="Ben Acu", discipline=Discipline.ACUPUNCTURE).id,
            "coach": factories.practitioner(
                s, name="Cy Coach", discipline=Discipline.HEALTH_COACHING
            ).id,
            "zelda": factories.patient(s, given="Zelda", family="Quixote").id,
            "xavier": factories.patient(s, given="Xavier", family="Yardley").id,
        }
    engine.dispose()
    return {k: v or 0 for k, v in ids.items()}


def book(*extra: str, start: str = "10:00", practitioner: str = "ivy") -> Result:
    return run(
        "schedule",
        "book",
        "--patient",
        "zelda",
        "--practitioner",
        practitioner,
        "--start",
        f"{D} {start}",
        *extra,
    )


def test_slots_table_and_json(practice: dict[str, int]) -> None:
    result = run("schedule", "slots", "ivy", "--date", D)
    assert result.exit_code == 0, result.stderr
    assert "Dr Ivy Hale" in result.stdout and "09:00" in result.stdout and "16:15" in result.stdout
    assert book().exit_code == 0
    data = json.loads(run("schedule", "slots", "ivy", "--date", D, "--json").stdout)
    starts = [datetime.fromisoformat(s["start"]).strftime("%H:%M") for s in data["slots"]]
    assert starts[:3] == ["09:00", "09:15", "10:45"]  # 09:30-10:30 clash with the booking
    assert data["practitioner_id"] == practice["doc"] and data["timezone"] == "Europe/London"


def test_visit_block_options(practice: dict[str, int]) -> None:
    result = run(
        "schedule",
        "slots",
        "ivy",
        "--date",
        D,
        "--with",
        "ben",
        "--with",
        "cy",
        "--durations",
        "60,45,30",
        "--gap",
        "10",
        "--limit",
        "2",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["options"]) == 2
    first = [(datetime.fromisoformat(s["start"]), s["practitioner_id"]) for s in data["options"][0]]
    assert [t.strftime("%H:%M") for t, _ in first] == ["09:00", "10:15", "11:15"]
    assert [p for _, p in first] == [practice["doc"], practice["acu"], practice["coach"]]
    table = run("schedule", "slots", "ivy", "--date", D, "--with", "ben", "--limit", "1")
    assert table.exit_code == 0 and "09:00-09:45" in table.stdout and "Ben Acu" in table.stdout
    mismatch = run("schedule", "slots", "ivy", "--date", D, "--with", "ben", "--durations", "60")
    fails(mismatch, "2 practitioners but 1 durations")


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (("schedule", "slots", "ivy", "--date", "2030-02-30"), "invalid date '2030-02-30'"),
        (("schedule", "slots", "nobody", "--date", D), "no practitioner matches 'nobody'"),
        (("schedule", "slots", "ivy", "--date", D, "--duration", "500"), "between 5 and 480"),
        (("schedule", "slots", "ivy", "--date", D, "--with", "c"), "use an id"),  # ambiguous
    ],
)
def test_slots_bad_input(practice: dict[str, int], args: tuple[str, ...], text: str) -> None:
    fails(run(*args), text)


def test_book_writes_one_appointment(practice: dict[str, int]) -> None:
    result = book("--duration", "30", "--billing", "insurance", "--service", "follow-up")
    assert result.exit_code == 0, result.stderr
    assert "Booked appointment" in result.stdout and "10:00-10:30" in result.stdout
    [appt] = appointments()
    assert appt.starts_at == datetime.combine(DAY, time(10), TZ)
    assert appt.starts_at.tzinfo == UTC
    assert (appt.patient_id, appt.practitioner_id) == (practice["zelda"], practice["doc"])
    assert (appt.service_type, appt.billing_track) == ("follow-up", "insurance")
    data = json.loads(book("--json", start="11:00").stdout)
    assert data["start"].startswith(f"{D}T11:00") and data["status"] == "booked"


@pytest.mark.parametrize(
    ("extra", "start", "practitioner", "text"),
    [
        ((), "10:30", "ivy", "already has appointment 1"),  # double booking (and patient overlap)
        ((), "16:30", "ivy", "outside the working hours"),
        ((), "10:30", "ben", "patient 1 already has appointment 1"),  # elsewhere at that time
        ((), "25:00", "ivy", "invalid start time"),
        ((), "10:00", "42", "no practitioner with id 42"),
        (("--billing", "cash"), "12:00", "ivy", "unknown billing track 'cash'"),
        (("--duration", "3"), "12:00", "ivy", "between 5 and 480"),
    ],
)
def test_book_refusals_write_nothing(
    practice: dict[str, int], extra: tuple[str, ...], start: str, practitioner: str, text: str
) -> None:
    assert book().exit_code == 0
    before = counts()
    result = book(*extra, start=start, practitioner=practitioner)
    fails(result, text)
    assert "Zelda" not in result.stderr and "Quixote" not in result.stderr
    assert counts() == before


def test_book_in_the_past_and_unknown_patient(practice: dict[str, int]) -> None:
    past = run(
        "schedule",
        "book",
        "--patient",
        "zelda",
        "--practitioner",
        "ivy",
        "--start",
        "2020-03-02 10:00",
    )
    fails(past, "is in the past")
    nobody = run(
        "schedule", "book", "--patient", "9999", "--practitioner", "ivy", "--start", f"{D} 10:00"
    )
    fails(nobody, "no patient with id 9999")
    assert counts()[0] == 0


def test_reschedule_and_cancel(practice: dict[str, int]) -> None:
    assert book().exit_code == 0
    assert (
        run(
            "schedule",
            "book",
            "--patient",
            "xavier",
            "--practitioner",
            "ivy",
            "--start",
            f"{D} 14:00",
        ).exit_code
        == 0
    )
    moved = run("schedule", "reschedule", "1", "--start", f"{D} 11:00")
    assert moved.exit_code == 0, moved.stderr
    assert "11:00-11:45" in moved.stdout
    fails(run("schedule", "reschedule", "1", "--start", f"{D} 13:30"), "already has appointment 2")
    fails(run("schedule", "reschedule", "77", "--start", f"{D} 09:00"), "no appointment with id 77")
    assert appointments()[0].starts_at.astimezone(TZ).strftime("%H:%M") == "11:00"
    cancelled = run("schedule", "cancel", "1", "--reason", "flu", "--json")
    assert cancelled.exit_code == 0
    assert json.loads(cancelled.stdout)["status"] == "cancelled"
    assert appointments()[0].status == AppointmentStatus.CANCELLED
    before = counts()
    fails(run("schedule", "cancel", "1"), "appointment 1 is cancelled")
    fails(run("schedule", "cancel", "one"), "is not a number")
    fails(run("schedule", "cancel", "2", "--block"), "not part of a visit block")
    assert counts() == before


def test_cancel_block_offers_rebooking(practice: dict[str, int]) -> None:
    from tools import scheduling

    engine = db()
    with session_scope(engine) as s:
        parts = [
            scheduling.BlockPart(practice["doc"], 60),
            scheduling.BlockPart(practice["acu"], 45),
        ]
        option = scheduling.block_slots(session=s, parts=parts, day=DAY, tz=TZ, limit=1)[0]
        scheduling.book_block(
            session=s, patient_id=practice["zelda"], option=option, parts=parts, tz=TZ
        )
    engine.dispose()
    result = run("schedule", "cancel", "2", "--block", "--reason", "away", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert sorted(a["id"] for a in data["cancelled"]) == [1, 2]
    assert all(
        a["status"] == "cancelled" and a["cancel_reason"] == "away" for a in data["cancelled"]
    )
    first = data["rebook_options"][0]
    assert datetime.fromisoformat(first[0]["start"]).date() == DAY + timedelta(days=1)
    assert [p["practitioner_id"] for p in first] == [practice["doc"], practice["acu"]]
    assert {a.status for a in appointments()} == {AppointmentStatus.CANCELLED}
    fails(run("schedule", "cancel", "1", "--block"), "has no booked parts")


def test_uninitialised_database_is_a_clear_error() -> None:
    fails(run("schedule", "slots", "1", "--date", D), "run `steve init` first")
