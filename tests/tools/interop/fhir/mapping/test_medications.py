"""MedicationRequest / MedicationStatement -> medications, and supplements recognised as such."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, select

from db.models import PatientMedication, SupplementItem, SupplementStatus
from tests.support import factories
from tests.support.fhir_clinical import (
    known_practitioner,
    map_resources,
    outcomes,
    problem_text,
)
from tools.interop.fhir.mapping.medications import named_supplement

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"


def practitioner_resource() -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": "pr-1",
        "name": [{"family": "Okafor", "given": ["Grace"], "prefix": ["Dr."]}],
    }


def metformin_request(**changes: Any) -> dict[str, Any]:
    """Synthea-style: RxNorm code, structured timing, a dose without a unit."""
    raw: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": "mr-1",
        "meta": {"versionId": "1"},
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": RXNORM,
                    "code": "860975",
                    "display": "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet",
                }
            ],
            "text": "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet",
        },
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2021-04-02T10:15:00-04:00",
        "requester": {"reference": "Practitioner/pr-1", "display": "Dr. Grace Okafor"},
        "dosageInstruction": [
            {
                "sequence": 1,
                "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
                "asNeededBoolean": False,
                "doseAndRate": [{"doseQuantity": {"value": 1}}],
            }
        ],
    }
    raw.update(changes)
    return raw


def statement(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": "ms-1",
        "status": "active",
        "medicationCodeableConcept": {"text": "Magnesium glycinate 400 mg capsule"},
        "subject": {"reference": "Patient/p1"},
        "effectivePeriod": {"start": "2024-01-10"},
        "dateAsserted": "2024-01-12",
        "informationSource": {"reference": "Patient/p1"},
        "dosage": [{"text": "400 mg twice daily with food"}],
    }
    raw.update(changes)
    return raw


def medications(session: Session) -> list[PatientMedication]:
    return list(session.exec(select(PatientMedication).order_by(PatientMedication.id)))


def supplements(session: Session) -> list[SupplementItem]:
    return list(session.exec(select(SupplementItem).order_by(SupplementItem.id)))


def test_prescription_fields(session: Session) -> None:
    patient = factories.patient(session)
    resources = [practitioner_resource(), metformin_request()]
    ctx = map_resources(session=session, resources=resources[1:], patient_id=patient.id)
    (row,) = medications(session)
    assert row.name.startswith("24 HR Metformin")
    assert (row.code_system, row.code) == ("RxNorm", "860975")
    assert (row.dose, row.frequency) == ("1", "twice daily")
    assert (row.started_on, row.stopped_on) == (date(2021, 4, 2), None)
    assert row.prescriber == "Dr. Grace Okafor"  # the reference's display
    assert supplements(session) == []
    assert outcomes(ctx, "patient_medication") == {"created": 1}


def test_prescriber_from_the_practitioner_resource_never_the_patient(session: Session) -> None:
    patient = factories.patient(session)
    request = metformin_request(requester={"reference": "Practitioner/pr-1"})
    map_resources(
        session=session, resources=[practitioner_resource(), request], patient_id=patient.id
    )
    own = statement(medicationCodeableConcept={"text": "Lisinopril 10 MG Oral Tablet"})
    own["informationSource"] = {"reference": "Patient/p1", "display": "The patient"}
    map_resources(session=session, resources=[own], patient_id=patient.id)
    prescribed, reported = medications(session)
    assert prescribed.prescriber == "Grace Okafor"
    assert reported.prescriber is None
    assert (reported.dose, reported.frequency) == ("400 mg", "twice daily with food")


def test_stopped_dates(session: Session) -> None:
    patient = factories.patient(session)
    stopped = metformin_request(status="stopped")
    completed = statement(
        id="ms-2",
        status="completed",
        medicationCodeableConcept={
            "coding": [{"system": RXNORM, "code": "314076", "display": "lisinopril 10 MG"}]
        },
        effectivePeriod={"start": "2020-01-01", "end": "2020-06-30"},
    )
    map_resources(session=session, resources=[stopped, completed], patient_id=patient.id)
    statement_row, request_row = medications(session)  # statements are mapped first
    assert request_row.stopped_on == date(2021, 4, 2)  # authoredOn: no end given
    assert (statement_row.started_on, statement_row.stopped_on) == (
        date(2020, 1, 1),
        date(2020, 6, 30),
    )


def test_steve_export_supplement_convention(session: Session) -> None:
    patient = factories.patient(session)
    clinician = known_practitioner(session, resource_id="practitioner-3")
    raw = statement(
        id="supplement-item-7",
        identifier=[{"system": "urn:steve:supplement_item", "value": "7"}],
        category={
            "coding": [
                {"system": "urn:steve:category", "code": "dietary-supplement"},
                {"system": SNOMED, "code": "373453009", "display": "Dietary supplement"},
            ]
        },
        medicationCodeableConcept={"text": "Gut Restore Complex"},
        informationSource={"reference": "Practitioner/practitioner-3"},
        extension=[
            {"url": "urn:steve:extension:supplier", "valueString": "Pure Encapsulations"},
            {"url": "urn:steve:extension:quantity-on-hand", "valueInteger": 30},
            {"url": "urn:steve:extension:reorder-on", "valueDate": "2024-02-09"},
        ],
        dosage=[
            {
                "extension": [{"url": "urn:steve:extension:dose", "valueString": "2 capsules"}],
                "text": "2 capsules twice daily before meals",
                "timing": {"code": {"text": "twice daily before meals"}},
            }
        ],
    )
    ctx = map_resources(session=session, resources=[raw], patient_id=patient.id)
    (row,) = supplements(session)
    assert (row.product, row.dose, row.frequency) == (
        "Gut Restore Complex",
        "2 capsules",
        "twice daily before meals",
    )
    assert (row.started_on, row.stopped_on, row.status) == (
        date(2024, 1, 10),
        None,
        SupplementStatus.ACTIVE,
    )
    assert row.prescriber_id == clinician.id
    assert (row.supplier, row.quantity_on_hand, row.reorder_on) == (
        "Pure Encapsulations",
        30,
        date(2024, 2, 9),
    )
    assert medications(session) == [] and ctx.tally.problems == []


@pytest.mark.parametrize(
    ("changes", "supplement"),
    [
        ({"category": {"coding": [{"system": SNOMED, "code": "373453009"}]}}, True),
        ({"category": {"text": "Nutritional supplement"}}, True),
        ({"medicationCodeableConcept": {"text": "Vitamin D3 2000 IU softgel"}}, True),
        ({"medicationCodeableConcept": {"text": "Omega-3 fish oil 1 g"}}, True),
        ({"medicationCodeableConcept": {"text": "Vitamin B12 1000 mcg/mL injection"}}, False),
        ({"medicationCodeableConcept": {"text": "Magnesium hydroxide suspension"}}, False),
        ({"medicationCodeableConcept": {"text": "Atorvastatin 20 MG Oral Tablet"}}, False),
        (
            {
                "identifier": [{"system": "urn:steve:patient_medication", "value": "4"}],
                "medicationCodeableConcept": {"text": "Vitamin D3 50,000 IU"},
            },
            False,
        ),
    ],
)
def test_which_records_are_supplements(
    session: Session, changes: dict[str, Any], supplement: bool
) -> None:
    patient = factories.patient(session)
    map_resources(session=session, resources=[statement(**changes)], patient_id=patient.id)
    assert (len(supplements(session)), len(medications(session))) == (
        (1, 0) if supplement else (0, 1)
    )


def test_contained_medication_with_supplement_form(session: Session) -> None:
    patient = factories.patient(session)
    raw = metformin_request(
        contained=[
            {
                "resourceType": "Medication",
                "id": "med",
                "code": {"text": "Adrenal Support Blend"},
                "form": {"coding": [{"system": SNOMED, "code": "373453009"}]},
            }
        ],
        medicationReference={"reference": "#med"},
        requester={"reference": "Practitioner/pr-x"},
    )
    del raw["medicationCodeableConcept"]
    map_resources(session=session, resources=[raw], patient_id=patient.id)
    (row,) = supplements(session)
    assert (row.product, row.dose, row.frequency) == ("Adrenal Support Blend", "1", "twice daily")
    assert row.started_on == date(2021, 4, 2) and row.prescriber_id is None


def test_referenced_medication_gives_name_and_code(session: Session) -> None:
    patient = factories.patient(session)
    medication = {
        "resourceType": "Medication",
        "id": "med-1",
        "code": {
            "coding": [
                {
                    "system": "https://dmd.nhs.uk",
                    "code": "39720311000001101",
                    "display": "Sertraline 50mg tablets",
                }
            ]
        },
    }
    raw = statement(medicationReference={"reference": "Medication/med-1"})
    del raw["medicationCodeableConcept"]
    ctx = map_resources(session=session, resources=[medication, raw], patient_id=patient.id)
    assert ctx.tally.mapped["Medication"] == 1 and ctx.tally.unmapped == {}
    (row,) = medications(session)
    assert (row.name, row.code_system, row.code) == (
        "Sertraline 50mg tablets",
        "dm+d",
        "39720311000001101",
    )


def test_supplement_defaults_are_reported_without_values(session: Session) -> None:
    patient = factories.patient(session)
    raw = statement(medicationCodeableConcept={"text": "Ashwagandha root extract"})
    del raw["dosage"]
    ctx = map_resources(session=session, resources=[raw], patient_id=patient.id)
    (row,) = supplements(session)
    assert (row.dose, row.frequency) == ("as directed", "as directed")
    assert sorted(p.field or "" for p in ctx.tally.problems) == ["dose", "frequency"]
    assert "ashwagandha" not in problem_text(ctx).casefold()
    assert ctx.tally.mapped["MedicationStatement"] == 1


def test_reimport_unchanged_update_in_place_and_switch_of_table(session: Session) -> None:
    patient = factories.patient(session)
    first = statement(medicationCodeableConcept={"text": "Gut Restore Complex"})
    map_resources(session=session, resources=[first], patient_id=patient.id)
    again = map_resources(session=session, resources=[first], patient_id=patient.id)
    assert outcomes(again, "patient_medication") == {"unchanged": 1}
    (before,) = medications(session)
    dose_changed = statement(
        medicationCodeableConcept={"text": "Gut Restore Complex"},
        dosage=[{"text": "1 capsule daily"}],
    )
    changed = map_resources(session=session, resources=[dose_changed], patient_id=patient.id)
    assert outcomes(changed, "patient_medication") == {"updated": 1}
    (after,) = medications(session)
    assert (after.id, after.dose, after.frequency) == (before.id, "1 capsule", "daily")
    marked = statement(
        medicationCodeableConcept={"text": "Gut Restore Complex"},
        category={"text": "Dietary supplement"},
        status="stopped",
        effectivePeriod={"start": "2024-01-10", "end": "2024-03-01"},
    )
    moved = map_resources(session=session, resources=[marked], patient_id=patient.id)
    assert medications(session) == []
    (row,) = supplements(session)
    assert (row.status, row.stopped_on) == (SupplementStatus.STOPPED, date(2024, 3, 1))
    assert outcomes(moved, "patient_medication") == {"deleted": 1}
    assert outcomes(moved, "supplement_item") == {"created": 1}


def test_not_taken_or_in_error_is_skipped(session: Session) -> None:
    patient = factories.patient(session)
    map_resources(session=session, resources=[metformin_request()], patient_id=patient.id)
    wrong = metformin_request(status="entered-in-error", meta={"versionId": "2"})
    ctx = map_resources(session=session, resources=[wrong], patient_id=patient.id)
    assert medications(session) == []
    assert [p.field for p in ctx.tally.problems] == ["status"]
    skipped = map_resources(
        session=session, resources=[statement(status="not-taken")], patient_id=patient.id
    )
    assert skipped.tally.skipped["MedicationStatement"] == 1 and supplements(session) == []


def test_named_supplement_vocabulary() -> None:
    assert named_supplement("L-Glutamine powder 5 g")
    assert named_supplement("Berberine HCl 500 mg")
    assert not named_supplement("Zinc oxide 20% paste")
    assert not named_supplement("Glutamate test")  # whole words only
