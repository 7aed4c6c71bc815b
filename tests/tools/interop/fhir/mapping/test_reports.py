"""DiagnosticReport -> lab_order; one order for a request, its report and its results."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, select

from db.models import LabOrder, LabResult, LabStatus
from tests.support import factories
from tests.support.fhir_clinical import known_practitioner, map_resources, outcomes
from tests.support.fhir_labs import (
    INTERPRETATION,
    LOINC,
    category,
    lab_observation,
    lab_request,
    laboratory,
    lipid_report,
    lipid_results,
    order_number,
)


def orders(session: Session) -> list[LabOrder]:
    return list(session.exec(select(LabOrder).order_by(LabOrder.id)))


def results(session: Session) -> list[LabResult]:
    return list(session.exec(select(LabResult).order_by(LabResult.id)))


def test_report_becomes_the_order_of_its_results(session: Session) -> None:
    physician = factories.practitioner(session)
    patient = factories.patient(session, physician=physician)
    resources = [laboratory(), lipid_report(), *lipid_results()]
    ctx = map_resources(session=session, resources=resources, patient_id=patient.id)
    (order,) = orders(session)
    assert order.panel == "Lipid panel with direct LDL"
    assert order.lab == "Northside Diagnostics"
    assert order.ordered_by_id == physician.id  # no clinician named: the patient's physician
    assert order.ordered_on == date(2024, 3, 4)
    assert (order.status, order.received_on) == (LabStatus.RECEIVED, date(2024, 3, 5))
    assert (order.placer_number, order.filler_number) == (None, "NSD-88120")
    assert [r.order_id for r in results(session)] == [order.id] * 4
    assert outcomes(ctx, "lab_order") == {"created": 1}
    assert outcomes(ctx, "lab_result") == {"created": 4}
    assert ctx.tally.mapped["DiagnosticReport"] == 1 and ctx.tally.problems == []


def test_request_report_and_results_share_one_order_and_reimport_changes_nothing(
    session: Session,
) -> None:
    patient = factories.patient(session)
    clinician = known_practitioner(session, resource_id="pr-1")
    report = lipid_report(basedOn=[{"reference": "ServiceRequest/sr-lipids"}])
    resources = [laboratory(), lab_request(), report, *lipid_results()]
    ctx = map_resources(session=session, resources=resources, patient_id=patient.id)
    (order,) = orders(session)
    assert order.ordered_by_id == clinician.id
    assert order.ordered_on == date(2024, 3, 1)  # the request's date
    assert (order.placer_number, order.filler_number) == ("ORD-5521", "NSD-88120")
    assert order.status == LabStatus.RECEIVED
    assert outcomes(ctx, "lab_order") == {"created": 1, "updated": 1}
    assert {r.order_id for r in results(session)} == {order.id}
    again = map_resources(session=session, resources=resources, patient_id=patient.id)
    assert outcomes(again, "lab_order") == {"unchanged": 2}
    assert outcomes(again, "lab_result") == {"unchanged": 4}
    assert len(orders(session)) == 1


def test_report_joins_an_order_with_its_number(session: Session) -> None:
    """An order from an earlier HL7 message, matched by the filler number."""
    physician = factories.practitioner(session)
    patient = factories.patient(session, physician=physician)
    assert patient.id is not None and physician.id is not None
    hl7 = LabOrder(
        patient_id=patient.id,
        ordered_by_id=physician.id,
        lab="Northside",
        panel="LIPID",
        ordered_on=date(2024, 3, 2),
        filler_number="NSD-88120",
        status=LabStatus.COLLECTED,
    )
    session.add(hl7)
    session.flush()
    map_resources(
        session=session, resources=[lipid_report(), *lipid_results()], patient_id=patient.id
    )
    (order,) = orders(session)
    assert (order.id, order.panel, order.ordered_on) == (hl7.id, "LIPID", date(2024, 3, 2))
    assert (order.status, order.lab) == (LabStatus.RECEIVED, "Northside Diagnostics")


def test_preliminary_report_is_collected_and_a_newer_final_one_received(
    session: Session,
) -> None:
    patient = factories.patient(session)
    early = lipid_report(status="preliminary", performer=[{"display": "Northside Diagnostics"}])
    map_resources(session=session, resources=[early], patient_id=patient.id)
    (order,) = orders(session)
    assert (order.status, order.received_on, order.lab) == (
        LabStatus.COLLECTED,
        None,
        "Northside Diagnostics",
    )
    final = lipid_report(meta={"versionId": "2"}, performer=[])
    ctx = map_resources(session=session, resources=[final], patient_id=patient.id)
    (after,) = orders(session)
    assert (after.id, after.status, after.lab) == (
        order.id,
        LabStatus.RECEIVED,
        "unknown laboratory",
    )
    assert outcomes(ctx, "lab_order") == {"updated": 1}


def test_panel_members_follow_the_report(session: Session) -> None:
    patient = factories.patient(session)
    panel: dict[str, Any] = {
        "resourceType": "Observation",
        "id": "obs-panel",
        "status": "final",
        "category": category("laboratory"),
        "code": {"coding": [{"system": LOINC, "code": "24331-1"}], "text": "Lipid panel"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-03-04",
        "hasMember": [{"reference": "Observation/obs-chol"}, {"reference": "Observation/obs-hdl"}],
    }
    members = [r for r in lipid_results() if r["id"] in {"obs-chol", "obs-hdl"}]
    for member in members:
        member["category"] = [{"text": "Chemistry"}]  # only the report says it is a lab test
        member["interpretation"] = [{"coding": [{"system": INTERPRETATION, "code": "H"}]}]
    report = lipid_report(result=[{"reference": "Observation/obs-panel"}])
    ctx = map_resources(session=session, resources=[report, panel, *members], patient_id=patient.id)
    (order,) = orders(session)
    assert [(r.order_id, r.code) for r in results(session)] == [
        (order.id, "2093-3"),
        (order.id, "2085-9"),
    ]
    assert ctx.tally.mapped["Observation"] == 3 and ctx.tally.skipped["Observation"] == 0


def test_non_laboratory_reports_are_skipped_with_a_reason(session: Session) -> None:
    patient = factories.patient(session)
    note = lipid_report(
        id="dr-note",
        category=[{"coding": [{"system": LOINC, "code": "34117-2"}]}],
        code={"coding": [{"system": LOINC, "code": "34117-2"}], "text": "History and physical"},
        presentedForm=[{"contentType": "text/plain", "data": "UGF0aWVudCBub3Rl"}],
        result=[],
    )
    in_error = lipid_report(id="dr-error", status="entered-in-error")
    ctx = map_resources(session=session, resources=[note, in_error], patient_id=patient.id)
    assert orders(session) == []
    assert ctx.tally.skipped["DiagnosticReport"] == 2
    assert [(p.field, p.message) for p in ctx.tally.problems] == [
        ("category", "not a laboratory report"),
        ("status", "entered in error: not imported"),
    ]


def test_report_without_category_is_a_lab_report_when_its_results_are(session: Session) -> None:
    patient = factories.patient(session)
    report = lipid_report(identifier=[order_number("PLAC", "P-1")])
    del report["category"]
    single = lab_observation(
        "obs-chol", loinc="2093-3", name="Cholesterol", value=212.0, unit="mg/dL"
    )
    report["result"] = [{"reference": "Observation/obs-chol"}]
    map_resources(session=session, resources=[report, single], patient_id=patient.id)
    (order,) = orders(session)
    assert order.placer_number == "P-1"


def test_results_imported_alone_move_into_the_report_that_comes_later(session: Session) -> None:
    patient = factories.patient(session)
    map_resources(session=session, resources=lipid_results(), patient_id=patient.id)
    assert len(orders(session)) == 4  # each result its own order, for now
    before = [r.id for r in results(session)]
    ctx = map_resources(
        session=session, resources=[lipid_report(), *lipid_results()], patient_id=patient.id
    )
    (order,) = orders(session)
    assert order.panel == "Lipid panel with direct LDL"
    assert [(r.id, r.order_id) for r in results(session)] == [(i, order.id) for i in before]
    assert outcomes(ctx, "lab_order") == {"created": 1, "deleted": 4}


def test_steve_export_order_status_stands_over_a_partial_report(session: Session) -> None:
    """Steve's export: an order still 'ordered' with a result, both numbers on the request."""
    patient = factories.patient(session)
    request = lab_request(
        identifier=[order_number("PLAC", "PL-1"), order_number("FILL", "FL-1")],
        extension=[{"url": "urn:steve:extension:status", "valueCode": "ordered"}],
    )
    report = lipid_report(
        status="partial",
        identifier=[],
        basedOn=[{"reference": "ServiceRequest/sr-lipids"}],
    )
    map_resources(
        session=session, resources=[request, report, *lipid_results()], patient_id=patient.id
    )
    (order,) = orders(session)
    assert (order.status, order.placer_number, order.filler_number) == (
        LabStatus.ORDERED,
        "PL-1",
        "FL-1",
    )
