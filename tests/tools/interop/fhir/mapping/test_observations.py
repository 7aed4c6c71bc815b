"""Observation -> lab_result (with its order) or patient_observation (vital signs and others)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, select

from db.models import LabFlag, LabOrder, LabResult, LabStatus, PatientObservation, ResultStatus
from tests.support import factories
from tests.support.fhir_clinical import map_resources, outcomes, problem_text
from tests.support.fhir_labs import (
    INTERPRETATION,
    LOINC,
    UCUM,
    category,
    lab_observation,
    lab_request,
    laboratory,
)


def potassium(**changes: Any) -> dict[str, Any]:
    raw = lab_observation(
        "obs-k",
        loinc="2823-3",
        name="Potassium [Moles/volume] in Serum or Plasma",
        value=5.4,
        unit="mmol/L",
        referenceRange=[
            {
                "low": {"value": 3.5, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"},
                "high": {"value": 5.1, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"},
            }
        ],
        interpretation=[{"coding": [{"system": INTERPRETATION, "code": "H"}]}],
        performer=[{"display": "Northside Diagnostics"}],
    )
    raw.update(changes)
    return raw


def blood_pressure(**changes: Any) -> dict[str, Any]:
    def part(code: str, name: str, value: float) -> dict[str, Any]:
        return {
            "code": {"coding": [{"system": LOINC, "code": code, "display": name}], "text": name},
            "valueQuantity": {"value": value, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"},
        }

    raw: dict[str, Any] = {
        "resourceType": "Observation",
        "id": "obs-bp",
        "meta": {"versionId": "1"},
        "status": "final",
        "category": category("vital-signs"),
        "code": {"coding": [{"system": LOINC, "code": "85354-9"}], "text": "Blood pressure panel"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-03-04T09:12:00+01:00",
        "component": [
            part("8480-6", "Systolic blood pressure", 128),
            part("8462-4", "Diastolic blood pressure", 82),
        ],
    }
    raw.update(changes)
    return raw


def lab_rows(session: Session) -> list[LabResult]:
    return list(session.exec(select(LabResult).order_by(LabResult.id)))


def other_rows(session: Session) -> list[PatientObservation]:
    return list(session.exec(select(PatientObservation).order_by(PatientObservation.id)))


def test_lab_result_fields_and_its_own_order(session: Session) -> None:
    physician = factories.practitioner(session)
    patient = factories.patient(session, physician=physician)
    ctx = map_resources(session=session, resources=[potassium()], patient_id=patient.id)
    (row,) = lab_rows(session)
    assert row.analyte == "Potassium [Moles/volume] in Serum or Plasma"
    assert (row.value, row.value_text, row.unit) == (5.4, None, "mmol/L")
    assert (row.ref_low, row.ref_high, row.ref_text) == (3.5, 5.1, None)
    assert row.flag == LabFlag.HIGH
    assert (row.code_system, row.code) == ("LOINC", "2823-3")
    assert row.status == ResultStatus.FINAL
    assert row.resulted_on == date(2024, 3, 4)
    assert row.issued_at is not None
    assert row.issued_at.replace(tzinfo=UTC) == datetime(2024, 3, 5, 14, 30, tzinfo=UTC)
    assert row.previous_value is None
    order = session.get(LabOrder, row.order_id)
    assert order is not None
    assert (order.panel, order.lab, order.ordered_by_id) == (
        "Potassium [Moles/volume] in Serum or Plasma",
        "Northside Diagnostics",
        physician.id,
    )
    assert (order.status, order.received_on) == (LabStatus.RECEIVED, date(2024, 3, 5))
    assert outcomes(ctx, "lab_order") == {"created": 1}
    assert outcomes(ctx, "lab_result") == {"created": 1}


def test_interpretation_codes_and_the_range_when_there_is_none(session: Session) -> None:
    patient = factories.patient(session)

    def coded(obs_id: str, code: str | None, value: float) -> dict[str, Any]:
        interpretation = [{"coding": [{"system": INTERPRETATION, "code": code}]}] if code else []
        return potassium(
            id=obs_id,
            valueQuantity={"value": value, "unit": "mmol/L"},
            interpretation=interpretation,
        )

    cases = [
        coded("k-hh", "HH", 7.0),
        coded("k-ll", "LL", 2.1),
        coded("k-aa", "AA", 4.0),
        coded("k-lu", "LU", 3.4),
        coded("k-a", "A", 4.0),
        coded("k-n", "N", 4.0),
        coded("k-low", None, 3.0),
        coded("k-high", None, 6.0),
        coded("k-in", None, 4.2),
    ]
    map_resources(session=session, resources=cases, patient_id=patient.id)
    assert [r.flag for r in lab_rows(session)] == [
        LabFlag.CRITICAL,
        LabFlag.CRITICAL,
        LabFlag.CRITICAL,
        LabFlag.LOW,
        LabFlag.ABNORMAL,
        LabFlag.NORMAL,
        LabFlag.LOW,
        LabFlag.HIGH,
        LabFlag.NORMAL,
    ]


def test_values_in_words(session: Session) -> None:
    patient = factories.patient(session)
    less = potassium(
        id="crp", valueQuantity={"value": 0.5, "comparator": "<", "unit": "mg/L"}, interpretation=[]
    )
    words = potassium(id="culture", valueString="No growth after 48 hours")
    del words["valueQuantity"]
    concept = potassium(
        id="hbsag",
        valueCodeableConcept={
            "coding": [{"system": "http://snomed.info/sct", "code": "260385009"}],
            "text": "Negative",
        },
        referenceRange=[{"text": "Negative"}],
    )
    del concept["valueQuantity"]
    map_resources(session=session, resources=[less, words, concept], patient_id=patient.id)
    shown = [(r.value, r.value_text, r.unit, r.ref_text) for r in lab_rows(session)]
    assert shown == [
        (0.5, "<0.5", "mg/L", None),
        (None, "No growth after 48 hours", None, None),
        (None, "Negative", None, "Negative"),
    ]


def test_corrected_result_keeps_the_value_it_replaced(session: Session) -> None:
    patient = factories.patient(session)
    map_resources(session=session, resources=[potassium()], patient_id=patient.id)
    (first,) = lab_rows(session)
    corrected = potassium(
        meta={"versionId": "2"},
        status="amended",
        valueQuantity={"value": 4.6, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"},
        interpretation=[{"coding": [{"system": INTERPRETATION, "code": "N"}]}],
    )
    ctx = map_resources(session=session, resources=[corrected], patient_id=patient.id)
    (row,) = lab_rows(session)
    assert row.id == first.id
    assert (row.value, row.status, row.flag) == (4.6, ResultStatus.CORRECTED, LabFlag.NORMAL)
    assert row.previous_value == "5.4 mmol/L"
    assert outcomes(ctx, "lab_result") == {"updated": 1}
    assert outcomes(ctx, "lab_order") == {"updated": 1}  # the same order, from the new version
    again = map_resources(session=session, resources=[corrected], patient_id=patient.id)
    assert outcomes(again, "lab_result") == {"unchanged": 1}
    stale = map_resources(session=session, resources=[potassium()], patient_id=patient.id)
    assert outcomes(stale, "lab_result") == {"stale": 1}
    (kept,) = lab_rows(session)
    assert (kept.value, kept.previous_value) == (4.6, "5.4 mmol/L")


def test_result_of_a_request_goes_into_its_order(session: Session) -> None:
    patient = factories.patient(session)
    result = potassium(basedOn=[{"reference": "ServiceRequest/sr-lipids"}])
    resources = [laboratory(), lab_request(), result]
    map_resources(session=session, resources=resources, patient_id=patient.id)
    (order,) = session.exec(select(LabOrder)).all()
    (row,) = lab_rows(session)
    assert row.order_id == order.id and order.placer_number == "ORD-5521"


def test_vital_signs_with_components_one_row_each(session: Session) -> None:
    patient = factories.patient(session)
    heart_rate: dict[str, Any] = {
        "resourceType": "Observation",
        "id": "obs-hr",
        "status": "final",
        "category": category("vital-signs"),
        "code": {"coding": [{"system": LOINC, "code": "8867-4", "display": "Heart rate"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-03-04T09:12:00+01:00",
        "valueQuantity": {"value": 72, "unit": "/min", "system": UCUM, "code": "/min"},
    }
    smoking: dict[str, Any] = {
        "resourceType": "Observation",
        "id": "obs-smoke",
        "status": "final",
        "category": category("social-history"),
        "code": {
            "coding": [{"system": LOINC, "code": "72166-2"}],
            "text": "Tobacco smoking status",
        },
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-03-04",
        "valueCodeableConcept": {
            "coding": [
                {
                    "system": "http://snomed.info/sct",
                    "code": "266919005",
                    "display": "Never smoked tobacco",
                }
            ]
        },
    }
    resources = [blood_pressure(), heart_rate, smoking]
    ctx = map_resources(session=session, resources=resources, patient_id=patient.id)
    rows = [
        (r.category, r.name, r.code, r.value, r.value_text, r.unit) for r in other_rows(session)
    ]
    assert rows == [
        ("vital-signs", "Systolic blood pressure", "8480-6", 128.0, None, "mm[Hg]"),
        ("vital-signs", "Diastolic blood pressure", "8462-4", 82.0, None, "mm[Hg]"),
        ("vital-signs", "Heart rate", "8867-4", 72.0, None, "/min"),
        ("social-history", "Tobacco smoking status", "72166-2", None, "Never smoked tobacco", None),
    ]
    first = other_rows(session)[0]
    assert first.observed_at is not None
    assert first.observed_at.replace(tzinfo=UTC) == datetime(2024, 3, 4, 8, 12, tzinfo=UTC)
    assert outcomes(ctx, "patient_observation") == {"created": 4}
    assert lab_rows(session) == []
    again = map_resources(session=session, resources=resources, patient_id=patient.id)
    assert outcomes(again, "patient_observation") == {"unchanged": 4}
    only_systolic = blood_pressure(meta={"versionId": "2"})
    only_systolic["component"] = only_systolic["component"][:1]
    only_systolic["component"][0]["valueQuantity"]["value"] = 131
    changed = map_resources(session=session, resources=[only_systolic], patient_id=patient.id)
    assert outcomes(changed, "patient_observation") == {"updated": 1, "deleted": 1}
    systolic = other_rows(session)[0]
    assert (systolic.id, systolic.value) == (first.id, 131.0)


def test_panels_without_values_and_observations_without_a_value(session: Session) -> None:
    patient = factories.patient(session)
    panel = blood_pressure(id="obs-panel", component=[], hasMember=[{"reference": "Observation/x"}])
    empty = blood_pressure(id="obs-empty", component=[])
    ctx = map_resources(session=session, resources=[panel, empty], patient_id=patient.id)
    assert other_rows(session) == []
    assert ctx.tally.mapped["Observation"] == 1 and ctx.tally.skipped["Observation"] == 1
    assert [p.field for p in ctx.tally.problems] == ["value[x]"]


def test_entered_in_error_withdraws_the_result_and_its_order(session: Session) -> None:
    patient = factories.patient(session)
    map_resources(session=session, resources=[potassium()], patient_id=patient.id)
    wrong = potassium(meta={"versionId": "2"}, status="entered-in-error")
    ctx = map_resources(session=session, resources=[wrong], patient_id=patient.id)
    assert lab_rows(session) == []
    assert session.exec(select(LabOrder)).all() == []
    assert outcomes(ctx, "lab_result") == {"deleted": 1}
    assert "5.4" not in problem_text(ctx) and "otassium" not in problem_text(ctx)


def test_a_result_with_no_date_and_no_order_is_skipped(session: Session) -> None:
    patient = factories.patient(session)
    undated = potassium()
    del undated["effectiveDateTime"], undated["issued"]
    ctx = map_resources(session=session, resources=[undated], patient_id=patient.id)
    assert lab_rows(session) == []
    assert [p.field for p in ctx.tally.problems] == ["effective[x]"]
