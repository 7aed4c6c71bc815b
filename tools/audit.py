"""The audit trail: who read or changed which patient's record. No clinical content is kept."""

from __future__ import annotations

from sqlmodel import Session

from db.models import AuditEvent


def record(
    *,
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None = None,
    patient_id: int | None = None,
    origin: str = "cli",
) -> None:
    """Add an audit row to the caller's transaction (it commits or rolls back with the work)."""
    session.add(
        AuditEvent(
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            patient_id=patient_id,
            origin=origin,
        )
    )
