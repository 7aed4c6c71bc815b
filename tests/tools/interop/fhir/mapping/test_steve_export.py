"""What only a Steve export is believed on (meta.source urn:steve:practice:...): its notes,
intake form times, billing tracks and message acknowledgements; the same resources from an
EHR keep the EHR rules."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from db.models import (
    Appointment,
    BillingTrack,
    CareMessage,
    ClinicalNote,
    Discipline,
    IntakeForm,
    MessageKind,
    NoteOrigin,
    PatientDocument,
)
from tests.support import factories
from tests.support.fhir_mapped import import_resources, known_practitioner

STEVE = {"source": "urn:steve:practice:0f6c"}
BODY = "Sleep better; continue magnesium."


def steve(raw: dict[str, Any], *, exported: bool = True) -> dict[str, Any]:
    return {**raw, "meta": STEVE} if exported else raw


def note(*, exported: bool = True) -> dict[str, Any]:
    return steve(
        {
            "resourceType": "DocumentReference",
            "id": "clinical-note-4",
            "extension": [{"url": "urn:steve:extension:origin", "valueString": "external"}],
            "status": "current",
            "category": [
                {"coding": [{"system": "urn:steve:document-kind", "code": "clinical-note"}]}
            ],
            "subject": {"reference": "Patient/p1"},
            "date": "2025-02-01T10:00:00+00:00",
            "author": [{"reference": "Practitioner/acu"}],
            "description": "Acupuncture session 3",
            "content": [
                {
                    "attachment": {
                        "contentType": "text/plain; charset=utf-8",
                        "data": base64.b64encode(BODY.encode()).decode(),
                    }
                }
            ],
            "context": {
                "practiceSetting": {
                    "coding": [{"system": "urn:steve:discipline", "code": "acupuncture"}]
                }
            },
        },
        exported=exported,
    )


def test_a_steve_note_comes_back_as_a_clinical_note(session: Session) -> None:
    acu = known_practitioner(session, resource_id="acu", discipline=Discipline.PHYSICIAN)
    patient = factories.patient(session)
    import_resources(session=session, resources=[note()], patient_id=patient.id)
    [row] = session.exec(select(ClinicalNote)).all()
    assert row.practitioner_id == acu.id
    assert row.modality == Discipline.ACUPUNCTURE  # the note's discipline, not the author's
    assert (row.title, row.body, row.origin) == ("Acupuncture session 3", BODY, NoteOrigin.EXTERNAL)
    assert row.written_at == datetime(2025, 2, 1, 10, 0, tzinfo=UTC)
    assert session.exec(select(PatientDocument)).all() == []


def test_the_same_document_from_an_ehr_stays_a_document(session: Session) -> None:
    patient = factories.patient(session)
    import_resources(session=session, resources=[note(exported=False)], patient_id=patient.id)
    assert session.exec(select(ClinicalNote)).all() == []
    [document] = session.exec(select(PatientDocument)).all()
    assert document.content_type == "text/plain"


def message(*, exported: bool = True, **extra: Any) -> dict[str, Any]:
    raw = {
        "resourceType": "Communication",
        "id": "care-message-2",
        "status": "completed",
        "category": [
            {"coding": [{"system": "urn:steve:message-kind", "code": "supplement_change"}]}
        ],
        "subject": {"reference": "Patient/p1"},
        "topic": {"text": "New supplement"},
        "sent": "2025-02-01T10:00:00+00:00",
        "recipient": [{"reference": "Practitioner/gp"}],
        "payload": [{"contentString": "Started L-theanine."}],
        **extra,
    }
    return steve(raw, exported=exported)


def test_a_steve_message_is_acknowledged_only_when_the_export_says_so(session: Session) -> None:
    known_practitioner(session, resource_id="gp")
    patient = factories.patient(session)
    acknowledged = message(
        id="care-message-3",
        received="2025-02-02T08:00:00+00:00",
        extension=[
            {"url": "urn:steve:extension:acknowledged-at", "valueDateTime": "2025-02-02T08:00:00Z"}
        ],
    )
    import_resources(session=session, resources=[message(), acknowledged], patient_id=patient.id)
    rows = session.exec(select(CareMessage).order_by(CareMessage.id)).all()  # type: ignore[arg-type]
    assert [m.acknowledged_at for m in rows] == [None, datetime(2025, 2, 2, 8, 0, tzinfo=UTC)]
    assert {m.kind for m in rows} == {MessageKind.SUPPLEMENT_CHANGE}
    assert {m.sender_id for m in rows} == {None}  # no sender: Steve's assistant wrote it


def test_a_completed_ehr_message_is_stored_acknowledged(session: Session) -> None:
    known_practitioner(session, resource_id="gp")
    patient = factories.patient(session)
    import_resources(session=session, resources=[message(exported=False)], patient_id=patient.id)
    [row] = session.exec(select(CareMessage)).all()
    assert row.acknowledged_at == datetime(2025, 2, 1, 10, 0, tzinfo=UTC)
    assert row.kind == MessageKind.GENERAL and row.sender_id is not None


def appointment(*, exported: bool = True) -> dict[str, Any]:
    raw = {
        "resourceType": "Appointment",
        "id": "appointment-9",
        "extension": [{"url": "urn:steve:extension:billing-track", "valueString": "insurance"}],
        "status": "booked",
        "serviceType": [{"text": "follow-up consultation"}],
        "start": "2025-03-12T15:00:00+00:00",
        "end": "2025-03-12T15:35:00+00:00",
        "participant": [
            {"actor": {"reference": "Patient/p1"}, "status": "accepted"},
            {"actor": {"reference": "Practitioner/gp"}, "status": "accepted"},
        ],
    }
    return steve(raw, exported=exported)


def test_the_billing_track_comes_only_from_a_steve_export(session: Session) -> None:
    known_practitioner(session, resource_id="gp")
    patient = factories.patient(session)
    ehr = {**appointment(exported=False), "id": "a-ehr"}
    import_resources(session=session, resources=[appointment(), ehr], patient_id=patient.id)
    rows = session.exec(select(Appointment).order_by(Appointment.id)).all()  # type: ignore[arg-type]
    assert [a.billing_track for a in rows] == [BillingTrack.INSURANCE, BillingTrack.DIRECT_PAY]


def test_a_steve_intake_form_keeps_its_times_reviewer_and_empty_answers(session: Session) -> None:
    gp = known_practitioner(session, resource_id="gp")
    patient = factories.patient(session)
    raw = steve(
        {
            "resourceType": "QuestionnaireResponse",
            "id": "intake-form-5",
            "extension": [
                {"url": "urn:steve:extension:sent-at", "valueDateTime": "2025-01-02T09:00:00Z"},
                {"url": "urn:steve:extension:reviewed-at", "valueDateTime": "2025-01-05T09:00:00Z"},
                {
                    "url": "urn:steve:extension:reviewed-by",
                    "valueReference": {"reference": "Practitioner/gp"},
                },
            ],
            "questionnaire": "urn:steve:questionnaire/new_patient",
            "status": "completed",
            "subject": {"reference": "Patient/p1"},
            "authored": "2025-01-04T09:00:00Z",
            "item": [
                {"linkId": "q1", "text": "Main concern?", "answer": [{"valueString": "fatigue"}]},
                {"linkId": "q2", "text": "Smoker?"},
            ],
        }
    )
    empty = {**raw, "id": "intake-form-6", "item": []}
    import_resources(session=session, resources=[raw, empty], patient_id=patient.id)
    form, blank = session.exec(select(IntakeForm).order_by(IntakeForm.id)).all()  # type: ignore[arg-type]
    assert form.sent_at == datetime(2025, 1, 2, 9, 0, tzinfo=UTC)
    assert form.reviewed_at == datetime(2025, 1, 5, 9, 0, tzinfo=UTC)
    assert form.reviewed_by_id == gp.id
    assert json.loads(form.answers or "") == [
        {"question": "Main concern?", "answer": "fatigue"},
        {"question": "Smoker?", "answer": ""},
    ]
    assert blank.answers is None
