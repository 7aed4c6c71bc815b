"""Imported patients are first-class: a patient who came in from an EHR's FHIR export is
briefed from the imported records, and every sentence of the briefing cites one of them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, select

from agent.briefing.graph import run_briefing
from agent.briefing.state import BriefingContext
from agent.documents.verify import split_sentences
from db.models import Appointment, Discipline, Patient, RecordSource
from tests.support import factories
from tools.citations import find_refs
from tools.clock import at_local
from tools.interop.fhir.importing import import_fhir

TZ = ZoneInfo("Europe/London")
DAY = date(2026, 3, 2)
EHR = "https://ehr.example.org/fhir"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
# Steve's reference kinds and the tables they cite.
TABLE_OF_REF = {
    "patient": "patient",
    "lab": "lab_order",
    "result": "lab_result",
    "appointment": "appointment",
    "note": "clinical_note",
    "supplement": "supplement_item",
    "medication": "patient_medication",
    "allergy": "patient_allergy",
    "element": "programme_element",
    "message": "care_message",
    "referral": "referral",
    "intake": "intake_form",
    "condition": "patient_condition",
}


def _lab(oid: str, code: str, name: str, value: float, flag: str, low: float, high: float) -> dict:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": LOINC, "code": code, "display": name}], "text": name},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2026-02-20T08:00:00Z",
        "issued": "2026-02-21T10:00:00Z",
        "valueQuantity": {"value": value, "unit": "mg/dL", "system": "http://unitsofmeasure.org"},
        "referenceRange": [{"low": {"value": low}, "high": {"value": high}}],
        "interpretation": [{"coding": [{"system": INTERPRETATION, "code": flag}]}],
    }


def _export(physician_name: str) -> dict:
    """A small EHR export: the patient, their physician (one of the practice's own), a
    condition, a medication, a supplement, an allergy, a lab report with a high result,
    and today's appointment."""
    resources = [
        {
            "resourceType": "Practitioner",
            "id": "dr1",
            "name": [{"text": physician_name}],
        },
        {
            "resourceType": "Patient",
            "id": "p1",
            "identifier": [{"system": "http://hospital.example.org/mrn", "value": "MRN-55"}],
            "name": [{"family": "Okafor", "given": ["Chiamaka"]}],
            "gender": "female",
            "birthDate": "1979-04-11",
            "generalPractitioner": [{"reference": "Practitioner/dr1"}],
        },
        {
            "resourceType": "Condition",
            "id": "c1",
            "clinicalStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": "active",
                    }
                ]
            },
            "code": {"coding": [{"system": SNOMED, "code": "10743008", "display": "IBS"}]},
            "subject": {"reference": "Patient/p1"},
            "onsetDateTime": "2024-05-01",
        },
        {
            "resourceType": "MedicationStatement",
            "id": "m1",
            "status": "active",
            "medicationCodeableConcept": {"text": "Mebeverine 135 mg tablet"},
            "subject": {"reference": "Patient/p1"},
            "effectivePeriod": {"start": "2025-11-01"},
            "dosage": [{"text": "135 mg three times daily"}],
        },
        {
            "resourceType": "MedicationStatement",
            "id": "s1",
            "status": "active",
            "medicationCodeableConcept": {"text": "Magnesium glycinate 400 mg capsule"},
            "subject": {"reference": "Patient/p1"},
            "effectivePeriod": {"start": "2026-01-10"},
            "dosage": [{"text": "400 mg at night"}],
        },
        {
            "resourceType": "AllergyIntolerance",
            "id": "a1",
            "code": {"text": "Penicillin"},
            "patient": {"reference": "Patient/p1"},
            "reaction": [{"manifestation": [{"text": "Rash"}]}],
        },
        {
            "resourceType": "DiagnosticReport",
            "id": "r1",
            "status": "final",
            "category": [
                {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}
                    ]
                }
            ],
            "code": {"text": "Lipid panel"},
            "subject": {"reference": "Patient/p1"},
            "issued": "2026-02-21T10:00:00Z",
            "result": [{"reference": "Observation/o1"}, {"reference": "Observation/o2"}],
        },
        _lab("o1", "2093-3", "Cholesterol", 262, "H", 0, 200),
        _lab("o2", "2085-9", "HDL cholesterol", 55, "N", 40, 90),
        {
            "resourceType": "Appointment",
            "id": "ap1",
            "status": "booked",
            "serviceType": [{"text": "Follow-up consultation"}],
            "start": "2026-03-02T09:00:00Z",
            "end": "2026-03-02T09:30:00Z",
            "participant": [
                {"actor": {"reference": "Patient/p1"}, "status": "accepted"},
                {"actor": {"reference": "Practitioner/dr1"}, "status": "accepted"},
            ],
        },
    ]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"{EHR}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources
        ],
    }


def test_every_sentence_of_an_imported_patients_briefing_cites_an_imported_record(
    engine: Engine, tmp_path: Path
) -> None:
    with Session(engine) as session:
        physician = factories.practitioner(
            session, name="Dr Helena Marsh", discipline=Discipline.PHYSICIAN
        )
        session.commit()
        physician_id = physician.id
    path = tmp_path / "export.json"
    path.write_text(json.dumps(_export("Helena Marsh")), encoding="utf-8")
    report = import_fhir(engine=engine, paths=[path])
    assert not report.tally.unmapped, report.summary()
    assert report.patients["written"] == 1

    with Session(engine) as session:
        patient = session.exec(select(Patient)).one()
        assert patient.primary_physician_id == physician_id  # matched to the practice's own
        appointment = session.exec(select(Appointment)).one()
        assert appointment.practitioner_id == physician_id
        imported = {(s.table_name, s.row_id) for s in session.exec(select(RecordSource))}
        briefing = run_briefing(
            context=BriefingContext(session=session, tz=TZ),
            patient_id=patient.id or 0,
            physician_id=physician_id or 0,
            now=at_local(DAY, time(7), TZ).astimezone(UTC),
            appointment_id=appointment.id,
        )

    sentences = [
        s
        for line in briefing.body.splitlines()
        if line.strip() and not line.startswith("#")
        for s in split_sentences(line.lstrip("- "))
    ]
    assert len(sentences) >= 5  # the condition, medication, supplement, allergy, results...
    cited_kinds = set()
    for sentence in sentences:
        refs = find_refs(sentence)
        assert refs, sentence
        for ref in refs:
            kind, _, value = ref.partition(":")
            cited_kinds.add(kind)
            assert kind in TABLE_OF_REF, ref
            assert (TABLE_OF_REF[kind], int(value)) in imported, ref
    assert {"result", "supplement", "medication"} <= cited_kinds
    assert "Cholesterol" in briefing.body and "262" in briefing.body
    assert datetime(2026, 3, 2, tzinfo=UTC).date() == DAY
