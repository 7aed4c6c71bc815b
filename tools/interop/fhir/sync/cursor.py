"""How far each resource type of a FHIR server has been read: `sync_cursor` rows.

The cursor is the newest `meta.lastUpdated` of a page whose records are committed, kept as
the server wrote it (its precision and offset), so the next search asks the server in its
own words. It never moves backwards: re-reading an older window (`--since`) leaves it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from db.engine import utcnow
from db.models import SyncCursor


def parse_instant(text: str) -> datetime | None:
    """A FHIR instant (or dateTime) as an aware datetime; None when it is not one."""
    try:
        value = datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def newest_instant(resources: Iterable[dict[str, Any]]) -> str | None:
    """The latest `meta.lastUpdated` among the resources, as written (None if none has one)."""
    best: tuple[datetime, str] | None = None
    for resource in resources:
        meta = resource.get("meta")
        text = meta.get("lastUpdated") if isinstance(meta, dict) else None
        when = parse_instant(text) if isinstance(text, str) else None
        if when is not None and (best is None or when > best[0]):
            best = (when, text)  # type: ignore[assignment]
    return best[1] if best else None


def read_cursor(*, session: Session, source_system: str, resource_type: str) -> str | None:
    row = _row(session, source_system, resource_type)
    return row.last_updated if row else None


def read_cursors(
    *, session: Session, source_system: str | None = None
) -> list[tuple[str, str, str]]:
    """(source system, resource type, last updated) of every cursor (of one system if given)."""
    query = select(SyncCursor).order_by(col(SyncCursor.source_system), col(SyncCursor.id))
    if source_system is not None:
        query = query.where(SyncCursor.source_system == source_system)
    return [(r.source_system, r.resource_type, r.last_updated) for r in session.exec(query)]


def save_cursor(
    *,
    session: Session,
    source_system: str,
    resource_type: str,
    last_updated: str,
    now: datetime | None = None,
) -> str:
    """Move the cursor to `last_updated` unless it is already there or later (flushed, not
    committed: the caller commits it with the page it stands for). Where it now stands."""
    when = parse_instant(last_updated)
    if when is None:
        raise ValueError("a cursor must be a FHIR instant")
    row = _row(session, source_system, resource_type)
    if row is not None:
        current = parse_instant(row.last_updated)
        if current is not None and current >= when:
            return row.last_updated
        row.last_updated, row.saved_at = last_updated, now or utcnow()
    else:
        row = SyncCursor(
            source_system=source_system,
            resource_type=resource_type,
            last_updated=last_updated,
            saved_at=now or utcnow(),
        )
    session.add(row)
    session.flush()
    return last_updated


def _row(session: Session, source_system: str, resource_type: str) -> SyncCursor | None:
    return session.exec(
        select(SyncCursor).where(
            SyncCursor.source_system == source_system, SyncCursor.resource_type == resource_type
        )
    ).first()
