"""The follow-up sweep: one task per loose end, for the right person, never duplicated,
closed when the loose end is resolved, and safe to run twice at once."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from sqlmodel import Session, col, select

from db.engine import session_scope, utcnow
from db.models import (
    Affiliation,
    Appointment,
    CareMessage,
    Discipline,
    LabOrder,
    LabStatus,
    Referral,
    ReferralDirection,
    ReferralStatus,
    SupplementItem,
    Task,
    TaskStatus,
)
from schedules.sweep import run_sweep
from tests.support import factories
from tests.support.service import service_config


def _practice(session: Session) -> dict[str, int]:
    now = utcnow()
    doc = factories.practitioner(session, email="doc@practice.test")
    admin = factories.practitioner(session, discipline=Discipline.ADMIN)
    coach = factories.practitioner(session, discipline=Discipline.HEALTH_COACHING)
    gi = factories.practitioner(
        session, discipline=Discipline.GASTROENTEROLOGY, affiliation=Affiliation.EXTERNAL
    )
    pat = factories.patient(session, physician=doc)
    newbie = factories.patient(session, physician=doc)
    session.add(
        Referral(
            direction=ReferralDirection.OUTBOUND,
            patient_id=pat.id,
            from_practitioner_id=doc.id,
            to_practitioner_id=gi.id,
            reason="GI review",
            status=ReferralStatus.SENT,
            status_changed_at=now - timedelta(days=30),
        )
    )
    lab = LabOrder(
        patient_id=pat.id,
        ordered_by_id=doc.id,
        lab="Genova",
        panel="GI-MAP",
        ordered_on=date.today() - timedelta(days=30),
        expected_on=date.today() - timedelta(days=10),
    )
    msg = CareMessage(
        patient_id=pat.id,
        recipient_id=coach.id,
        subject="Supplement change",
        body="x",
        created_at=now - timedelta(days=3),
    )
    session.add_all([lab, msg])
    session.add(
        SupplementItem(
            patient_id=pat.id,
            product="Magnesium glycinate",
            dose="400 mg",
            frequency="nightly",
            started_on=date.today() - timedelta(days=60),
            reorder_on=date.today() + timedelta(days=2),
        )
    )
    start = now + timedelta(days=1)
    session.add(
        Appointment(
            practitioner_id=doc.id,
            patient_id=newbie.id,
            service_type="new patient consultation",
            starts_at=start,
            ends_at=start + timedelta(minutes=60),
        )
    )
    session.commit()
    return {"doc": doc.id, "admin": admin.id, "coach": coach.id, "lab": lab.id, "msg": msg.id}


def _open(session: Session) -> dict[str, Task]:
    tasks = session.exec(
        select(Task).where(col(Task.status).in_([TaskStatus.OPEN, TaskStatus.IN_PROGRESS]))
    ).all()
    return {t.source_ref.split(":")[1]: t for t in tasks if t.source_ref}


def test_each_loose_end_becomes_one_task_for_the_right_person(engine, tmp_path) -> None:
    config = service_config(tmp_path)
    with Session(engine, expire_on_commit=False) as s:
        ids = _practice(s)
    with session_scope(engine) as s:
        report = run_sweep(session=s, settings=config)
    assert report.counts()["created"] == 5, report.counts()
    with Session(engine) as s:
        tasks = _open(s)
        assert {k: t.assignee_id for k, t in tasks.items()} == {
            "referral": ids["doc"],  # the in-house referrer chases it
            "lab": ids["doc"],  # who ordered it
            "message": ids["coach"],  # the recipient
            "reorder": ids["doc"],  # no prescriber: the patient's physician
            "intake-missing": ids["admin"],  # the front desk
        }
        assert all(t.title and "Testperson" not in t.title for t in tasks.values())

    with session_scope(engine) as s:  # again: nothing new
        assert run_sweep(session=s, settings=config).counts()["created"] == 0

    with session_scope(engine) as s:  # resolve two loose ends
        lab = s.get(LabOrder, ids["lab"])
        lab.status = LabStatus.RECEIVED
        msg = s.get(CareMessage, ids["msg"])
        msg.acknowledged_at = utcnow()
        s.add_all([lab, msg])
    with session_scope(engine) as s:
        report = run_sweep(session=s, settings=config)
    assert report.closed == 2 and report.counts()["created"] == 0
    with Session(engine) as s:
        assert set(_open(s)) == {"referral", "reorder", "intake-missing"}
        done = s.exec(select(Task).where(Task.status == TaskStatus.DONE)).all()
        assert {t.source_ref for t in done} == {
            f"sweep:lab:{ids['lab']}",
            f"sweep:message:{ids['msg']}",
        }


def test_two_sweeps_at_once_make_no_duplicates(engine, tmp_path) -> None:
    config = service_config(tmp_path)
    with Session(engine, expire_on_commit=False) as s:
        _practice(s)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def sweep() -> None:
        try:
            barrier.wait()
            with session_scope(engine) as s:
                run_sweep(session=s, settings=config)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with Session(engine) as s:
        refs = [t.source_ref for t in s.exec(select(Task)).all()]
    assert len(refs) == len(set(refs)) == 5
