"""Scheduling: bookings and their refusals, reschedules, visit blocks, cancellations."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from db.models import (
    Affiliation,
    Appointment,
    AppointmentStatus,
    AuditEvent,
    BillingTrack,
    Discipline,
    PractitionerStatus,
)
from tests.support import factories
from tests.support.scheduling import (
    MONDAY,
    NOW,
    TZ,
    at,
    book_at,
    count,
    local,
    refuses,
    slots_of,
)
from tools.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from tools.scheduling import (
    BlockOption,
    block_slots,
    book,
    book_block,
    cancel,
    cancel_block,
    reschedule,
)

# ---------------------------------------------------------------------- booking


def test_book_stores_appointment_and_audits(session: Session, clinic) -> None:
    doc, pt = clinic["doc"], clinic["patient"]
    appt = book(
        session=session,
        practitioner_id=doc.id,
        patient_id=pt.id,
        service_type="follow-up",
        starts_at=at(MONDAY, 14),
        duration_minutes=30,
        tz=TZ,
        billing_track=BillingTrack.INSURANCE,
        actor="reception",
    )
    session.commit()
    stored = session.get(Appointment, appt.id)
    assert stored is not None and stored.status == AppointmentStatus.BOOKED
    assert stored.ends_at - stored.starts_at == timedelta(minutes=30)
    assert stored.starts_at == at(MONDAY, 14) and stored.billing_track == BillingTrack.INSURANCE
    events = session.exec(select(AuditEvent).where(AuditEvent.entity == "appointment")).all()
    assert [(e.action, e.entity_id, e.patient_id, e.actor) for e in events] == [
        ("book", appt.id, pt.id, "reception")
    ]


def test_touching_appointments_are_allowed(session: Session, clinic) -> None:
    doc = clinic["doc"]
    other = factories.patient(session)
    first = book_at(session, doc, clinic["patient"].id, at(MONDAY, 9))
    second = book_at(session, doc, other.id, first.ends_at)
    assert second.starts_at == first.ends_at


def test_double_booking_is_refused_naming_the_appointment(session: Session, clinic) -> None:
    doc, pt = clinic["doc"], clinic["patient"]
    other = factories.patient(session, given="Xavier", family="Yardley")
    taken = book_at(session, doc, pt.id, at(MONDAY, 10))
    session.commit()
    message = refuses(
        session,
        lambda: book_at(session, doc, other.id, at(MONDAY, 10, 30)),
        Conflict,
        f"appointment {taken.id}",
    )
    assert "10:00-10:45" in message
    for name in ("Zelda", "Quixote", "Xavier", "Yardley"):
        assert name not in message


def test_patient_cannot_be_in_two_places(session: Session, clinic) -> None:
    pt = clinic["patient"]
    acu = factories.practitioner(session, discipline=Discipline.ACUPUNCTURE)
    first = book_at(session, clinic["doc"], pt.id, at(MONDAY, 10))
    session.commit()
    message = refuses(
        session,
        lambda: book_at(session, acu, pt.id, at(MONDAY, 10, 15)),
        Conflict,
        f"patient {pt.id} already has appointment {first.id}",
    )
    assert "Zelda" not in message


def test_outside_hours_and_days_off_are_refused(session: Session, clinic) -> None:
    doc, pt = clinic["doc"], clinic["patient"]
    refuses(
        session,
        lambda: book_at(session, doc, pt.id, at(MONDAY, 16, 30)),
        Conflict,
        "(09:00-17:00, Europe/London)",
    )
    refuses(session, lambda: book_at(session, doc, pt.id, at(MONDAY, 8, 30)), Conflict, "outside")
    refuses(
        session,
        lambda: book_at(session, doc, pt.id, at(MONDAY + timedelta(5), 10)),
        Conflict,
        "does not work on Saturday",
    )


@pytest.mark.parametrize(
    ("change", "error", "text"),
    [
        ({"status": PractitionerStatus.INACTIVE}, Conflict, "is inactive"),
        ({"status": PractitionerStatus.ON_LEAVE}, Conflict, "is on leave"),
        ({"affiliation": Affiliation.EXTERNAL}, InvalidInput, "external network"),
    ],
)
def test_unbookable_practitioners(session: Session, clinic, change, error, text) -> None:
    doc, pt = clinic["doc"], clinic["patient"]
    for key, value in change.items():
        setattr(doc, key, value)
    session.add(doc)
    session.commit()
    refuses(session, lambda: book_at(session, doc, pt.id, at(MONDAY, 10)), error, text)
    with pytest.raises(error, match=text):
        slots_of(session, doc.id)


def test_unknown_ids_bad_durations_and_naive_times(session: Session, clinic) -> None:
    doc, pt = clinic["doc"], clinic["patient"]

    def attempt(**over: Any) -> Callable[[], object]:
        kw = {
            "session": session,
            "practitioner_id": doc.id,
            "patient_id": pt.id,
            "service_type": "consultation",
            "starts_at": at(MONDAY, 10),
            "duration_minutes": 30,
            "tz": TZ,
        } | over
        return lambda: book(**kw)

    refuses(session, attempt(practitioner_id=9999), NotFound, "no practitioner with id 9999")
    refuses(session, attempt(patient_id=9999), NotFound, "no patient with id 9999")
    for minutes in (0, 4, 481, -30):
        refuses(session, attempt(duration_minutes=minutes), InvalidInput, "between 5 and 480")
    refuses(session, attempt(starts_at=datetime(2030, 3, 4, 10)), InvalidInput, "no time zone")
    refuses(session, attempt(service_type="  "), InvalidInput, "service type")
    refuses(session, attempt(billing_track="barter"), InvalidInput, "unknown billing track")
    refuses(session, attempt(now=at(MONDAY, 11)), Conflict, "in the past")
    with pytest.raises(InvalidInput, match="between 5 and 480"):
        slots_of(session, doc.id, minutes=500)


def test_booking_for_a_cancelled_time_succeeds(session: Session, clinic) -> None:
    doc, pt = clinic["doc"], clinic["patient"]
    first = book_at(session, doc, pt.id, at(MONDAY, 10))
    cancel(session=session, appointment_id=first.id)
    again = book_at(session, doc, pt.id, at(MONDAY, 10))
    assert again.id != first.id and again.status == AppointmentStatus.BOOKED


def test_concurrent_bookings_of_one_time_cannot_both_succeed(session: Session, engine) -> None:
    doc = factories.practitioner(session)
    first_pt, second_pt = factories.patient(session), factories.patient(session)
    session.commit()
    outcome: dict[str, str] = {}

    def second_booking() -> None:
        with Session(engine) as other:
            try:
                book_at(other, doc, second_pt.id, at(MONDAY, 10, 15))
                other.commit()
                outcome["second"] = "booked"
            except Conflict as exc:
                outcome["second"] = str(exc)

    with Session(engine) as first:
        booked_id = book_at(first, doc, first_pt.id, at(MONDAY, 10)).id
        worker = threading.Thread(target=second_booking)
        worker.start()
        worker.join(0.5)
        assert worker.is_alive()  # waiting for the first booking's lock
        first.commit()
    worker.join(10)
    assert outcome["second"].endswith(
        f"already has appointment {booked_id} at 2030-03-04 10:00-10:45"
    )
    assert count(session, Appointment) == 1


# ----------------------------------------------------------- reschedule, cancel


def test_reschedule_keeps_length_and_checks_conflicts(session: Session, clinic) -> None:
    doc, pt = clinic["doc"], clinic["patient"]
    appt = book_at(session, doc, pt.id, at(MONDAY, 10))
    blocker = book_at(session, doc, factories.patient(session).id, at(MONDAY, 14))
    session.commit()
    moved = reschedule(session=session, appointment_id=appt.id, new_start=at(MONDAY, 10, 15), tz=TZ)
    assert (moved.starts_at, moved.ends_at) == (
        at(MONDAY, 10, 15),
        at(MONDAY, 11),
    )  # overlaps itself
    session.commit()
    refuses(
        session,
        lambda: reschedule(
            session=session, appointment_id=appt.id, new_start=at(MONDAY, 13, 30), tz=TZ
        ),
        Conflict,
        f"appointment {blocker.id}",
    )
    assert session.get(Appointment, appt.id).starts_at == at(MONDAY, 10, 15)  # type: ignore[union-attr]
    refuses(
        session,
        lambda: reschedule(
            session=session, appointment_id=appt.id, new_start=at(MONDAY, 16, 30), tz=TZ
        ),
        Conflict,
        "outside",
    )
    refuses(
        session,
        lambda: reschedule(session=session, appointment_id=424242, new_start=at(MONDAY, 9), tz=TZ),
        NotFound,
        "no appointment with id 424242",
    )
    actions = session.exec(
        select(AuditEvent.action).where(
            AuditEvent.entity == "appointment", AuditEvent.entity_id == appt.id
        )
    ).all()
    assert list(actions) == ["book", "reschedule"]


def test_cancel_rules(session: Session, clinic) -> None:
    appt = book_at(session, clinic["doc"], clinic["patient"].id, at(MONDAY, 10))
    session.commit()
    done = cancel(session=session, appointment_id=appt.id, reason="  travel  ", actor="reception")
    session.commit()
    assert done.status == AppointmentStatus.CANCELLED and done.cancel_reason == "travel"
    refuses(
        session,
        lambda: cancel(session=session, appointment_id=appt.id),
        InvalidTransition,
        "is cancelled",
    )
    refuses(
        session,
        lambda: reschedule(
            session=session, appointment_id=appt.id, new_start=at(MONDAY, 11), tz=TZ
        ),
        InvalidTransition,
        "only booked",
    )
    refuses(session, lambda: cancel(session=session, appointment_id=777), NotFound, "777")


def test_book_block_is_all_or_nothing(session: Session, team) -> None:
    parts, pt = team["parts"], team["patient"]
    options = block_slots(session=session, parts=parts, day=MONDAY, tz=TZ, now=NOW, limit=2)
    # Someone takes the coach's slot of the first option after it was offered.
    coach_slot = options[0].slots[2]
    book_at(session, team["coach"], factories.patient(session).id, coach_slot.start, 30)
    session.commit()
    refuses(
        session,
        lambda: book_block(
            session=session, patient_id=pt.id, option=options[0], parts=parts, tz=TZ
        ),
        Conflict,
        f"practitioner {team['coach'].id} already has",
    )
    assert session.exec(select(Appointment).where(Appointment.patient_id == pt.id)).all() == []
    mismatched = BlockOption(options[1].slots[:2])
    refuses(
        session,
        lambda: book_block(
            session=session, patient_id=pt.id, option=mismatched, parts=parts, tz=TZ
        ),
        InvalidInput,
        "2 slots for 3 parts",
    )
    fresh = block_slots(session=session, parts=parts, day=MONDAY, tz=TZ, now=NOW, limit=1)[0]
    booked = book_block(session=session, patient_id=pt.id, option=fresh, parts=parts, tz=TZ)
    session.commit()
    assert len({a.visit_block_id for a in booked}) == 1
    uuid.UUID(booked[0].visit_block_id)  # a real uuid4
    assert [(a.starts_at, a.ends_at) for a in booked] == [(s.start, s.end) for s in fresh.slots]
    assert [a.service_type for a in booked] == ["consultation", "acupuncture", "consultation"]


def test_cancel_block_cancels_every_part_and_offers_rebooking(session: Session, team) -> None:
    parts, pt = team["parts"], team["patient"]
    option = block_slots(session=session, parts=parts, day=MONDAY, tz=TZ, now=NOW, limit=1)[0]
    booked = book_block(session=session, patient_id=pt.id, option=option, parts=parts, tz=TZ)
    # The doctor is away on Tuesday, so the first alternative is on Wednesday.
    tuesday = MONDAY + timedelta(1)
    book_at(session, team["doc"], factories.patient(session).id, at(tuesday, 9), 480)
    session.commit()
    block_id = booked[0].visit_block_id
    result = cancel_block(
        session=session, visit_block_id=block_id, reason="ill", tz=TZ, gap_minutes=10, now=NOW
    )
    session.commit()
    assert sorted(a.id for a in result.cancelled) == sorted(a.id for a in booked)
    assert all(
        a.status == AppointmentStatus.CANCELLED and a.cancel_reason == "ill"
        for a in session.exec(
            select(Appointment).where(Appointment.visit_block_id == block_id)
        ).all()
    )
    days = [o.start.astimezone(TZ).date() for o in result.rebook_options]
    assert days == [MONDAY + timedelta(2), MONDAY + timedelta(3), MONDAY + timedelta(4)]
    assert [local(s.start) for s in result.rebook_options[0].slots] == ["09:00", "10:15", "11:15"]
    rebooked = book_block(
        session=session,
        patient_id=pt.id,
        option=result.rebook_options[0],
        parts=result.parts,
        tz=TZ,
    )
    session.commit()
    assert len(rebooked) == 3
    refuses(
        session,
        lambda: cancel_block(session=session, visit_block_id=block_id, tz=TZ),
        InvalidTransition,
        "no booked parts",
    )
    refuses(
        session,
        lambda: cancel_block(session=session, visit_block_id="nope", tz=TZ),
        NotFound,
        "visit block",
    )


def test_cancel_block_without_rebook_and_inferred_gap(session: Session, team) -> None:
    parts, pt = team["parts"], team["patient"]
    option = block_slots(session=session, parts=parts, day=MONDAY, tz=TZ, now=NOW, limit=1)[0]
    booked = book_block(session=session, patient_id=pt.id, option=option, parts=parts, tz=TZ)
    quiet = cancel_block(
        session=session, visit_block_id=booked[0].visit_block_id, tz=TZ, offer_rebook=False
    )
    assert quiet.rebook_options == [] and len(quiet.cancelled) == 3
    again = book_block(session=session, patient_id=pt.id, option=option, parts=parts, tz=TZ)
    inferred = cancel_block(session=session, visit_block_id=again[0].visit_block_id, tz=TZ, now=NOW)
    first = inferred.rebook_options[0]
    assert first.start.astimezone(TZ).date() == MONDAY + timedelta(1)
    assert [s.end - s.start for s in first.slots] == [timedelta(minutes=m) for m in (60, 45, 30)]
    # A part cancelled on its own earlier is not offered again.
    third = book_block(session=session, patient_id=pt.id, option=option, parts=parts, tz=TZ)
    cancel(session=session, appointment_id=third[1].id)
    rest = cancel_block(session=session, visit_block_id=third[0].visit_block_id, tz=TZ, now=NOW)
    assert [p.practitioner_id for p in rest.parts] == [team["doc"].id, team["coach"].id]
    assert [len(o.slots) for o in rest.rebook_options] == [2, 2, 2]
    # Someone now on leave: the block is still cancelled, but nothing is offered.
    fourth = book_block(session=session, patient_id=pt.id, option=option, parts=parts, tz=TZ)
    team["coach"].status = PractitionerStatus.ON_LEAVE
    session.add(team["coach"])
    away = cancel_block(session=session, visit_block_id=fourth[0].visit_block_id, tz=TZ, now=NOW)
    assert len(away.cancelled) == 3 and away.rebook_options == []
