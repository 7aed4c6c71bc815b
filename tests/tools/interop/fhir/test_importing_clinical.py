"""A Synthea-style patient bundle through `import_fhir`: every clinical record lands where it
belongs, the lab order is one row for its request, report and results, and re-importing the
file changes nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from db.models import (
    LabFlag,
    LabOrder,
    LabResult,
    LabStatus,
    PatientAllergy,
    PatientCondition,
    PatientMedication,
    PatientObservation,
    Practitioner,
    Referral,
    ReferralStatus,
    SupplementItem,
    Urgency,
)
from tools.interop.fhir.importing import import_fhir


def test_clinical_bundle_end_to_end(engine: Engine, fixtures: Path) -> None:
    path = fixtures / "clinical_transaction.json"
    report = import_fhir(engine=engine, paths=[path])
    assert report.patients["written"] == 1 and report.invalid == {}
    assert [(p.resource_type, p.field, p.message) for p in report.problems] == [
        ("DiagnosticReport", "category", "not a laboratory report")
    ]
    assert report.tally.unmapped == {}
    with Session(engine) as session:
        conditions = session.exec(select(PatientCondition).order_by(PatientCondition.id)).all()
        assert [(c.name, c.status.value, c.code) for c in conditions] == [
            ("Prediabetes", "active", "714628002"),
            ("Essential hypertension (disorder)", "active", "59621000"),
            ("Acute bronchitis (disorder)", "resolved", "10509002"),
        ]
        (allergy,) = session.exec(select(PatientAllergy)).all()
        assert (allergy.substance, allergy.reaction) == ("Shellfish (substance)", "Wheal (finding)")
        (medication,) = session.exec(select(PatientMedication)).all()
        assert (medication.name, medication.code, medication.prescriber) == (
            "lisinopril 10 MG Oral Tablet",
            "314076",
            "Maria Lopez",
        )
        supplements = session.exec(select(SupplementItem).order_by(SupplementItem.id)).all()
        lopez = session.exec(select(Practitioner).where(Practitioner.name == "Maria Lopez")).one()
        assert [(s.product, s.dose, s.frequency, s.prescriber_id) for s in supplements] == [
            ("Vitamin D3 2000 IU softgel", "1 softgel", "daily with breakfast", lopez.id),
            ("Magnesium glycinate 200 mg", "200 mg", "twice daily", None),
        ]
        lipids, a1c = session.exec(select(LabOrder).order_by(LabOrder.id)).all()
        assert (lipids.panel, lipids.lab, lipids.ordered_by_id) == (
            "Lipid panel",
            "Northside Diagnostics",
            lopez.id,
        )
        assert (lipids.placer_number, lipids.filler_number) == ("ORD-20240301-17", "NSD-88120")
        assert (lipids.status, lipids.received_on) == (LabStatus.RECEIVED, date(2024, 3, 5))
        assert a1c.panel.startswith("Hemoglobin A1c")
        results = session.exec(select(LabResult).order_by(LabResult.id)).all()
        assert [r.order_id for r in results] == [lipids.id] * 4 + [a1c.id]
        assert [r.flag for r in results] == [
            LabFlag.HIGH,
            LabFlag.NORMAL,
            LabFlag.HIGH,
            LabFlag.NORMAL,
            LabFlag.HIGH,
        ]
        vitals = session.exec(select(PatientObservation).order_by(PatientObservation.id)).all()
        assert [(v.name, v.value) for v in vitals] == [
            ("Diastolic Blood Pressure", 84.0),
            ("Systolic Blood Pressure", 134.0),
            ("Body mass index (BMI) [Ratio]", 31.2),
        ]
        (referral,) = session.exec(select(Referral)).all()
        assert referral.reason == "Essential hypertension (disorder)"
        assert (referral.status, referral.urgency) == (ReferralStatus.SENT, Urgency.SOON)
        brandt = session.get(Practitioner, referral.to_practitioner_id)
        assert brandt is not None and brandt.name == "Jonas Brandt"
    again = import_fhir(engine=engine, paths=[path])
    assert again.tally.changed() == 0
    with Session(engine) as session:
        assert len(session.exec(select(LabOrder)).all()) == 2
