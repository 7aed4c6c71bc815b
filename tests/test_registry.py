"""Registry: tolerant patient search, practitioner lookup, the consolidated programme view."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from tests import factories
from tools.errors import Ambiguous, InvalidInput, NoMatch, NotFound
from tools.models import (
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
from tools.registry import (
    PROGRAMME_VIEW_QUERIES,
    find_patients,
    find_practitioner,
    name_key,
    programme_view,
    resolve_patient,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_name_key_folds_case_accents_and_punctuation() -> None:
    assert name_key("  Zoë   Ó'Briain-Müller ") == "zoe obriain muller"


def test_find_is_tolerant_of_case_accents_and_word_order(session: Session) -> None:
    zoe = factories.patient(session, given="Zoë", family="Müller")
    factories.patient(session, given="Zoltan", family="Kovacs")
    session.commit()
    for query in ("zoe", "ZOË", "muller", "Müll", "muller zo", "zo mü"):
        found = find_patients(session=session, name=query)
        assert [p.id for p in found] == [zoe.id], query
    assert find_patients(session=session, name="oe") == []  # words match at their start


def test_find_by_date_of_birth_and_id(session: Session) -> None:
    a = factories.patient(session, given="Ana", family="Silva", born=date(1970, 1, 2))
    factories.patient(session, given="Ana", family="Souza", born=date(1971, 1, 2))
    session.commit()
    assert [p.id for p in find_patients(session=session, date_of_birth=date(1970, 1, 2))] == [a.id]
    assert [p.id for p in find_patients(session=session, patient_id=a.id)] == [a.id]
    assert find_patients(session=session, patient_id=99999) == []


def test_resolve_ambiguous_name_lists_candidates(session: Session) -> None:
    one = factories.patient(session, given="Sam", family="Okafor", born=date(1990, 3, 4))
    two = factories.patient(session, given="Sam", family="Okafor", born=date(1985, 6, 7))
    session.commit()
    with pytest.raises(Ambiguous) as info:
        resolve_patient(session=session, query="sam okafor")
    shown = info.value.display()  # for the person who asked: names and birth dates
    assert shown.startswith("2 patients match 'sam okafor'; use an id: ")
    assert f"{one.id}: Sam Okafor, born 1990-03-04" in shown and f"{two.id}:" in shown
    assert "\n" not in shown
    logged = str(info.value)  # for logs: ids only
    assert "Okafor" not in logged and "1990" not in logged and str(one.id) in logged
    # The date of birth tells them apart.
    assert (
        resolve_patient(session=session, query="sam okafor", date_of_birth=date(1985, 6, 7)).id
        == two.id
    )


def test_resolve_unknown_and_empty(session: Session) -> None:
    with pytest.raises(NotFound, match="no patient with id 4242"):
        resolve_patient(session=session, query="4242")
    with pytest.raises(NoMatch) as info:
        resolve_patient(session=session, query="nobody-here")
    assert "nobody-here" not in str(info.value)  # safe to log
    assert info.value.display() == "no patient matches 'nobody-here'"
    with pytest.raises(InvalidInput):
        find_patients(session=session, name="  ")


def test_find_practitioner_by_fragment(session: Session) -> None:
    a = factories.practitioner(session, name="Dr Amara Osei")
    factories.practitioner(session, name="Dr Amir Haddad")
    session.commit()
    assert find_practitioner(session=session, query="osei").id == a.id
    assert find_practitioner(session=session, query=str(a.id)).id == a.id
    with pytest.raises(Ambiguous):
        find_practitioner(session=session, query="dr am")


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


def test_working_hours_must_make_sense(session: Session) -> None:
    with pytest.raises(InvalidInput, match="end before they start"):
        factories.practitioner(session, hours={0: [(time(17), time(9))]})
