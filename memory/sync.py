"""Keep memory in step with the practice database by draining the change log (db.changelog).

Each batch: read the oldest change rows, keep the last word per record, apply them to
Chroma (upserts re-read the record, deletes remove its vectors, erasures remove a patient's),
then delete exactly those rows. Chroma writes are idempotent, so a crash or an unreachable
Chroma server at any point leaves the rows in place and the next drain repeats the work:
nothing is lost and nothing is duplicated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, delete
from sqlmodel import Session, col, func, select

from db.changelog import DELETE, ERASE, UPSERT
from db.models import MemoryChange
from memory.sources import SOURCES, build_documents
from memory.store import MemoryStore

log = logging.getLogger(__name__)
BATCH = 256


@dataclass
class SyncReport:
    changes: int = 0  # change-log rows consumed
    upserted: int = 0  # records (re)indexed
    deleted: int = 0  # records removed
    erased_patients: int = 0
    skipped: list[str] = field(default_factory=list)  # records that cannot be remembered


def pending(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(MemoryChange)).one())


def _plan(rows: list[MemoryChange]) -> dict[str, str]:
    """source -> its last op, in log order (a note added then deleted is just deleted)."""
    last: dict[str, str] = {}
    for row in rows:
        last.pop(row.source, None)
        last[row.source] = row.op
    return last


def _apply(session: Session, store: MemoryStore, plan: dict[str, str], report: SyncReport) -> None:
    upserts: dict[str, list[int]] = {}
    deletes: list[str] = []
    for source, op in plan.items():
        kind, _, ident = source.partition(":")
        if op == ERASE and kind == "patient":
            report.erased_patients += 1
            store.erase_patient(int(ident))
        elif op == DELETE:
            deletes.append(source)
        elif op == UPSERT and kind in SOURCES and ident.isdigit():
            upserts.setdefault(kind, []).append(int(ident))
        else:  # written by a newer Steve, or hand-made: say so without guessing
            report.skipped.append(source)
    if deletes:
        store.delete(deletes)
        report.deleted += len(deletes)
    for kind, ids in upserts.items():
        spec = SOURCES[kind]
        # A record gone since its change row was written is covered by its own delete row.
        rows = session.exec(select(spec.model).where(col(spec.model.id).in_(ids))).all()
        docs, skipped = build_documents(session, spec, rows)
        if skipped:
            report.skipped.extend(f"{kind}:{row.id}" for row in skipped)
            # Text that can no longer be stored must not leave an older version searchable.
            store.delete([spec.memory_id(row) for row in skipped])
        store.upsert(docs)
        report.upserted += len(docs)
    if any(op == ERASE for op in plan.values()):
        # Erasure: also the text Chroma's log and index keep after a delete (retried with
        # the batch when the store is busy).
        store.purge_deleted_text()


def drain(
    *,
    engine: Engine,
    store: MemoryStore,
    max_batches: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> SyncReport:
    """Apply every pending change (or `max_batches` batches of them) to memory."""
    report = SyncReport()
    batches = 0
    with Session(engine) as session:
        total = pending(session)
    while max_batches is None or batches < max_batches:
        with Session(engine, expire_on_commit=False) as session:
            rows = list(
                session.exec(select(MemoryChange).order_by(col(MemoryChange.id)).limit(BATCH))
            )
            if not rows:
                break
            _apply(session, store, _plan(rows), report)
            session.exec(delete(MemoryChange).where(col(MemoryChange.id).in_([r.id for r in rows])))  # type: ignore[call-overload]
            session.commit()
        report.changes += len(rows)
        batches += 1
        if progress:
            progress("changes", report.changes, max(total, report.changes))
    if report.skipped:
        log.warning("memory sync skipped %d record(s): %s", len(report.skipped), report.skipped)
    return report


def forget_pending(session: Session, *, up_to: int) -> int:
    """Drop change rows up to an id (a full rebuild from the database has covered them)."""
    result = session.exec(delete(MemoryChange).where(col(MemoryChange.id) <= up_to))  # type: ignore[call-overload]
    count: int | None = getattr(result, "rowcount", None)
    return count or 0


def last_change_id(session: Session) -> int:
    last = session.exec(select(func.max(col(MemoryChange.id)))).one()
    return int(last or 0)
