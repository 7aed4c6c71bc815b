"""Encounter and Appointment -> appointments: times, status, clinician, service, linking."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from db.models import Appointment, AppointmentStatus, BillingTrack, Practitioner, RecordSource
from tests.support import factories
from tests.support.fhir_mapped import import_resources, known_practitioner
from tools.interop.fhir.mapping.context import UNNAMED_CLINICIAN


def encounter(**extra: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": "enc-1",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "type": [{"text": "Acupuncture follow-up"}],
        "subject": {"reference": "Patient/p1"},
        "participant": [
            {
                "type": [{"coding": [{"code": "PART"}]}],
                "individual": {"reference": "Practitioner/other"},
            },
            {
                "type": [{"coding": [{"code": "PPRF"}]}],
                "individual": {"reference": "Practitioner/dr-lee"},
            },
        ],
        "period": {"start": "2026-03-02T09:00:00Z", "end": "2026-03-02T09:45:00Z"},
    }
    raw.update(extra)
    return raw


def appointment(**extra: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": "apt-1",
        "status": "booked",
        "serviceType": [{"coding": [{"display": "Osteopathy"}]}],
        "start": "2026-03-09T14:00:00Z",
        "minutesDuration": 50,
        "participant": [
            {"actor": {"reference": "Patient/p1"}, "status": "accepted"},
            {"actor": {"reference": "Practitioner/dr-lee"}, "status": "accepted"},
            {"actor": {"reference": "Location/room-2"}, "status": "accepted"},
        ],
    }
    raw.update(extra)
    return raw


def visits(session: Session) -> list[Appointment]:
    return list(session.exec(select(Appointment).order_by(Appointment.id)).all())  # type: ignore[arg-type]


def test_an_encounter_becomes_a_completed_visit(session: Session) -> None:
    lee = known_practitioner(session, resource_id="dr-lee")
    known_practitioner(session, resource_id="other")
    patient = factories.patient(session)
    ctx = import_resources(session=session, resources=[encounter()], patient_id=patient.id)
    [visit] = visits(session)
    assert visit.patient_id == patient.id
    assert visit.practitioner_id == lee.id  # the primary performer, not the first listed
    assert visit.service_type == "Acupuncture follow-up"
    assert visit.starts_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert visit.ends_at == datetime(2026, 3, 2, 9, 45, tzinfo=UTC)
    assert visit.status == AppointmentStatus.COMPLETED
    assert visit.billing_track == BillingTrack.DIRECT_PAY
    assert ctx.tally.rows[("appointment", "created")] == 1
    assert not ctx.tally.problems


def test_encounter_statuses(session: Session) -> None:
    patient = factories.patient(session)
    expected = {
        "planned": AppointmentStatus.BOOKED,
        "arrived": AppointmentStatus.ARRIVED,
        "in-progress": AppointmentStatus.ARRIVED,
        "finished": AppointmentStatus.COMPLETED,
        "cancelled": AppointmentStatus.CANCELLED,
    }
    resources = [encounter(id=f"e-{s}", status=s) for s in expected]
    import_resources(session=session, resources=resources, patient_id=patient.id)
    assert [v.status for v in visits(session)] == list(expected.values())


def test_a_missing_end_gets_the_class_default_length_and_says_so(session: Session) -> None:
    patient = factories.patient(session)
    home = encounter(
        id="e-home", period={"start": "2026-03-02T09:00:00Z"}, **{"class": {"code": "HH"}}
    )
    backwards = encounter(
        id="e-back", period={"start": "2026-03-02T09:00:00Z", "end": "2026-03-02T08:00:00Z"}
    )
    ctx = import_resources(session=session, resources=[home, backwards], patient_id=patient.id)
    first, second = visits(session)
    assert (first.ends_at - first.starts_at).total_seconds() == 60 * 60
    assert (second.ends_at - second.starts_at).total_seconds() == 30 * 60
    assert [p.field for p in ctx.tally.problems] == ["period.end", "period.end"]
    assert "2026" not in str(ctx.tally.problems)


def test_no_start_or_entered_in_error_is_skipped(session: Session) -> None:
    patient = factories.patient(session)
    resources = [
        encounter(id="e-nostart", period={}),
        encounter(id="e-error", status="entered-in-error"),
        appointment(id="a-nostart", start=None),
    ]
    ctx = import_resources(session=session, resources=resources, patient_id=patient.id)
    assert visits(session) == []
    assert ctx.tally.skipped == {"Encounter": 2, "Appointment": 1}
    assert {p.field for p in ctx.tally.problems} == {"period.start", "status", "start"}


def test_entered_in_error_later_cancels_the_imported_visit(session: Session) -> None:
    patient = factories.patient(session)
    import_resources(session=session, resources=[encounter()], patient_id=patient.id)
    withdrawn = encounter(status="entered-in-error", meta={"versionId": "2"})
    import_resources(session=session, resources=[withdrawn], patient_id=patient.id)
    [visit] = visits(session)
    assert visit.status == AppointmentStatus.CANCELLED
    assert visit.cancel_reason == "Entered in error in the source record"


def test_unknown_clinician_falls_back_to_the_patient_physician(session: Session) -> None:
    physician = factories.practitioner(session)
    patient = factories.patient(session, physician=physician)
    import_resources(session=session, resources=[encounter()], patient_id=patient.id)
    assert visits(session)[0].practitioner_id == physician.id


def test_no_clinician_at_all_is_the_unnamed_record(session: Session) -> None:
    patient = factories.patient(session)
    import_resources(session=session, resources=[encounter(participant=[])], patient_id=patient.id)
    clinician = session.get(Practitioner, visits(session)[0].practitioner_id)
    assert clinician is not None and clinician.name == UNNAMED_CLINICIAN


def test_service_type_falls_back_to_the_class(session: Session) -> None:
    patient = factories.patient(session)
    virtual = encounter(type=None, **{"class": {"code": "VR"}})
    import_resources(session=session, resources=[virtual], patient_id=patient.id)
    assert visits(session)[0].service_type == "Virtual visit"


def test_an_account_with_coverage_is_insurance(session: Session) -> None:
    patient = factories.patient(session)
    account = {
        "resourceType": "Account",
        "id": "acc-1",
        "status": "active",
        "coverage": [{"coverage": {"reference": "Coverage/c1"}}],
    }
    billed = encounter(account=[{"reference": "Account/acc-1"}])
    import_resources(session=session, resources=[account, billed], patient_id=patient.id)
    assert visits(session)[0].billing_track == BillingTrack.INSURANCE


def test_an_appointment_becomes_a_booked_visit(session: Session) -> None:
    lee = known_practitioner(session, resource_id="dr-lee")
    patient = factories.patient(session)
    import_resources(session=session, resources=[appointment()], patient_id=patient.id)
    [visit] = visits(session)
    assert visit.practitioner_id == lee.id
    assert visit.service_type == "Osteopathy"
    assert visit.status == AppointmentStatus.BOOKED
    assert visit.starts_at == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    assert visit.ends_at == datetime(2026, 3, 9, 14, 50, tzinfo=UTC)


def test_appointment_statuses_and_cancel_reason(session: Session) -> None:
    patient = factories.patient(session)
    expected = {
        "proposed": AppointmentStatus.BOOKED,
        "pending": AppointmentStatus.BOOKED,
        "arrived": AppointmentStatus.ARRIVED,
        "fulfilled": AppointmentStatus.COMPLETED,
        "cancelled": AppointmentStatus.CANCELLED,
        "noshow": AppointmentStatus.NO_SHOW,
    }
    resources = [
        appointment(id=f"a-{s}", status=s, cancelationReason={"text": "Patient unwell"})
        for s in expected
    ]
    import_resources(session=session, resources=resources, patient_id=patient.id)
    rows = visits(session)
    assert [v.status for v in rows] == list(expected.values())
    assert [v.cancel_reason for v in rows if v.cancel_reason] == ["Patient unwell"]


def test_an_appointment_with_start_and_end(session: Session) -> None:
    patient = factories.patient(session)
    timed = appointment(minutesDuration=None, end="2026-03-09T15:30:00Z")
    import_resources(session=session, resources=[timed], patient_id=patient.id)
    assert visits(session)[0].ends_at == datetime(2026, 3, 9, 15, 30, tzinfo=UTC)


def test_reimport_is_unchanged_and_a_new_version_updates_in_place(session: Session) -> None:
    patient = factories.patient(session)
    first = import_resources(session=session, resources=[encounter()], patient_id=patient.id)
    again = import_resources(session=session, resources=[encounter()], patient_id=patient.id)
    assert again.tally.rows == {("appointment", "unchanged"): 1}
    newer = encounter(meta={"versionId": "2"}, type=[{"text": "Acupuncture, extended"}])
    later = import_resources(session=session, resources=[newer], patient_id=patient.id)
    assert later.tally.rows == {("appointment", "updated"): 1}
    [visit] = visits(session)
    assert visit.service_type == "Acupuncture, extended"
    older = encounter(meta={"versionId": "1"}, type=[{"text": "Old"}])
    stale = import_resources(session=session, resources=[older], patient_id=patient.id)
    assert stale.tally.rows == {("appointment", "stale"): 1}
    assert visits(session)[0].service_type == "Acupuncture, extended"
    assert first.tally.rows == {("appointment", "created"): 1}


def _sources(session: Session, row_id: int) -> set[str]:
    stmt = select(RecordSource).where(
        RecordSource.table_name == "appointment", RecordSource.row_id == row_id
    )
    return {f"{s.resource_type}/{s.resource_id}" for s in session.exec(stmt)}


def test_an_encounter_and_its_appointment_are_one_visit(session: Session) -> None:
    patient = factories.patient(session)
    lee = known_practitioner(session, resource_id="dr-lee")
    fulfilled = encounter(
        participant=[],
        type=None,
        period={"start": "2026-03-09T14:05:00Z", "end": "2026-03-09T14:55:00Z"},
        appointment=[{"reference": "Appointment/apt-1"}],
    )
    resources = [appointment(), fulfilled]
    import_resources(session=session, resources=resources, patient_id=patient.id)
    [visit] = visits(session)
    assert visit.status == AppointmentStatus.COMPLETED  # what happened, from the encounter
    assert visit.starts_at == datetime(2026, 3, 9, 14, 5, tzinfo=UTC)
    assert visit.practitioner_id == lee.id  # from the appointment, which names the clinician
    assert visit.service_type == "Osteopathy"
    assert visit.id is not None
    assert _sources(session, visit.id) == {"Encounter/enc-1", "Appointment/apt-1"}
    again = import_resources(session=session, resources=resources, patient_id=patient.id)
    assert len(visits(session)) == 1
    assert set(again.tally.rows) == {("appointment", "unchanged")}
    moved = appointment(meta={"versionId": "2"}, start="2026-03-10T10:00:00Z")
    import_resources(session=session, resources=[moved], patient_id=patient.id)
    [visit] = visits(session)
    assert visit.starts_at == datetime(2026, 3, 9, 14, 5, tzinfo=UTC)  # the encounter wins


def test_an_encounter_joins_an_appointment_imported_earlier(session: Session) -> None:
    patient = factories.patient(session)
    import_resources(session=session, resources=[appointment()], patient_id=patient.id)
    fulfilled = encounter(appointment=[{"reference": "Appointment/apt-1"}])
    ctx = import_resources(session=session, resources=[fulfilled], patient_id=patient.id)
    [visit] = visits(session)
    assert visit.status == AppointmentStatus.COMPLETED
    assert visit.service_type == "Acupuncture follow-up"
    assert ctx.tally.rows == {("appointment", "updated"): 1}
    assert visit.id is not None
    assert _sources(session, visit.id) == {"Encounter/enc-1", "Appointment/apt-1"}


def test_an_appointment_read_after_its_encounter_joins_it(session: Session) -> None:
    patient = factories.patient(session)
    fulfilled = encounter(appointment=[{"reference": "Appointment/apt-1"}])
    import_resources(session=session, resources=[fulfilled], patient_id=patient.id)
    import_resources(session=session, resources=[fulfilled, appointment()], patient_id=patient.id)
    [visit] = visits(session)
    assert visit.status == AppointmentStatus.COMPLETED
    assert visit.id is not None
    assert _sources(session, visit.id) == {"Encounter/enc-1", "Appointment/apt-1"}


def test_no_patient_is_skipped(session: Session) -> None:
    ctx = import_resources(
        session=session, resources=[encounter(), copy.deepcopy(appointment())], patient_id=None
    )
    assert ctx.tally.skipped == {"Encounter": 1, "Appointment": 1}
