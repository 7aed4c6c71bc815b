"""Where new lab results go next, so they flow into what the practice already works from:

- the ordering clinician gets one review task per order ("Review results: <panel>",
  `source_ref` `lab_order:<id>:review`), opened when results arrive or change and never
  twice while one is open; the task is clinical text (tools.tasks decides who reads it);
- the follow-up sweep's chase task for the order (`sweep:lab:<id>`) is closed once the
  results are in;
- a corrected result is told to the ordering clinician as a care-team message ("Corrected
  result: <analyte>", was and now), which is how the correction shows in the patient's
  history: briefings list the patient's care-team messages under what changed, the sweep
  chases one nobody acknowledges, and the result row keeps the replaced value in
  `previous_value`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from db.models import (
    CareMessage,
    LabFlag,
    LabOrder,
    LabResult,
    MessageKind,
    Patient,
    Task,
    TaskCreate,
)
from db.models.enums import OPEN_TASK_STATUSES
from tools.errors import InvalidInput, NotFound
from tools.supplies import overdue_lab_ref
from tools.tasks import complete_task, create_task


@dataclass(frozen=True)
class Correction:
    result_id: int
    analyte: str
    before: str
    after: str


def review_ref(order_id: int) -> str:
    return f"lab_order:{order_id}:review"


def _open_task(session: Session, ref: str) -> Task | None:
    return session.exec(
        select(Task).where(Task.source_ref == ref, col(Task.status).in_(OPEN_TASK_STATUSES))
    ).first()


def close_chase(*, session: Session, order: LabOrder, actor: str, now: datetime) -> int:
    """Complete the sweep's open chase task for this order; how many were closed (0 or 1)."""
    assert order.id is not None
    task = _open_task(session, overdue_lab_ref(order.id))
    if task is None or task.id is None:
        return 0
    complete_task(session=session, task_id=task.id, now=now, actor=actor)
    return 1


def route_for_review(
    *, session: Session, order: LabOrder, patient: Patient, actor: str, now: datetime
) -> int:
    """Open the ordering clinician's review task unless one is open; 1 when opened."""
    assert order.id is not None
    ref = review_ref(order.id)
    if _open_task(session, ref) is not None:
        return 0
    results = session.exec(select(LabResult.flag).where(LabResult.order_id == order.id)).all()
    flagged = sum(1 for flag in results if flag != LabFlag.NORMAL)
    details = (
        f"Lab order {order.id} from {order.lab}: {len(results)} result(s), "
        f"{flagged} flagged abnormal."
    )
    candidates = [order.ordered_by_id, patient.primary_physician_id]
    for assignee in dict.fromkeys(c for c in candidates if c is not None):
        try:
            create_task(
                session=session,
                data=TaskCreate(
                    title=f"Review results: {order.panel}"[:200],
                    details=details,
                    assignee_id=assignee,
                    patient_id=order.patient_id,
                    due_on=now.date(),
                ),
                source_ref=ref,
                now=now,
                actor=actor,
            )
        except (InvalidInput, NotFound):
            continue  # an external or inactive orderer: the primary physician reviews
        return 1
    return 0


def tell_correction(
    *, session: Session, order: LabOrder, correction: Correction, now: datetime
) -> CareMessage:
    """The ordering clinician's care-team message about a corrected result."""
    message = CareMessage(
        patient_id=order.patient_id,
        sender_id=None,
        recipient_id=order.ordered_by_id,
        kind=MessageKind.GENERAL,
        subject=f"Corrected result: {correction.analyte}"[:200],
        body=(
            f"The laboratory ({order.lab}) corrected {correction.analyte} on the {order.panel} "
            f"(lab order {order.id}): previously {correction.before}, now {correction.after}."
        ),
        source_ref=f"lab_result:{correction.result_id}",
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message
