"""Scheduling search: free slots, visit-block options, DST days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import event
from sqlmodel import Session

from tests.support import factories
from tests.support.scheduling import (
    MONDAY,
    NOW,
    TZ,
    at,
    book_at,
    local,
    refuses,
    slots_of,
    starts,
)
from tools.errors import Conflict, InvalidInput
from tools.scheduling import (
    Slot,
    block_slots,
    cancel,
)

# ------------------------------------------------------------------- free slots


def test_free_slots_cover_working_hours_on_the_step_grid(session: Session, clinic: dict) -> None:
    slots = slots_of(session, clinic["doc"].id)
    assert [local(s.start) for s in slots[:3]] == ["09:00", "09:15", "09:30"]
    assert local(slots[-1].start) == "16:15" and local(slots[-1].end) == "17:00"
    assert len(slots) == 30
    assert all(s.end - s.start == timedelta(minutes=45) for s in slots)
    assert all(s.start.utcoffset() == timedelta(0) for s in slots)
    assert slots_of(session, clinic["doc"].id, day=MONDAY + timedelta(5)) == []  # Saturday


def test_booked_time_is_not_offered_and_cancelling_frees_it(session: Session, clinic) -> None:
    doc, pt = clinic["doc"], clinic["patient"]
    appt = book_at(session, doc, pt.id, at(MONDAY, 10))
    session.commit()
    offered = set(starts(session, doc.id))
    assert "09:15" in offered and "10:45" in offered  # touching the booking is fine
    assert not {"09:30", "09:45", "10:00", "10:15", "10:30"} & offered
    cancel(session=session, appointment_id=appt.id, reason="patient unwell")
    session.commit()
    assert {"09:30", "10:00", "10:30"} <= set(starts(session, doc.id))


def test_no_slots_before_now(session: Session, clinic) -> None:
    assert starts(session, clinic["doc"].id, now=at(MONDAY, 12, 7))[0] == "12:15"


def test_split_and_touching_windows(session: Session) -> None:
    split = factories.practitioner(session, hours={0: [(time(9), time(12)), (time(13), time(17))]})
    joined = factories.practitioner(session, hours={0: [(time(12), time(17)), (time(9), time(12))]})
    pt = factories.patient(session)
    session.commit()
    split_starts = starts(session, split.id)
    assert "11:15" in split_starts and "11:30" not in split_starts and "13:00" in split_starts
    assert "11:30" in starts(session, joined.id)  # touching windows are one stretch of work
    message = refuses(
        session,
        lambda: book_at(session, split, pt.id, at(MONDAY, 11, 30)),
        Conflict,
        "09:00-12:00, 13:00-17:00",
    )
    assert "outside the working hours" in message


def test_block_search_for_three_practitioners(session: Session, engine, team) -> None:
    # The acupuncturist is busy 10:00-11:30, so the earliest block starts at 10:15.
    book_at(session, team["acu"], factories.patient(session).id, at(MONDAY, 10), 90)
    session.commit()
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        options = block_slots(session=session, parts=team["parts"], day=MONDAY, tz=TZ, now=NOW)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) <= 5  # diaries load once, not per candidate start
    first = options[0]
    assert [(local(s.start), local(s.end)) for s in first.slots] == [
        ("10:15", "11:15"),
        ("11:30", "12:15"),
        ("12:30", "13:00"),
    ]
    assert len(options) > 10
    for option in options:
        assert [s.practitioner_id for s in option.slots] == [
            p.practitioner_id for p in team["parts"]
        ]
        for a, b in pairwise(option.slots):
            assert timedelta(minutes=10) <= b.start - a.end < timedelta(minutes=25)
    limited = block_slots(session=session, parts=team["parts"], day=MONDAY, tz=TZ, now=NOW, limit=2)
    assert limited == options[:2]
    with pytest.raises(InvalidInput, match="at least one part"):
        block_slots(session=session, parts=[], day=MONDAY, tz=TZ)


# ------------------------------------------------------------------------- DST


def test_days_with_a_clock_change(session: Session) -> None:
    weekend = {5: [(time(9), time(17))], 6: [(time(0), time(4)), (time(9), time(17))]}
    doc = factories.practitioner(session, hours=weekend)
    pt = factories.patient(session)
    session.commit()

    def slots(day: date) -> list[Slot]:
        return slots_of(session, doc.id, day=day, minutes=60, step_minutes=60)

    spring, saturday, autumn = date(2030, 3, 31), date(2030, 3, 30), date(2030, 10, 27)
    # 09:00 local is 09:00 UTC on Saturday (GMT) but 08:00 UTC on Sunday (BST).
    assert slots(saturday)[0].start == datetime(2030, 3, 30, 9, tzinfo=UTC)
    assert slots(spring)[3].start == datetime(2030, 3, 31, 8, tzinfo=UTC)
    # 00:00-04:00 lasts three real hours in spring and five in autumn.
    assert [local(s.start) for s in slots(spring)[:3]] == ["00:00", "02:00", "03:00"]
    assert [s.start.hour for s in slots(autumn)[:5]] == [23, 0, 1, 2, 3]
    assert [local(s.start) for s in slots(autumn)[:5]] == [
        "00:00",
        "01:00",
        "01:00",
        "02:00",
        "03:00",
    ]
    appt = book_at(session, doc, pt.id, at(spring, 9), 60)
    assert appt.starts_at == datetime(2030, 3, 31, 8, tzinfo=UTC)
    assert "09:00" not in {local(s.start) for s in slots(spring)}
    session.commit()
    refuses(
        session,
        lambda: book_at(session, doc, pt.id, at(spring, 3, 30), 60),
        Conflict,
        "(00:00-04:00, 09:00-17:00, Europe/London)",
    )
