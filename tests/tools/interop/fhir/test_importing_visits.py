"""End to end through `import_fhir`: a patient's visits, programme, intake form, letter and
messages from one bundle (tests/fixtures/fhir/visits_programmes.json), on SQLite and
PostgreSQL; re-importing it changes nothing and stores the letter once."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from db.models import (
    Appointment,
    AppointmentStatus,
    CareMessage,
    CareProgramme,
    ClinicalNote,
    Discipline,
    IntakeForm,
    NoteOrigin,
    Patient,
    PatientDocument,
    Practitioner,
    ProgrammeElement,
)
from tools.interop.fhir.importing import import_fhir

LETTER_SHA256 = "25256120ee84d59e97f8ad40a0dea9b134ec26dfc5657be3ffeab7d6b0b7fb1e"


def _by_name(session: Session) -> dict[str, int]:
    return {p.name: p.id for p in session.exec(select(Practitioner)) if p.id is not None}


def test_visits_programme_forms_documents_and_messages(
    engine: Engine, fixtures: Path, tmp_path: Path
) -> None:
    bundle = fixtures / "visits_programmes.json"
    report = import_fhir(engine=engine, paths=[bundle], data_dir=tmp_path)
    assert report.patients["written"] == 1
    assert [(p.resource_type, p.field) for p in report.problems] == [("Encounter", "period.end")]
    with Session(engine) as session:
        patient = session.exec(select(Patient)).one()
        people = _by_name(session)
        grant, chen = people["Paul Grant"], people["Mei Chen"]
        visits = session.exec(select(Appointment).order_by(Appointment.starts_at)).all()  # type: ignore[arg-type]
        # the encounter and the appointment it fulfils are one visit
        assert [(v.service_type, v.practitioner_id, v.status) for v in visits] == [
            ("Follow-up visit", grant, AppointmentStatus.COMPLETED),
            ("Acupuncture", chen, AppointmentStatus.COMPLETED),
        ]
        assert visits[1].starts_at == datetime(2026, 3, 3, 10, 5, tzinfo=UTC)
        programme = session.exec(select(CareProgramme)).one()
        assert (programme.title, programme.goal, programme.lead_practitioner_id) == (
            "Migraine programme",
            "Fewer than two migraine days a month",
            grant,
        )
        elements = session.exec(select(ProgrammeElement).order_by(ProgrammeElement.id)).all()  # type: ignore[arg-type]
        assert [(e.modality, e.practitioner_id, e.cadence) for e in elements] == [
            (Discipline.ACUPUNCTURE, chen, "weekly (8 sessions)"),
            (Discipline.NUTRITIONAL_THERAPY, grant, "every 2 weeks"),
        ]
        form = session.exec(select(IntakeForm)).one()
        assert form.form_type == "headache_diary" and form.patient_id == patient.id
        assert json.loads(form.answers or "")[1]["answer"] == "Poor sleep; Red wine"
        document = session.exec(select(PatientDocument)).one()
        assert document.sha256 == LETTER_SHA256
        stored = tmp_path / "documents" / (document.stored_as or "")
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == LETTER_SHA256
        message = session.exec(select(CareMessage)).one()
        assert (message.sender_id, message.recipient_id) == (grant, chen)
        note = session.exec(select(ClinicalNote)).one()
        assert note.origin == NoteOrigin.EXTERNAL and note.practitioner_id == grant

    again = import_fhir(engine=engine, paths=[bundle], data_dir=tmp_path)
    assert again.tally.changed() == 0
    files = [p for p in (tmp_path / "documents").rglob("*") if p.is_file()]
    assert [p.name for p in files] == [LETTER_SHA256]


def test_dry_run_stores_no_document_file(engine: Engine, fixtures: Path, tmp_path: Path) -> None:
    report = import_fhir(
        engine=engine, paths=[fixtures / "visits_programmes.json"], data_dir=tmp_path, dry_run=True
    )
    assert report.tally.changed() > 0
    assert not (tmp_path / "documents").exists()
