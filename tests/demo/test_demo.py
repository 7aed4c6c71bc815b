"""The demo practice generator: deterministic, complete, and consistent with the rules."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, col, select

from db.engine import make_engine
from db.models import (
    Affiliation,
    Appointment,
    AppointmentStatus,
    CareMessage,
    CareProgramme,
    ClinicalNote,
    ClinicalProtocol,
    Discipline,
    IntakeForm,
    LabFlag,
    LabOrder,
    LabResult,
    LabStatus,
    NoteOrigin,
    Patient,
    PatientCreate,
    PracticeMeta,
    Practitioner,
    PractitionerStatus,
    ProgrammeElement,
    ProgrammeStatus,
    Referral,
    ReferralDirection,
    ReferralEvent,
    ReferralStatus,
    SupplementItem,
    SupplementStatus,
    Task,
    TaskStatus,
    WorkingHours,
)
from demo import DemoSummary, generate_demo
from tools.clock import at_local
from tools.errors import InvalidInput
from tools.programme import programme_view
from tools.referrals import TRANSITIONS, network_gaps, overdue_referrals
from tools.registry import create_patient, name_key
from tools.supplies import overdue_labs, reorders_due

TZ = ZoneInfo("Europe/London")
TODAY = date(2025, 3, 26)  # a Wednesday; the window spans the clocks going forward
NOW = at_local(TODAY, time(9, 30), TZ)  # the moment the demo describes
N = 50


def demo(engine: Engine, patients: int = N, seed: int = 7) -> DemoSummary:
    return generate_demo(engine=engine, patients=patients, seed=seed, today=TODAY, tz=TZ)


def rows(engine: Engine, model: type[SQLModel]) -> list[Any]:
    with Session(engine) as s:
        key = sa.inspect(model).primary_key[0]
        return list(s.exec(select(model).order_by(key)).all())


@pytest.fixture
def practice(engine: Engine) -> Engine:
    demo(engine)
    return engine


def _sqlite_copy(template: Path, tmp_path: Path, name: str) -> Engine:
    target = tmp_path / name
    shutil.copy(template, target)
    return make_engine(f"sqlite:///{target}")


def _dump(engine: Engine, tables: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            t: [
                tuple(r)
                for r in conn.execute(
                    sa.select(SQLModel.metadata.tables[t]).order_by(
                        SQLModel.metadata.tables[t].c.id
                    )
                )
            ]
            for t in tables
        }


# ------------------------------------------------------------------ determinism


def test_same_seed_same_rows_even_across_backends(
    engine: Engine, sqlite_template: Path, tmp_path: Path
) -> None:
    tables = ["practitioner", "patient", "appointment", "referral", "lab_result", "task"]
    other = _sqlite_copy(sqlite_template, tmp_path, "other.db")
    different = _sqlite_copy(sqlite_template, tmp_path, "different.db")
    try:
        first, second = demo(engine, 40), demo(other, 40)
        demo(different, 40, seed=8)
        assert first.counts == second.counts and first.seed == 7 and first.today == TODAY
        assert _dump(engine, tables) == _dump(other, tables)
        changed = _dump(different, tables)
        assert changed["patient"] != _dump(engine, ["patient"])["patient"]
    finally:
        other.dispose()
        different.dispose()


# ----------------------------------------------------------------------- input


@pytest.mark.parametrize("patients", [0, -3, 100_001])
def test_bad_patient_count_is_refused_and_nothing_written(engine: Engine, patients: int) -> None:
    with pytest.raises(InvalidInput, match="patients"):
        demo(engine, patients)
    assert rows(engine, Practitioner) == [] and rows(engine, PracticeMeta) == []


def test_a_database_with_data_is_refused_and_left_alone(engine: Engine) -> None:
    demo(engine, 5)
    before = len(rows(engine, Patient))
    with pytest.raises(InvalidInput, match="already holds data"):
        demo(engine, 5)
    assert len(rows(engine, Patient)) == before


def test_today_must_be_a_date(engine: Engine) -> None:
    with pytest.raises(InvalidInput, match="date"):
        generate_demo(engine=engine, patients=5, today=NOW, tz=TZ)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- people


def test_counts_and_meta(engine: Engine) -> None:
    summary = demo(engine)
    staff = rows(engine, Practitioner)
    in_house = [p for p in staff if p.affiliation == Affiliation.IN_HOUSE]
    physicians = [p for p in in_house if p.discipline == Discipline.PHYSICIAN]
    admins = [p for p in in_house if p.discipline == Discipline.ADMIN]
    allied = [p for p in in_house if p not in physicians and p not in admins]
    externals = [p for p in staff if p.affiliation == Affiliation.EXTERNAL]
    assert len(physicians) == 2 and len(admins) == 2
    assert len(allied) >= 6
    assert {
        Discipline.ACUPUNCTURE,
        Discipline.OSTEOPATHY,
        Discipline.HEALTH_COACHING,
        Discipline.NUTRITIONAL_THERAPY,
        Discipline.MASSAGE,
        Discipline.NURSE,
    } <= {p.discipline for p in allied}
    assert 13 <= len(externals) <= 17
    assert any(p.status == PractitionerStatus.ON_LEAVE for p in externals)
    assert summary.counts["patient"] == N == len(rows(engine, Patient))
    assert summary.counts["clinical_protocol"] == 10
    meta = {m.key: m.value for m in rows(engine, PracticeMeta)}
    assert json.loads(meta["demo"]) == {"seed": 7, "patients": N, "today": TODAY.isoformat()}
    hours = rows(engine, WorkingHours)
    assert {h.practitioner_id for h in hours} == {p.id for p in in_house}
    assert any(h.weekday == 5 for h in hours)  # a Saturday morning


def test_network_has_gaps(practice: Engine) -> None:
    with Session(practice) as s:
        gaps = network_gaps(session=s)
    assert Discipline.MIND_BODY in gaps and Discipline.PAIN_MEDICINE in gaps
    assert len(gaps) < 5


def test_patients_have_names_keys_and_a_programme(practice: Engine) -> None:
    patients = rows(practice, Patient)
    assert all(p.name_key == name_key(f"{p.given_name} {p.family_name}") for p in patients)
    assert any(not (p.given_name + p.family_name).isascii() for p in patients)
    keys = [p.name_key for p in patients]
    assert len(set(keys)) < len(keys), "some names are shared on purpose"
    assert all(p.email is None or p.email.endswith("@example.org") for p in patients)
    programmes = [p for p in rows(practice, CareProgramme) if p.status == ProgrammeStatus.ACTIVE]
    assert sorted(p.patient_id for p in programmes) == [p.id for p in patients]
    elements: dict[int, list[ProgrammeElement]] = defaultdict(list)
    for e in rows(practice, ProgrammeElement):
        elements[e.programme_id].append(e)
    for programme in programmes:
        parts = elements[programme.id or 0]
        assert 2 <= len(parts) <= 5
        assert len({e.modality for e in parts}) == len(parts)
    staff = {p.id: p for p in rows(practice, Practitioner)}
    assert all(
        staff[e.practitioner_id].discipline == e.modality
        for parts in elements.values()
        for e in parts
    )


# ----------------------------------------------------------------- appointments


def _local(a: Appointment) -> tuple[date, time, time]:
    start, end = a.starts_at.astimezone(TZ), a.ends_at.astimezone(TZ)
    return start.date(), start.time(), end.time()


def test_no_double_booking_and_inside_working_hours(practice: Engine) -> None:
    appointments = [
        a for a in rows(practice, Appointment) if a.status != AppointmentStatus.CANCELLED
    ]
    assert len(appointments) > 5 * 10
    hours: dict[tuple[int, int], list[tuple[time, time]]] = defaultdict(list)
    for h in rows(practice, WorkingHours):
        hours[(h.practitioner_id, h.weekday)].append((h.start, h.end))
    for key in ("practitioner_id", "patient_id"):
        by_owner: dict[int, list[Appointment]] = defaultdict(list)
        for a in appointments:
            by_owner[getattr(a, key)].append(a)
        for booked in by_owner.values():
            booked.sort(key=lambda a: a.starts_at)
            for a, b in pairwise(booked):
                assert a.ends_at <= b.starts_at, f"{key} overlap: {a.id} and {b.id}"
    for a in rows(practice, Appointment):
        day, start, end = _local(a)
        assert a.ends_at > a.starts_at and end > start
        windows = hours[(a.practitioner_id, day.weekday())]
        assert any(ws <= start and end <= we for ws, we in windows), a.id
        assert TODAY - timedelta(weeks=4) <= day < TODAY + timedelta(weeks=4)


def test_statuses_follow_the_calendar(practice: Engine) -> None:
    by_when: dict[str, set[AppointmentStatus]] = defaultdict(set)
    for a in rows(practice, Appointment):
        day = _local(a)[0]
        when = "past" if day < TODAY else "today" if day == TODAY else "future"
        by_when[when].add(AppointmentStatus(a.status))
    assert by_when["past"] >= {AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED}
    assert by_when["past"] <= {
        AppointmentStatus.COMPLETED,
        AppointmentStatus.CANCELLED,
        AppointmentStatus.NO_SHOW,
    }
    assert by_when["today"] <= {AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED}
    assert AppointmentStatus.BOOKED in by_when["future"]
    assert by_when["future"] <= {AppointmentStatus.BOOKED, AppointmentStatus.CANCELLED}
    cancelled = [a for a in rows(practice, Appointment) if a.status == AppointmentStatus.CANCELLED]
    assert all(a.cancel_reason for a in cancelled)
    billing = {a.billing_track for a in rows(practice, Appointment)}
    assert len(billing) == 2


def test_visit_blocks(practice: Engine) -> None:
    blocks: dict[str, list[Appointment]] = defaultdict(list)
    for a in rows(practice, Appointment):
        if a.visit_block_id:
            blocks[a.visit_block_id].append(a)
    assert len(blocks) >= 2
    for parts in blocks.values():
        parts.sort(key=lambda a: a.starts_at)
        assert 2 <= len(parts) <= 3
        assert len({a.patient_id for a in parts}) == 1
        assert len({a.practitioner_id for a in parts}) == len(parts)
        assert len({_local(a)[0] for a in parts}) == 1
        for a, b in pairwise(parts):
            assert b.starts_at - a.ends_at == timedelta(minutes=10)
    # Today has a block, so the overview and the briefings have one to show.
    assert any(_local(parts[0])[0] == TODAY for parts in blocks.values())


def test_completed_appointments_have_notes_and_reports_are_external(practice: Engine) -> None:
    notes = rows(practice, ClinicalNote)
    completed = {
        a.id for a in rows(practice, Appointment) if a.status == AppointmentStatus.COMPLETED
    }
    noted = {n.appointment_id for n in notes if n.appointment_id}
    assert noted <= completed and len(noted) >= 0.8 * len(completed)
    external = [n for n in notes if n.origin == NoteOrigin.EXTERNAL]
    assert external and all(n.appointment_id is None for n in external)
    assert all(n.written_at <= NOW + timedelta(hours=12) for n in notes if n.body)


# -------------------------------------------------------------------- referrals

STAMPS = {
    ReferralStatus.SENT: "sent_at",
    ReferralStatus.ACCEPTED: "accepted_at",
    ReferralStatus.SCHEDULED: "scheduled_at",
    ReferralStatus.SEEN: "seen_at",
    ReferralStatus.REPORT_RECEIVED: "report_received_at",
    ReferralStatus.CLOSED: "closed_at",
    ReferralStatus.DECLINED: "declined_at",
}


def test_referrals_cover_every_state_with_a_consistent_history(practice: Engine) -> None:
    referrals = rows(practice, Referral)
    events: dict[int, list[ReferralEvent]] = defaultdict(list)
    for e in rows(practice, ReferralEvent):
        events[e.referral_id].append(e)
    assert {r.status for r in referrals} == set(ReferralStatus)
    inbound = {r.status for r in referrals if r.direction == ReferralDirection.INBOUND}
    assert inbound == set(ReferralStatus) - {ReferralStatus.DRAFT}
    for r in referrals:
        history = events[r.id or 0]
        assert history[0].from_status is None and history[0].to_status == ReferralStatus.DRAFT
        assert history[0].at == r.created_at
        for a, b in pairwise(history):
            assert b.from_status == a.to_status and b.to_status in TRANSITIONS[a.to_status]
            assert a.at <= b.at
        assert history[-1].to_status == r.status and history[-1].at == r.status_changed_at
        assert r.status_changed_at <= NOW
        for e in history[1:]:
            assert getattr(r, STAMPS[e.to_status]) == e.at
        stamped = [s for s in STAMPS if getattr(r, STAMPS[s]) is not None]
        assert stamped == [e.to_status for e in history[1:]]
        if r.outcome_rating is not None:
            assert r.status == ReferralStatus.CLOSED and 1 <= r.outcome_rating <= 5
    assert any(r.outcome_rating for r in referrals)


def test_some_referrals_are_overdue(practice: Engine) -> None:
    with Session(practice) as s:
        overdue = overdue_referrals(session=s, now=NOW)
        assert len(overdue) >= 3
        assert len(overdue) < len(s.exec(select(Referral)).all())


# -------------------------------------------------------- labs, stock, messages


def test_labs_supplements_messages_tasks(practice: Engine) -> None:
    with Session(practice) as s:
        assert overdue_labs(session=s, today=TODAY)
        assert reorders_due(session=s, today=TODAY)
    assert {o.status for o in rows(practice, LabOrder)} == set(LabStatus)
    results = rows(practice, LabResult)
    assert any(r.flag != LabFlag.NORMAL for r in results)
    assert any(r.flag == LabFlag.NORMAL for r in results)
    assert all(r.unit or r.value_text for r in results)
    messages = rows(practice, CareMessage)
    assert any(m.acknowledged_at is None for m in messages)
    assert any(m.acknowledged_at is not None for m in messages)
    tasks = rows(practice, Task)
    assert any(t.created_by_id is None for t in tasks)
    assert any(t.status == TaskStatus.DONE and t.completed_at for t in tasks)
    assert any(t.status == TaskStatus.OPEN and t.due_on and t.due_on < TODAY for t in tasks)


def test_nothing_happens_after_now_or_out_of_order(practice: Engine) -> None:
    for a in rows(practice, Appointment):
        assert a.created_at <= min(NOW, a.starts_at) and a.created_at <= a.updated_at
    for m in rows(practice, CareMessage):
        assert m.created_at <= NOW
        assert m.acknowledged_at is None or m.created_at <= m.acknowledged_at <= NOW
    for t in rows(practice, Task):
        assert t.created_at <= NOW and (t.completed_at is None or t.created_at <= t.completed_at)
        assert (t.completed_at is not None) == (t.status == TaskStatus.DONE)
    for f in rows(practice, IntakeForm):
        stamps = [x for x in (f.sent_at, f.received_at, f.reviewed_at) if x is not None]
        assert stamps == sorted(stamps) and all(x <= NOW for x in stamps)
    for o in rows(practice, LabOrder):
        assert o.ordered_on <= TODAY and o.expected_on and o.expected_on >= o.ordered_on
        assert o.received_on is None or o.ordered_on <= o.received_on <= TODAY
        assert (o.received_on is not None) == (o.status in (LabStatus.RECEIVED, LabStatus.REVIEWED))
    for item in rows(practice, SupplementItem):
        assert item.started_on <= TODAY
        assert (item.status == SupplementStatus.STOPPED) == (item.stopped_on is not None)


def test_protocols_and_intake(practice: Engine) -> None:
    protocols = rows(practice, ClinicalProtocol)
    assert len(protocols) == 10 and all(p.keywords and p.mesh_terms for p in protocols)
    due = [
        p for p in protocols if p.last_reviewed_on + timedelta(days=p.review_interval_days) < TODAY
    ]
    assert 1 <= len(due) <= 4
    forms = rows(practice, IntakeForm)
    assert any(f.sent_at and not f.received_at for f in forms)
    assert any(f.received_at and not f.reviewed_at for f in forms)
    assert any(f.reviewed_at and f.reviewed_by_id for f in forms)


# ----------------------------------------------------------- using the demo


def test_programme_view_of_a_busy_patient(practice: Engine) -> None:
    with Session(practice) as s:
        coming = select(Appointment.patient_id).where(
            col(Appointment.starts_at) >= NOW, Appointment.status == AppointmentStatus.BOOKED
        )
        busy = s.exec(
            select(ClinicalNote.patient_id)
            .where(col(ClinicalNote.patient_id).in_(coming))
            .order_by(col(ClinicalNote.patient_id))
            .limit(1)
        ).one()
        view = programme_view(session=s, patient_id=busy, now=NOW)
    assert view.elements and view.programmes and view.conditions
    assert view.next_appointments and view.recent_notes
    assert view.practitioners
    assert view.to_dict()["programmes"][0]["elements"]


def test_new_rows_after_the_demo(practice: Engine) -> None:
    with Session(practice) as s:
        top = max(p.id or 0 for p in s.exec(select(Patient)).all())
        created = create_patient(
            session=s,
            data=PatientCreate(
                given_name="Ada", family_name="Lovelace-Demo", date_of_birth=date(1980, 1, 2)
            ),
        )
        s.commit()
        assert created.id == top + 1
        s.add(Task(title="after the demo", assignee_id=1, created_at=datetime.now(tz=TZ)))
        s.commit()
