"""Supplement reorders due and lab results overdue."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from db.models import LabOrder, LabStatus, SupplementItem, SupplementStatus
from tests.support import factories
from tools.supplies import overdue_labs, reorders_due, unreviewed_results

TODAY = date(2026, 11, 23)


def test_reorders_due_within_lead_time(session: Session) -> None:
    pat = factories.patient(session)

    def item(product: str, reorder: date | None, status=SupplementStatus.ACTIVE) -> None:
        session.add(
            SupplementItem(
                patient_id=pat.id,
                product=product,
                dose="1",
                frequency="daily",
                started_on=date(2026, 1, 1),
                reorder_on=reorder,
                status=status,
            )
        )

    item("late", date(2026, 11, 10))
    item("soon", date(2026, 11, 30))
    item("later", date(2026, 12, 15))
    item("none", None)
    item("stopped", date(2026, 11, 10), SupplementStatus.STOPPED)
    session.commit()
    assert [s.product for s in reorders_due(session=session, today=TODAY, lead_days=7)] == [
        "late",
        "soon",
    ]
    assert [s.product for s in reorders_due(session=session, today=TODAY, lead_days=0)] == ["late"]


def test_overdue_labs_after_grace(session: Session) -> None:
    doc = factories.practitioner(session)
    pat = factories.patient(session)

    def order(panel: str, expected: date, status=LabStatus.ORDERED) -> None:
        session.add(
            LabOrder(
                patient_id=pat.id,
                ordered_by_id=doc.id,
                lab="L",
                panel=panel,
                ordered_on=date(2026, 10, 1),
                expected_on=expected,
                status=status,
            )
        )

    order("very late", date(2026, 11, 1))
    order("in grace", date(2026, 11, 22))
    order("received", date(2026, 11, 1), LabStatus.RECEIVED)
    order("collected late", date(2026, 11, 15), LabStatus.COLLECTED)
    session.commit()
    found = overdue_labs(session=session, today=TODAY, grace_days=2)
    assert [(o.order.panel, o.days_late) for o in found] == [
        ("very late", 22),
        ("collected late", 8),
    ]
    assert [o.panel for o in unreviewed_results(session=session)] == ["received"]
