"""Care coordination: medication and supplement changes reach the whole care team."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, func, select

from db.models import (
    CareMessage,
    CareProgramme,
    Discipline,
    ElementStatus,
    MessageKind,
    PatientMedication,
    ProgrammeElement,
    SupplementStatus,
)
from tests.support import factories
from tools.care import (
    acknowledge_message,
    care_team,
    record_medication_change,
    record_supplement_change,
    unacknowledged_messages,
)
from tools.errors import InvalidInput, InvalidTransition, NotFound


def _team(session: Session):
    doc = factories.practitioner(session, name="Dr Primary")
    acu = factories.practitioner(session, discipline=Discipline.ACUPUNCTURE)
    nut = factories.practitioner(session, discipline=Discipline.NUTRITIONAL_THERAPY)
    former = factories.practitioner(session, discipline=Discipline.MASSAGE)
    pat = factories.patient(session, physician=doc)
    prog = CareProgramme(patient_id=pat.id, title="Fatigue", started_on=date(2026, 1, 1))
    session.add(prog)
    session.flush()
    for who, status in (
        (acu, ElementStatus.ACTIVE),
        (nut, ElementStatus.ACTIVE),
        (former, ElementStatus.COMPLETED),
    ):
        session.add(
            ProgrammeElement(
                programme_id=prog.id,
                patient_id=pat.id,
                modality=who.discipline,
                practitioner_id=who.id,
                goal="g",
                cadence="weekly",
                status=status,
                started_on=date(2026, 1, 1),
            )
        )
    session.commit()
    return doc, acu, nut, former, pat


def test_care_team_is_active_elements_plus_primary_physician(session: Session) -> None:
    doc, acu, nut, _former, pat = _team(session)
    assert care_team(session=session, patient_id=pat.id) == sorted([doc.id, acu.id, nut.id])


def test_medication_change_messages_everyone_but_the_sender(session: Session) -> None:
    doc, acu, nut, _former, pat = _team(session)
    med, sent = record_medication_change(
        session=session,
        patient_id=pat.id,
        action="start",
        name="Sertraline",
        dose="50 mg",
        frequency="daily",
        recorded_by_id=doc.id,
    )
    session.commit()
    assert sorted(m.recipient_id for m in sent) == sorted([acu.id, nut.id])
    assert all(m.kind == MessageKind.MEDICATION_CHANGE for m in sent)
    assert all(m.source_ref == f"medication:{med.id}" for m in sent)
    assert "Started Sertraline 50 mg daily" in sent[0].body
    _, stopped = record_medication_change(
        session=session, patient_id=pat.id, action="stop", name="", medication_id=med.id
    )
    session.commit()
    assert len(stopped) == 3  # the assistant recorded it: the physician hears too
    assert session.get(PatientMedication, med.id).stopped_on is not None
    with pytest.raises(InvalidTransition):
        record_medication_change(
            session=session, patient_id=pat.id, action="stop", name="", medication_id=med.id
        )


def test_supplement_change_and_acknowledgement(session: Session) -> None:
    doc, acu, nut, _, pat = _team(session)
    item, sent = record_supplement_change(
        session=session,
        patient_id=pat.id,
        action="start",
        product="Omega-3",
        dose="2 g",
        frequency="daily",
        prescriber_id=nut.id,
    )
    session.commit()
    assert sorted(m.recipient_id for m in sent) == sorted([doc.id, acu.id])
    changed, _ = record_supplement_change(
        session=session, patient_id=pat.id, action="change", supplement_id=item.id, dose="3 g"
    )
    assert changed.dose == "3 g" and changed.status == SupplementStatus.ACTIVE
    session.commit()
    waiting = unacknowledged_messages(session=session, recipient_id=acu.id)
    assert len(waiting) == 2
    with pytest.raises(InvalidInput, match="addressed to someone else"):
        acknowledge_message(session=session, message_id=waiting[0].id, by_id=doc.id)
    acknowledge_message(session=session, message_id=waiting[0].id, by_id=acu.id)
    session.commit()
    assert [m.id for m in unacknowledged_messages(session=session, recipient_id=acu.id)] == [
        waiting[1].id
    ]
    with pytest.raises(InvalidTransition):
        acknowledge_message(session=session, message_id=waiting[0].id, by_id=acu.id)


def test_bad_changes_write_nothing(session: Session) -> None:
    _, _, _, _, pat = _team(session)
    bad_calls = [
        (dict(action="pause", name="x"), InvalidInput),
        (dict(action="start", name="  "), InvalidInput),
        (dict(action="stop", name="x"), InvalidInput),
        (dict(action="stop", name="x", medication_id=999), NotFound),
    ]
    for kwargs, error in bad_calls:
        with pytest.raises(error):
            record_medication_change(session=session, patient_id=pat.id, **kwargs)
        session.rollback()
    with pytest.raises(InvalidInput, match="needs a product"):
        record_supplement_change(session=session, patient_id=pat.id, action="start", product="x")
    session.rollback()
    with pytest.raises(NotFound):
        record_medication_change(session=session, patient_id=999, action="start", name="x")
    session.rollback()
    assert session.exec(select(func.count()).select_from(CareMessage)).one() == 0
