"""ServiceRequest -> lab_order or referral by category; other categories skipped."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, select

from db.models import (
    Affiliation,
    LabOrder,
    LabStatus,
    Referral,
    ReferralDirection,
    ReferralStatus,
    Urgency,
)
from tests.support import factories
from tests.support.fhir_clinical import known_practitioner, map_resources, outcomes
from tests.support.fhir_labs import lab_request, laboratory

SNOMED = "http://snomed.info/sct"


def referral_request(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": "sr-ref",
        "meta": {"versionId": "1", "lastUpdated": "2024-05-20T16:00:00Z"},
        "status": "active",
        "intent": "order",
        "priority": "asap",
        "category": [
            {"coding": [{"system": SNOMED, "code": "3457005", "display": "Patient referral"}]}
        ],
        "code": {
            "coding": [{"system": SNOMED, "code": "183519002"}],
            "text": "Referral to cardiology service",
        },
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2024-05-02T10:00:00Z",
        "requester": {"reference": "Practitioner/pr-in"},
        "performer": [{"reference": "Practitioner/pr-out"}],
        "reasonCode": [{"text": "Palpitations on exertion"}],
        "note": [{"text": "Holter monitor done"}],
    }
    raw.update(changes)
    return raw


def test_lab_order_fields(session: Session) -> None:
    patient = factories.patient(session)
    clinician = known_practitioner(session, resource_id="pr-1")
    ctx = map_resources(
        session=session, resources=[laboratory(), lab_request()], patient_id=patient.id
    )
    (order,) = session.exec(select(LabOrder)).all()
    assert (order.panel, order.lab, order.ordered_by_id) == (
        "Lipid panel",
        "Northside Diagnostics",
        clinician.id,
    )
    assert (order.ordered_on, order.status, order.placer_number) == (
        date(2024, 3, 1),
        LabStatus.ORDERED,
        "ORD-5521",
    )
    assert outcomes(ctx, "lab_order") == {"created": 1}
    again = map_resources(
        session=session, resources=[laboratory(), lab_request()], patient_id=patient.id
    )
    assert outcomes(again, "lab_order") == {"unchanged": 1}


def test_lab_order_statuses_and_steve_status(session: Session) -> None:
    patient = factories.patient(session)
    loinc_only = lab_request(id="sr-2", category=[], status="completed", identifier=[])
    revoked = lab_request(id="sr-3", status="revoked", identifier=[])
    steve = lab_request(
        id="sr-4",
        identifier=[],
        extension=[{"url": "urn:steve:extension:status", "valueCode": "collected"}],
    )
    draft = lab_request(id="sr-5", status="draft", identifier=[])
    ctx = map_resources(
        session=session, resources=[loinc_only, revoked, steve, draft], patient_id=patient.id
    )
    statuses = [o.status for o in session.exec(select(LabOrder).order_by(LabOrder.id))]
    assert statuses == [LabStatus.RECEIVED, LabStatus.CANCELLED, LabStatus.COLLECTED]
    assert ctx.tally.skipped["ServiceRequest"] == 1


def test_lab_order_joins_the_order_an_hl7_message_made(session: Session) -> None:
    physician = factories.practitioner(session)
    patient = factories.patient(session, physician=physician)
    assert patient.id is not None and physician.id is not None
    earlier = LabOrder(
        patient_id=patient.id,
        ordered_by_id=physician.id,
        lab="Northside",
        panel="LIPID",
        ordered_on=date(2024, 3, 1),
        placer_number="ORD-5521",
        status=LabStatus.RECEIVED,
    )
    session.add(earlier)
    session.flush()
    map_resources(session=session, resources=[lab_request()], patient_id=patient.id)
    (order,) = session.exec(select(LabOrder)).all()
    assert (order.id, order.status) == (earlier.id, LabStatus.RECEIVED)  # never moves back


def test_outbound_referral(session: Session) -> None:
    patient = factories.patient(session)
    ours = known_practitioner(session, resource_id="pr-in")
    cardiologist = known_practitioner(
        session, resource_id="pr-out", affiliation=Affiliation.EXTERNAL
    )
    ctx = map_resources(session=session, resources=[referral_request()], patient_id=patient.id)
    (row,) = session.exec(select(Referral)).all()
    assert row.direction == ReferralDirection.OUTBOUND
    assert (row.from_practitioner_id, row.to_practitioner_id) == (ours.id, cardiologist.id)
    assert row.reason == "Palpitations on exertion; Holter monitor done"
    assert (row.urgency, row.status) == (Urgency.URGENT, ReferralStatus.SENT)
    authored = datetime(2024, 5, 2, 10, tzinfo=UTC)
    assert row.created_at.replace(tzinfo=UTC) == authored
    assert row.sent_at is not None and row.sent_at.replace(tzinfo=UTC) == authored
    assert row.closed_at is None and row.declined_at is None
    assert outcomes(ctx, "referral") == {"created": 1}
    again = map_resources(session=session, resources=[referral_request()], patient_id=patient.id)
    assert outcomes(again, "referral") == {"unchanged": 1}


def test_inbound_closed_referral_by_outside_performer(session: Session) -> None:
    physician = factories.practitioner(session)
    patient = factories.patient(session, physician=physician)
    gp = known_practitioner(session, resource_id="pr-gp", affiliation=Affiliation.EXTERNAL)
    raw = referral_request(
        status="completed",
        priority="routine",
        category=[],
        code={"text": "Acupuncture for chronic low back pain"},
        requester={"reference": "Practitioner/pr-gp"},
        performer=[{"reference": "Practitioner/pr-gp"}],
        reasonCode=[],
        note=[],
    )
    map_resources(session=session, resources=[raw], patient_id=patient.id)
    (row,) = session.exec(select(Referral)).all()
    assert row.direction == ReferralDirection.INBOUND
    assert row.from_practitioner_id == gp.id
    assert row.reason == "Acupuncture for chronic low back pain"
    assert (row.urgency, row.status) == (Urgency.ROUTINE, ReferralStatus.CLOSED)
    assert row.sent_at is not None and row.closed_at is not None
    assert row.closed_at.replace(tzinfo=UTC) == datetime(2024, 5, 20, 16, tzinfo=UTC)
    assert row.sent_at <= row.closed_at


def test_steve_referral_status_stamps_every_state_reached(session: Session) -> None:
    patient = factories.patient(session)
    known_practitioner(session, resource_id="pr-in")
    known_practitioner(session, resource_id="pr-out", affiliation=Affiliation.EXTERNAL)
    raw = referral_request(
        extension=[{"url": "urn:steve:extension:status", "valueCode": "scheduled"}],
        priority="urgent",
    )
    map_resources(session=session, resources=[raw], patient_id=patient.id)
    (row,) = session.exec(select(Referral)).all()
    assert (row.status, row.urgency) == (ReferralStatus.SCHEDULED, Urgency.SOON)
    assert None not in (row.sent_at, row.accepted_at, row.scheduled_at)
    assert row.seen_at is None


def test_other_categories_are_skipped_with_a_reason(session: Session) -> None:
    patient = factories.patient(session)
    imaging = referral_request(
        id="sr-img",
        category=[{"coding": [{"system": SNOMED, "code": "363679005", "display": "Imaging"}]}],
        code={"coding": [{"system": SNOMED, "code": "168537006"}], "text": "Chest X-ray"},
    )
    ctx = map_resources(session=session, resources=[imaging], patient_id=patient.id)
    assert session.exec(select(Referral)).all() == []
    assert ctx.tally.skipped["ServiceRequest"] == 1
    assert [(p.field, p.message) for p in ctx.tally.problems] == [
        ("category", "neither a laboratory order nor a referral")
    ]


def test_steve_export_referral_round_trips_its_stamps_and_outcome(session: Session) -> None:
    patient = factories.patient(session)
    known_practitioner(session, resource_id="pr-in")
    known_practitioner(session, resource_id="pr-out", affiliation=Affiliation.EXTERNAL)

    def ext(name: str, **value: Any) -> dict[str, Any]:
        return {"url": f"urn:steve:extension:{name}", **value}

    raw = referral_request(
        status="completed",
        extension=[
            ext("status", valueCode="closed"),
            ext("direction", valueString="inbound"),
            ext("status-changed-at", valueDateTime="2024-06-01T12:00:00+00:00"),
            ext("sent-at", valueDateTime="2024-05-02T10:00:00+00:00"),
            ext("seen-at", valueDateTime="2024-05-15T09:30:00+00:00"),
            ext("closed-at", valueDateTime="2024-06-01T12:00:00+00:00"),
            ext("outcome-rating", valueInteger=4),
            ext("outcome-note", valueString="Seen promptly"),
        ],
    )
    map_resources(session=session, resources=[raw], patient_id=patient.id)
    (row,) = session.exec(select(Referral)).all()
    assert (row.status, row.direction) == (ReferralStatus.CLOSED, ReferralDirection.INBOUND)
    assert row.seen_at is not None
    assert row.seen_at.replace(tzinfo=UTC) == datetime(2024, 5, 15, 9, 30, tzinfo=UTC)
    assert row.accepted_at is None and row.scheduled_at is None  # as Steve had them
    assert (row.outcome_rating, row.outcome_note) == (4, "Seen promptly")
