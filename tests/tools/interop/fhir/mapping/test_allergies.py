"""AllergyIntolerance -> patient_allergy: substance, reactions, severity, withdrawn records."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from db.models import PatientAllergy
from tests.support import factories
from tests.support.fhir_clinical import map_resources, outcomes, problem_text

CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"


def allergy(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": "al-1",
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "confirmed"}]},
        "type": "allergy",
        "category": ["food"],
        "criticality": "high",
        "code": {
            "coding": [
                {
                    "system": "http://snomed.info/sct",
                    "code": "91935009",
                    "display": "Allergy to peanuts",
                }
            ],
            "text": "Peanuts",
        },
        "patient": {"reference": "Patient/p1"},
        "reaction": [
            {
                "manifestation": [
                    {
                        "coding": [{"system": "http://snomed.info/sct", "code": "247472004"}],
                        "text": "Hives",
                    },
                    {
                        "coding": [
                            {
                                "system": "http://snomed.info/sct",
                                "code": "56018004",
                                "display": "Wheezing",
                            }
                        ]
                    },
                ],
                "severity": "moderate",
            },
            {"manifestation": [{"text": "Anaphylaxis"}], "severity": "severe"},
        ],
    }
    raw.update(changes)
    return raw


def rows(session: Session) -> list[PatientAllergy]:
    return list(session.exec(select(PatientAllergy).order_by(PatientAllergy.id)))


def test_allergy_fields(session: Session) -> None:
    patient = factories.patient(session)
    ctx = map_resources(session=session, resources=[allergy()], patient_id=patient.id)
    (row,) = rows(session)
    assert (row.patient_id, row.substance) == (patient.id, "Peanuts")
    assert row.reaction == "Hives; Wheezing; Anaphylaxis"
    assert row.severity == "severe"  # the worst reaction
    assert (row.code_system, row.code) == ("SNOMED CT", "91935009")
    assert outcomes(ctx, "patient_allergy") == {"created": 1}


def test_criticality_when_no_reaction_severity_and_substance_from_reaction(
    session: Session,
) -> None:
    patient = factories.patient(session)
    raw = allergy(reaction=[{"substance": {"text": "Penicillin"}, "manifestation": []}])
    del raw["code"]
    map_resources(session=session, resources=[raw], patient_id=patient.id)
    (row,) = rows(session)
    assert (row.substance, row.reaction, row.severity) == ("Penicillin", None, "high criticality")


def test_reimport_unchanged_and_newer_version_updates(session: Session) -> None:
    patient = factories.patient(session)
    map_resources(session=session, resources=[allergy()], patient_id=patient.id)
    again = map_resources(session=session, resources=[allergy()], patient_id=patient.id)
    assert outcomes(again, "patient_allergy") == {"unchanged": 1}
    newer = allergy(reaction=[{"manifestation": [{"text": "Rash"}], "severity": "mild"}])
    updated = map_resources(session=session, resources=[newer], patient_id=patient.id)
    assert outcomes(updated, "patient_allergy") == {"updated": 1}
    (row,) = rows(session)
    assert (row.reaction, row.severity) == ("Rash", "mild")


def test_resolved_or_refuted_allergies_are_not_kept(session: Session) -> None:
    patient = factories.patient(session)
    map_resources(session=session, resources=[allergy()], patient_id=patient.id)
    resolved = allergy(clinicalStatus={"coding": [{"system": CLINICAL, "code": "resolved"}]})
    ctx = map_resources(session=session, resources=[resolved], patient_id=patient.id)
    assert rows(session) == []
    assert outcomes(ctx, "patient_allergy") == {"deleted": 1}
    refuted = allergy(
        id="al-2", verificationStatus={"coding": [{"system": VERIFICATION, "code": "refuted"}]}
    )
    ctx = map_resources(session=session, resources=[refuted], patient_id=patient.id)
    assert rows(session) == []
    assert [p.field for p in ctx.tally.problems] == ["verificationStatus"]


def test_problem_names_field_not_value(session: Session) -> None:
    patient = factories.patient(session)
    raw = allergy(code={"text": " "}, reaction=[])
    ctx = map_resources(session=session, resources=[raw], patient_id=patient.id)
    assert [p.field for p in ctx.tally.problems] == ["code"]
    assert ctx.tally.skipped["AllergyIntolerance"] == 1
    assert "peanut" not in problem_text(ctx).casefold()


def test_steve_export_severity_words(session: Session) -> None:
    patient = factories.patient(session)
    raw = allergy(
        extension=[{"url": "urn:steve:extension:severity", "valueString": "life-threatening"}]
    )
    map_resources(session=session, resources=[raw], patient_id=patient.id)
    (row,) = rows(session)
    assert row.severity == "life-threatening"
