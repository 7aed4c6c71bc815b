"""A demo practice with every table the FHIR export writes filled in, for the export tests.

The seeded demo has no rows in the interop tables (identifiers, provenance, vital signs,
stored documents) nor codes, a deceased patient or intake answers: `enrich` adds a few of
each to the first patients, so an export of it touches every table and field it maps.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from db.models import (
    Affiliation,
    Discipline,
    GeneratedDocument,
    IntakeForm,
    LabOrder,
    LabResult,
    Patient,
    PatientAllergy,
    PatientCondition,
    PatientDocument,
    PatientIdentifier,
    PatientMedication,
    PatientObservation,
    Practitioner,
    RecordSource,
    SupplementItem,
    User,
)
from db.models.enums import LabFlag, ResultStatus
from demo import generate_demo
from tools.clock import at_local
from tools.interop.fhir.export.practice import practice_id

SEED = 7
PATIENTS = 40
TODAY = date(2025, 3, 3)
TZ = ZoneInfo("Europe/London")
NOW = at_local(TODAY, time(9, 0), TZ)
SOURCE = "https://ehr.example.org/fhir"
DOCUMENT_BYTES = b"%PDF-1.4 a discharge summary\n"


def build(engine: Engine, documents_dir: Path, patients: int = PATIENTS) -> None:
    generate_demo(engine=engine, patients=patients, seed=SEED, today=TODAY, tz=TZ)
    with Session(engine) as session:
        enrich(session=session, documents_dir=documents_dir)
        practice_id(session=session)  # made once, so every export of the practice is the same
        session.commit()


def _first(session: Session, model: type, n: int = 1) -> list:  # type: ignore[type-arg]
    return list(session.exec(select(model).order_by(col(model.id)).limit(n)).all())


def enrich(*, session: Session, documents_dir: Path) -> None:
    """Add the rows and fields the demo does not make (to the first patients)."""
    first, second, third = _first(session, Patient, 3)
    external = Practitioner(
        name="Dr Gill Practice",
        discipline=Discipline.PHYSICIAN,
        affiliation=Affiliation.EXTERNAL,
        organisation="Harbour Health Centre",
        specialty="General practice",
        title="Dr",
    )
    session.add(external)
    session.flush()
    first.primary_care_provider_id = external.id
    second.deceased, second.deceased_on = True, date(2024, 12, 1)
    third.deceased = True
    session.add(
        PatientIdentifier(patient_id=first.id, system="urn:oid:1.2.3.4", value="MRN-1", kind="MR")
    )
    session.add(
        PatientIdentifier(
            patient_id=first.id, system="https://lab.example", value="L-9", kind="lab"
        )
    )
    condition = _codes(session, first.id)
    _labs(session, first.id)
    session.add(
        SupplementItem(
            patient_id=first.id,
            product="Magnesium glycinate",
            dose="400 mg",
            frequency="at night",
            started_on=date(2025, 1, 6),
            prescriber_id=first.primary_physician_id,
            supplier="Dispensary",
            quantity_on_hand=30,
            reorder_on=date(2025, 3, 20),
        )
    )
    session.add(
        PatientObservation(
            patient_id=first.id,
            name="Body weight",
            code_system="LOINC",
            code="29463-7",
            value=71.5,
            unit="kg",
            observed_at=datetime(2025, 2, 1, 10, 0, tzinfo=ZoneInfo("UTC")),
        )
    )
    session.add(PatientObservation(patient_id=first.id, name="Smoking status", value_text="never"))
    _documents(session, first.id, documents_dir)
    session.add(
        GeneratedDocument(
            kind="briefing",
            key=f"2025-03-03:{first.id}",
            title="Briefing",
            markdown="# Briefing\n",
            patient_id=first.id,
            practitioner_id=first.primary_physician_id,
            for_date=TODAY,
        )
    )
    session.add(GeneratedDocument(kind="digest", key="2025-W10", title="Digest", markdown="x"))
    form = session.exec(select(IntakeForm).where(IntakeForm.patient_id == first.id)).first()
    answers = json.dumps(
        [{"question": "Main concern?", "answer": "fatigue"}, {"question": "Smoker?", "answer": ""}]
    )
    if form is None:
        session.add(IntakeForm(patient_id=first.id, received_at=NOW, answers=answers))
    else:
        form.answers, form.received_at = answers, form.received_at or NOW
    session.flush()
    session.add(
        RecordSource(
            source_system=SOURCE,
            resource_type="Condition",
            resource_id="cond-1",
            content_hash="0" * 64,
            table_name="patient_condition",
            row_id=condition.id,
            patient_id=condition.patient_id,
        )
    )
    session.add(
        RecordSource(
            source_system=SOURCE,
            resource_type="Practitioner",
            resource_id="gp-1",
            content_hash="0" * 64,
            table_name="practitioner",
            row_id=external.id,
        )
    )
    session.flush()


def _codes(session: Session, patient_id: int) -> PatientCondition:
    condition = PatientCondition(
        patient_id=patient_id,
        name="Hypothyroidism",
        code_system="SNOMED CT",
        code="40930008",
        onset_on=date(2019, 4, 1),
    )
    session.add(condition)
    session.add(
        PatientAllergy(
            patient_id=patient_id,
            substance="Penicillin",
            reaction="rash",
            severity="moderate",
            code_system="SNOMED CT",
            code="764146007",
        )
    )
    session.add(PatientAllergy(patient_id=patient_id, substance="Latex", severity="unknown"))
    session.add(
        PatientMedication(
            patient_id=patient_id,
            name="Levothyroxine 50 microgram tablets",
            dose="50 microgram",
            frequency="once daily",
            started_on=date(2019, 5, 1),
            code_system="RxNorm",
            code="966222",
            prescriber="Dr Gill",
        )
    )
    session.flush()
    return condition


def _labs(session: Session, patient_id: int) -> None:
    order = session.exec(select(LabOrder).where(LabOrder.patient_id == patient_id)).first()
    if order is None:
        raise AssertionError("the demo's first patient has no lab order")
    order.placer_number, order.filler_number = "PL-1", "FL-1"
    session.add(
        LabResult(
            order_id=order.id,
            patient_id=patient_id,
            analyte="TSH",
            value=5.9,
            unit="mU/L",
            ref_low=0.4,
            ref_high=4.0,
            flag=LabFlag.HIGH,
            code_system="LOINC",
            code="3016-3",
            status=ResultStatus.CORRECTED,
            previous_value="6.2",
            issued_at=datetime(2025, 2, 2, 8, 30, tzinfo=ZoneInfo("UTC")),
            resulted_on=date(2025, 2, 2),
        )
    )
    session.add(
        LabResult(
            order_id=order.id,
            patient_id=patient_id,
            analyte="Comment",
            value_text="haemolysed",
            ref_text="none",
        )
    )


def _documents(session: Session, patient_id: int, documents_dir: Path) -> None:
    documents_dir.mkdir(parents=True, exist_ok=True)
    (documents_dir / "discharge.pdf").write_bytes(DOCUMENT_BYTES)
    session.add(
        PatientDocument(
            patient_id=patient_id,
            title="Discharge summary",
            kind="discharge summary",
            author="Harbour Hospital",
            content_type="application/pdf",
            size=len(DOCUMENT_BYTES),
            sha256=hashlib.sha256(DOCUMENT_BYTES).hexdigest(),
            stored_as="discharge.pdf",
        )
    )
    session.add(PatientDocument(patient_id=patient_id, title="Scan", url="https://pacs.example/1"))
    session.add(
        PatientDocument(patient_id=patient_id, title="Lost letter", stored_as="missing.pdf")
    )


def admin_user(session: Session, *, username: str = "admin") -> User:
    """An admin user (its password hash is a placeholder: the CLI asks for none)."""
    person = Practitioner(name="Practice administrator", discipline=Discipline.ADMIN)
    session.add(person)
    session.flush()
    assert person.id is not None
    user = User(username=username, practitioner_id=person.id, role="admin", password_hash="-")
    session.add(user)
    session.flush()
    return user


def staff_user(session: Session, *, username: str = "desk") -> User:
    person = Practitioner(name="Reception desk", discipline=Discipline.ADMIN)
    session.add(person)
    session.flush()
    assert person.id is not None
    user = User(username=username, practitioner_id=person.id, role="staff", password_hash="-")
    session.add(user)
    session.flush()
    return user
