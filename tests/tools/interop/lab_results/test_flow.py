"""Imported lab results flow into what the practice works from: the ordering clinician's
review task (one per order), the sweep's chase task closed, abnormal results in the
briefing's "needs your decision", a correction in the briefing's changes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from agent.briefing.gather import gather_facts
from agent.briefing.state import BriefingContext
from db.models import LabOrder, LabResult, Task, TaskStatus
from schedules.sweep import run_sweep
from tests.support.labs import NOW, ZONE, lab_practice, take
from tests.support.service import service_config
from tools.interop.lab_results.routing import review_ref
from tools.supplies import overdue_lab_ref


def _tasks(engine: Engine) -> list[Task]:
    with Session(engine) as s:
        return list(s.exec(select(Task).order_by(col(Task.id))).all())


def test_one_review_task_per_order_for_the_orderer(engine: Engine) -> None:
    practice = lab_practice(engine)
    take(engine, "oru_r01_panel_v251.hl7")
    take(engine, "oru_r01_panel_v251.hl7")  # re-sent
    take(engine, "oru_r01_corrected_v251.hl7")  # a correction while the review is open
    [task] = _tasks(engine)
    with Session(engine) as s:
        order = s.exec(select(LabOrder)).one()
    assert task.source_ref == review_ref(order.id or 0) == f"lab_order:{order.id}:review"
    assert task.assignee_id == practice.physician_id and task.patient_id == practice.patient_id
    assert task.title == "Review results: LIPID PANEL" and task.clinical
    assert task.details == f"Lab order {order.id} from ELAB-3: 4 result(s), 3 flagged abnormal."


def test_multi_obr_gets_a_review_task_per_order(engine: Engine) -> None:
    lab_practice(engine)
    take(engine, "oru_r01_multi_obr_v251.hl7")
    assert [t.title for t in _tasks(engine)] == [
        "Review results: CBC panel",
        "Review results: Ferritin",
    ]


def test_results_close_the_sweeps_chase_task(engine: Engine, tmp_path: Path) -> None:
    practice = lab_practice(engine)
    with Session(engine, expire_on_commit=False) as s:
        order = LabOrder(
            patient_id=practice.patient_id,
            ordered_by_id=practice.other_physician_id,
            lab="GHH",
            panel="HbA1c",
            ordered_on=date(2026, 10, 1),
            expected_on=date(2026, 10, 15),
            placer_number="STEVE-ORD-1",
        )
        s.add(order)
        s.commit()
        run_sweep(session=s, settings=service_config(tmp_path), now=NOW)
        s.commit()
    [chase] = _tasks(engine)
    assert chase.source_ref == overdue_lab_ref(order.id or 0)
    [message] = take(engine, "oru_r01_placer_match_v251.hl7")
    assert message.counts["chase tasks closed"] == 1
    chase, review = _tasks(engine)
    assert chase.status == TaskStatus.DONE
    assert review.source_ref == review_ref(order.id or 0)
    assert review.assignee_id == practice.other_physician_id  # the order's own orderer
    with Session(engine) as s:
        report = run_sweep(session=s, settings=service_config(tmp_path), now=NOW)
        s.commit()
    assert report.counts()["created"] == 0


def test_briefing_shows_imported_abnormal_results(engine: Engine) -> None:
    practice = lab_practice(engine)
    take(engine, "oru_r01_panel_v251.hl7")
    take(engine, "oru_r01_corrected_v251.hl7")
    with Session(engine) as s:
        results = {r.code: r for r in s.exec(select(LabResult)).all()}
        order = s.exec(select(LabOrder)).one()
        gathered = gather_facts(
            context=BriefingContext(session=s, tz=ZONE),
            patient_id=practice.patient_id,
            physician_id=practice.physician_id,
            now=NOW,
        )
    decisions = {f.ref: f.text for f in gathered.facts if f.section == "decision"}
    hdl, ldl = results["2085-9"], results["13457-7"]
    assert decisions[f"result:{hdl.id}"].startswith(
        "HDL Cholesterol 38.5 mg/dL (low; reference >40)"
    )
    assert f"result:{ldl.id}" in decisions
    assert f"result:{results['2093-3'].id}" not in decisions  # normal: not a decision
    assert "has not been reviewed yet" in decisions[f"lab:{order.id}"]
    changes = [f.text for f in gathered.facts if f.section == "changes"]
    assert any(
        "Corrected result: Triglyceride" in text and "previously 245 mg/dL" in text
        for text in changes
    )
