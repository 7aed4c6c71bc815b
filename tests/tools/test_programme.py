"""The consolidated programme view: everything in one place, in a fixed number of queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from db.models import (
    Appointment,
    AuditEvent,
    CareMessage,
    CareProgramme,
    ClinicalNote,
    Discipline,
    LabFlag,
    LabOrder,
    LabResult,
    LabStatus,
    PatientMedication,
    ProgrammeElement,
    SupplementItem,
    Task,
)
from tests.support import factories
from tools.errors import NotFound
from tools.programme import PROGRAMME_VIEW_QUERIES, programme_view

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _programme_patient(session: Session):
    doc = factories.practitioner(session, name="Dr Lead")
    acu = factories.practitioner(session, name="Acu One", discipline=Discipline.ACUPUNCTURE)
    coach = factories.practitioner(session, name="Coach", discipline=Discipline.HEALTH_COACHING)
    pat = factories.patient(session, physician=doc)
    prog = CareProgramme(
        patient_id=pat.id,
        title="IBS programme",
        started_on=date(2026, 9, 1),
        lead_practitioner_id=doc.id,
    )
    session.add(prog)
    session.flush()
    for who, modality in ((acu, Discipline.ACUPUNCTURE), (coach, Discipline.HEALTH_COACHING)):
        session.add(
            ProgrammeElement(
                programme_id=prog.id,
                patient_id=pat.id,
                modality=modality,
                practitioner_id=who.id,
                goal="reduce pain",
                cadence="weekly",
                started_on=date(2026, 9, 1),
            )
        )
    for i in range(5):  # five notes from one practitioner: only the latest three show
        session.add(
            ClinicalNote(
                patient_id=pat.id,
                practitioner_id=acu.id,
                modality=Discipline.ACUPUNCTURE,
                body=f"session {i}",
                written_at=NOW - timedelta(days=10 - i),
            )
        )
    session.add(
        ClinicalNote(
            patient_id=pat.id,
            practitioner_id=coach.id,
            modality=Discipline.HEALTH_COACHING,
            body="old",
            written_at=NOW - timedelta(days=200),
        )
    )
    session.add(
        SupplementItem(
            patient_id=pat.id,
            product="Magnesium glycinate",
            dose="200 mg",
            frequency="nightly",
            started_on=date(2026, 9, 1),
        )
    )
    pending = LabOrder(
        patient_id=pat.id,
        ordered_by_id=doc.id,
        lab="Genova",
        panel="GI Effects",
        ordered_on=date(2026, 11, 1),
        expected_on=date(2026, 11, 20),
    )
    done = LabOrder(
        patient_id=pat.id,
        ordered_by_id=doc.id,
        lab="Quest",
        panel="Thyroid",
        ordered_on=date(2026, 10, 1),
        received_on=date(2026, 10, 20),
        status=LabStatus.RECEIVED,
    )
    session.add_all([pending, done])
    session.flush()
    session.add(
        LabResult(
            order_id=done.id,
            patient_id=pat.id,
            analyte="TSH",
            value=6.1,
            unit="mIU/L",
            ref_low=0.4,
            ref_high=4.0,
            flag=LabFlag.HIGH,
        )
    )
    session.add(Task(title="Chase stool kit", assignee_id=coach.id, patient_id=pat.id))
    session.add(CareMessage(patient_id=pat.id, recipient_id=acu.id, subject="FYI", body="x"))
    session.add(PatientMedication(patient_id=pat.id, name="Levothyroxine", dose="50 mcg"))
    session.add(
        Appointment(
            practitioner_id=acu.id,
            patient_id=pat.id,
            service_type="acupuncture",
            starts_at=NOW + timedelta(days=2),
            ends_at=NOW + timedelta(days=2, hours=1),
        )
    )
    session.add(
        Appointment(
            practitioner_id=acu.id,
            patient_id=pat.id,
            service_type="acupuncture",
            starts_at=NOW - timedelta(days=2),
            ends_at=NOW - timedelta(days=2, hours=-1),
        )
    )
    session.commit()
    return pat, acu, coach


def test_programme_view_reads_everything_in_one_place(session: Session) -> None:
    pat, acu, coach = _programme_patient(session)
    view = programme_view(session=session, patient_id=pat.id, now=NOW)
    assert [p.title for p in view.programmes] == ["IBS programme"]
    assert {e.practitioner_id for e in view.elements} == {acu.id, coach.id}
    assert [n.body for n in view.recent_notes[acu.id]] == ["session 4", "session 3", "session 2"]
    assert coach.id not in view.recent_notes  # the 200-day-old note is not recent
    assert [s.product for s in view.supplements] == ["Magnesium glycinate"]
    assert [o.panel for o in view.pending_labs] == ["GI Effects"]
    assert [r.flag for r in view.lab_results[view.recent_labs[0].id]] == [LabFlag.HIGH]
    assert len(view.open_tasks) == 1 and len(view.unacknowledged_messages) == 1
    assert [m.name for m in view.medications] == ["Levothyroxine"]
    assert len(view.next_appointments) == 1 and view.next_appointments[0].starts_at > NOW
    assert view.practitioner_name(acu.id) == "Acu One"
    data = view.to_dict()
    assert data["programmes"][0]["elements"][0]["practitioner"] in {"Acu One", "Coach"}
    assert "name_key" not in data["patient"]


def test_programme_view_is_audited(session: Session) -> None:
    pat, _, _ = _programme_patient(session)
    programme_view(session=session, patient_id=pat.id, now=NOW, actor="dr-lead")
    session.commit()
    events = session.exec(select(AuditEvent).where(AuditEvent.entity == "programme_view")).all()
    assert [(e.actor, e.patient_id, e.action) for e in events] == [("dr-lead", pat.id, "read")]


def test_programme_view_query_count_is_fixed(session: Session, engine) -> None:
    """No N+1: the same number of statements for a rich and an empty programme."""
    pat, _, _ = _programme_patient(session)
    bare = factories.patient(session)
    session.commit()
    counts = []
    for pid in (pat.id, bare.id):
        statements: list[str] = []

        def count(conn, cursor, statement, *args, seen: list[str] = statements) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                seen.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            with Session(engine) as s:
                programme_view(session=s, patient_id=pid, now=NOW)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(len(statements))
    assert counts[0] == PROGRAMME_VIEW_QUERIES
    assert counts[1] <= PROGRAMME_VIEW_QUERIES


def test_programme_view_unknown_patient(session: Session) -> None:
    with pytest.raises(NotFound):
        programme_view(session=session, patient_id=123456)
