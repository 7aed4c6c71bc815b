"""Property tests: random booking sequences match a simple model; block options are sound.

Each example runs inside the test's transaction and is rolled back afterwards, so the examples
share one migrated database (per backend) and stay fast.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations, pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from db.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentStatus,
    PractitionerStatus,
)
from tests.support import factories
from tools.clock import at_local
from tools.errors import Conflict, InvalidInput, InvalidTransition
from tools.scheduling import BlockPart, block_slots, book, book_block, cancel

TZ = ZoneInfo("Europe/London")
MONDAY, SPRING_SUNDAY, AUTUMN_SUNDAY = date(2030, 3, 4), date(2030, 3, 31), date(2030, 10, 27)
DAYS = [MONDAY, SPRING_SUNDAY, AUTUMN_SUNDAY]
EARLY = datetime(2030, 1, 1, tzinfo=UTC)
FIVE_MIN_STEPS = 19 * 12  # starts from local midnight to 19:00, every five minutes

HOURS: list[dict[int, list[tuple[time, time]]]] = [
    {**{d: [(time(9), time(17))] for d in range(5)}, 6: [(time(0), time(4)), (time(9), time(13))]},
    {0: [(time(9), time(12)), (time(13), time(17))], 6: [(time(10), time(16))]},
    {d: [(time(9), time(17))] for d in range(7)},  # on leave: never bookable
]

PROPERTY_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def practice(session: Session) -> dict[str, Any]:
    people = [factories.practitioner(session, hours=h) for h in HOURS]
    people[2].status = PractitionerStatus.ON_LEAVE
    session.add(people[2])
    patients = [factories.patient(session) for _ in range(4)]
    session.commit()
    return {"practitioners": [p.id for p in people], "patients": [p.id for p in patients]}


def windows(index: int, day: date) -> list[tuple[datetime, datetime]]:
    return [
        (at_local(day, a, TZ), at_local(day, b, TZ)) for a, b in HOURS[index].get(day.weekday(), [])
    ]


def start_on(day: date, step: int) -> datetime:
    return at_local(day, time(0), TZ) + timedelta(minutes=5 * step)


def overlaps(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def active(session: Session) -> list[Appointment]:
    stmt = select(Appointment).where(col(Appointment.status).in_(ACTIVE_APPOINTMENT_STATUSES))
    return list(session.exec(stmt).all())


def assert_no_double_booking(rows: list[Appointment]) -> None:
    for a, b in combinations(rows, 2):
        if a.practitioner_id == b.practitioner_id or a.patient_id == b.patient_id:
            assert not overlaps((a.starts_at, a.ends_at), (b.starts_at, b.ends_at)), (a.id, b.id)


BOOK = st.tuples(
    st.just("book"),
    st.integers(0, 2),  # practitioner
    st.integers(0, 1),  # patient: few, so their overlaps are tried often
    st.one_of(st.integers(0, FIVE_MIN_STEPS), st.integers(9 * 12, 12 * 12)),  # busy mornings
    st.one_of(st.sampled_from([15, 30, 45, 60, 90]), st.integers(-5, 500)),
)
CANCEL = st.tuples(st.just("cancel"), st.integers(0, 30))


@PROPERTY_SETTINGS
@given(day=st.sampled_from(DAYS), attempts=st.lists(st.one_of(BOOK, BOOK, CANCEL), max_size=25))
def test_random_bookings_match_the_model(
    session: Session, practice: dict[str, Any], day: date, attempts: list[tuple]
) -> None:
    pids, patients = practice["practitioners"], practice["patients"]
    model: list[dict[str, Any]] = []  # what a correct diary would hold, in booking order
    try:
        for attempt in attempts:
            if attempt[0] == "cancel":
                if not model:
                    continue
                entry = model[attempt[1] % len(model)]
                if entry["cancelled"]:
                    with pytest.raises(InvalidTransition):
                        cancel(session=session, appointment_id=entry["id"])
                else:
                    cancel(session=session, appointment_id=entry["id"])
                    entry["cancelled"] = True
                continue
            _, p, pt, step, minutes = attempt
            span = (start_on(day, step), start_on(day, step) + timedelta(minutes=minutes))
            live = [e for e in model if not e["cancelled"]]
            inside = any(ws <= span[0] and span[1] <= we for ws, we in windows(p, day))
            taken = any((e["p"] == p or e["pt"] == pt) and overlaps(e["span"], span) for e in live)
            expected: type[Exception] | None = None
            if not 5 <= minutes <= 480:
                expected = InvalidInput
            elif p == 2 or not inside or taken:  # on leave, outside hours or double-booked
                expected = Conflict
            try:
                appt = book(
                    session=session,
                    practitioner_id=pids[p],
                    patient_id=patients[pt],
                    service_type="consultation",
                    starts_at=span[0],
                    duration_minutes=minutes,
                    tz=TZ,
                )
            except (Conflict, InvalidInput) as exc:
                assert type(exc) is expected, (attempt, str(exc))
            else:
                assert expected is None, (attempt, "was accepted")
                model.append({"id": appt.id, "p": p, "pt": pt, "span": span, "cancelled": False})
        rows = active(session)
        assert sorted(a.id for a in rows) == sorted(e["id"] for e in model if not e["cancelled"])
        assert_no_double_booking(rows)
    finally:
        session.rollback()


EXISTING = st.lists(
    st.tuples(
        st.integers(0, 1),
        st.integers(0, FIVE_MIN_STEPS),
        st.integers(5, 120),
        st.sampled_from(list(AppointmentStatus)),
    ),
    max_size=8,
)
PARTS = st.lists(
    st.tuples(st.integers(0, 1), st.integers(1, 24).map(lambda n: 5 * n)), min_size=1, max_size=3
)


@PROPERTY_SETTINGS
@given(
    day=st.sampled_from(DAYS),
    existing=EXISTING,
    parts=PARTS,
    gap=st.integers(0, 30),
    step=st.sampled_from([5, 10, 15, 30, 60]),
    now_step=st.one_of(st.none(), st.integers(0, FIVE_MIN_STEPS)),
)
def test_block_options_are_ordered_inside_hours_free_and_bookable(
    session: Session,
    practice: dict[str, Any],
    day: date,
    existing: list[tuple],
    parts: list[tuple[int, int]],
    gap: int,
    step: int,
    now_step: int | None,
) -> None:
    pids, patients = practice["practitioners"], practice["patients"]
    try:
        for p, start_step, minutes, status in existing:
            start = start_on(day, start_step)
            session.add(
                Appointment(
                    practitioner_id=pids[p],
                    patient_id=patients[0],
                    service_type="legacy",
                    starts_at=start,
                    ends_at=start + timedelta(minutes=minutes),
                    status=status,
                )
            )
        session.flush()
        busy = [(a.practitioner_id, (a.starts_at, a.ends_at)) for a in active(session)]
        now = EARLY if now_step is None else start_on(day, now_step)
        block = [BlockPart(pids[p], minutes) for p, minutes in parts]
        options = block_slots(
            session=session,
            parts=block,
            day=day,
            tz=TZ,
            gap_minutes=gap,
            step_minutes=step,
            now=now,
        )
        for option in options:
            assert [s.practitioner_id for s in option.slots] == [b.practitioner_id for b in block]
            assert option.slots[0].start >= now
            for slot, (p, minutes) in zip(option.slots, parts, strict=True):
                span = (slot.start, slot.end)
                assert slot.end - slot.start == timedelta(minutes=minutes)
                assert any(ws <= slot.start and slot.end <= we for ws, we in windows(p, day))
                assert not any(pid == slot.practitioner_id and overlaps(b, span) for pid, b in busy)
                local = slot.start.astimezone(TZ)
                assert (local.hour * 60 + local.minute) % step == 0
                assert local.date() == day
            for a, b in pairwise(option.slots):
                assert b.start - a.end >= timedelta(minutes=gap)
                assert b.start - a.end < timedelta(minutes=gap + step)
        assert len(set(options)) == len(options)
        if options:
            # What was offered can really be booked, for a patient with no other appointments.
            for option in (options[0], options[-1]):
                booked = book_block(
                    session=session, patient_id=patients[3], option=option, parts=block, tz=TZ
                )
                assert [(a.starts_at, a.ends_at) for a in booked] == [
                    (s.start, s.end) for s in option.slots
                ]
                session.flush()
                for a in booked:
                    cancel(session=session, appointment_id=a.id)
    finally:
        session.rollback()
