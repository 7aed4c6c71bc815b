"""Condition -> patient_condition: name, clinical status, onset, codes, withdrawn records."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from sqlmodel import Session, select

from db.models import ConditionStatus, PatientCondition
from tests.support import factories
from tests.support.fhir_clinical import map_resources, outcomes, problem_text

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


def condition(**changes: Any) -> dict[str, Any]:
    """A Synthea-style Condition: SNOMED CT code with an ICD-10-CM coding beside it."""
    raw: dict[str, Any] = {
        "resourceType": "Condition",
        "id": "cond-1",
        "meta": {"versionId": "1"},
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "confirmed"}]},
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "encounter-diagnosis",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {
                    "system": "http://hl7.org/fhir/sid/icd-10-cm",
                    "code": "E11.9",
                    "display": "Type 2 diabetes mellitus without complications",
                },
                {
                    "system": "http://snomed.info/sct",
                    "code": "44054006",
                    "display": "Diabetes mellitus type 2",
                },
            ],
            "text": "Type 2 diabetes",
        },
        "subject": {"reference": "Patient/p1"},
        "onsetDateTime": "2019-03-14T09:30:00-05:00",
        "recordedDate": "2019-03-14T09:30:00-05:00",
    }
    raw.update(changes)
    return raw


def rows(session: Session) -> list[PatientCondition]:
    return list(session.exec(select(PatientCondition).order_by(PatientCondition.id)))


def test_condition_fields(session: Session) -> None:
    patient = factories.patient(session)
    ctx = map_resources(session=session, resources=[condition()], patient_id=patient.id)
    (row,) = rows(session)
    assert row.patient_id == patient.id
    assert row.name == "Type 2 diabetes"
    assert row.status == ConditionStatus.ACTIVE
    assert row.onset_on == date(2019, 3, 14)
    assert (row.code_system, row.code) == ("SNOMED CT", "44054006")
    assert outcomes(ctx, "patient_condition") == {"created": 1}
    assert ctx.tally.mapped["Condition"] == 1


def test_icd10_when_no_snomed_and_display_when_no_text(session: Session) -> None:
    patient = factories.patient(session)
    code = {
        "coding": [
            {"system": "http://example.org/local", "code": "X1", "display": "Local"},
            {"system": "http://hl7.org/fhir/sid/icd-10", "code": "J45", "display": "Asthma"},
        ]
    }
    map_resources(session=session, resources=[condition(code=code)], patient_id=patient.id)
    (row,) = rows(session)
    assert row.name == "Local"  # the first display, as a person reads the record
    assert (row.code_system, row.code) == ("ICD-10", "J45")


def test_clinical_status_and_abatement(session: Session) -> None:
    patient = factories.patient(session)
    resolved = condition(
        id="c-resolved",
        clinicalStatus={"coding": [{"system": CLINICAL, "code": "remission"}]},
    )
    relapse = condition(
        id="c-relapse", clinicalStatus={"coding": [{"system": CLINICAL, "code": "relapse"}]}
    )
    abated = condition(id="c-abated", abatementDateTime="2020-01-01")
    del abated["clinicalStatus"]
    bare = condition(id="c-bare")
    del bare["clinicalStatus"]
    period = condition(id="c-period", onsetPeriod={"start": "2015-06"})
    del period["onsetDateTime"]
    late = condition(id="c-late", onsetDateTime="2019-03-14T23:30:00-05:00")
    words = condition(id="c-words", onsetString="in childhood")
    del words["onsetDateTime"]
    map_resources(
        session=session,
        resources=[resolved, relapse, abated, bare, period, late, words],
        patient_id=patient.id,
    )
    found = {r.id: r for r in rows(session)}
    statuses = [r.status for r in found.values()]
    assert statuses[:4] == [
        ConditionStatus.RESOLVED,
        ConditionStatus.ACTIVE,
        ConditionStatus.RESOLVED,
        ConditionStatus.ACTIVE,
    ]
    onsets = [r.onset_on for r in found.values()]
    assert onsets[4:] == [date(2015, 6, 1), date(2019, 3, 14), None]  # the day as written


def test_reimport_unchanged_then_newer_version_updates_in_place(session: Session) -> None:
    patient = factories.patient(session)
    map_resources(session=session, resources=[condition()], patient_id=patient.id)
    again = map_resources(session=session, resources=[condition()], patient_id=patient.id)
    assert outcomes(again, "patient_condition") == {"unchanged": 1}
    newer = condition(
        meta={"versionId": "2"},
        clinicalStatus={"coding": [{"system": CLINICAL, "code": "resolved"}]},
        abatementDateTime="2023-02-01",
    )
    updated = map_resources(session=session, resources=[newer], patient_id=patient.id)
    assert outcomes(updated, "patient_condition") == {"updated": 1}
    (row,) = rows(session)
    assert row.status == ConditionStatus.RESOLVED


def test_entered_in_error_is_skipped_and_withdraws_the_earlier_row(session: Session) -> None:
    patient = factories.patient(session)
    map_resources(session=session, resources=[condition()], patient_id=patient.id)
    wrong = copy.deepcopy(condition(meta={"versionId": "2"}))
    wrong["verificationStatus"]["coding"][0]["code"] = "entered-in-error"
    ctx = map_resources(session=session, resources=[wrong], patient_id=patient.id)
    assert rows(session) == []
    assert outcomes(ctx, "patient_condition") == {"deleted": 1}
    assert ctx.tally.skipped["Condition"] == 1
    (problem,) = ctx.tally.problems
    assert problem.field == "verificationStatus"
    refuted = condition(
        id="c-refuted",
        verificationStatus={"coding": [{"system": VERIFICATION, "code": "refuted"}]},
    )
    ctx = map_resources(session=session, resources=[refuted], patient_id=patient.id)
    assert rows(session) == [] and ctx.tally.skipped["Condition"] == 1


def test_problems_name_the_field_never_the_value(session: Session) -> None:
    patient = factories.patient(session)
    nameless = condition(code={"coding": [{"system": "http://snomed.info/sct"}]})
    ctx = map_resources(session=session, resources=[nameless], patient_id=patient.id)
    (problem,) = ctx.tally.problems
    assert problem.field == "code"
    assert "diabetes" not in problem_text(ctx).casefold()
    no_patient = map_resources(session=session, resources=[condition()], patient_id=None)
    assert no_patient.tally.skipped["Condition"] == 1
    assert "diabetes" not in problem_text(no_patient).casefold()
