"""Supplement reorders and late lab results: the loose ends in stock and labs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from tools.models import LabOrder, LabStatus, SupplementItem, SupplementStatus
from tools.registry import PENDING_LAB_STATUSES


def reorders_due(*, session: Session, today: date, lead_days: int = 7) -> list[SupplementItem]:
    """Active supplement items whose reorder date is past or within `lead_days`."""
    stmt = (
        select(SupplementItem)
        .where(
            SupplementItem.status == SupplementStatus.ACTIVE,
            col(SupplementItem.reorder_on).is_not(None),
            col(SupplementItem.reorder_on) <= today + timedelta(days=lead_days),
        )
        .order_by(col(SupplementItem.reorder_on), col(SupplementItem.id))
    )
    return list(session.exec(stmt).all())


@dataclass(frozen=True)
class OverdueLab:
    order: LabOrder
    days_late: int


def overdue_labs(*, session: Session, today: date, grace_days: int = 2) -> list[OverdueLab]:
    """Lab orders still awaiting results more than `grace_days` after their expected date."""
    cutoff = today - timedelta(days=grace_days)
    stmt = (
        select(LabOrder)
        .where(
            col(LabOrder.status).in_(PENDING_LAB_STATUSES),
            col(LabOrder.expected_on).is_not(None),
            col(LabOrder.expected_on) < cutoff,
        )
        .order_by(col(LabOrder.expected_on), col(LabOrder.id))
    )
    return [
        OverdueLab(order=o, days_late=(today - o.expected_on).days)  # type: ignore[operator]
        for o in session.exec(stmt).all()
    ]


def unreviewed_results(*, session: Session) -> list[LabOrder]:
    """Results received but not yet reviewed by a clinician."""
    stmt = (
        select(LabOrder)
        .where(LabOrder.status == LabStatus.RECEIVED)
        .order_by(col(LabOrder.received_on))
    )
    return list(session.exec(stmt).all())
