"""Rebuild long-term memory from the practice database (after a model change or a lost store).

Collections are dropped and rebuilt with the current embedder, so no collection ever mixes
two embedding spaces. Records are read and written in batches; a progress callback gets
(stage, done, total). Change-log rows written before the rebuild started are covered by it
and dropped at the end; rows written during it stay for the next drain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, func, select

from memory.inputs import COLLECTIONS
from memory.sources import SOURCES, build_documents
from memory.store import MemoryStore
from memory.sync import forget_pending, last_change_id

BATCH = 256
# Stage names shown to people, in rebuild order.
_STAGES = {
    "note": "notes",
    "message": "messages",
    "article": "articles",
    "generated_document": "documents",
    "preference": "preferences",
}


@dataclass
class ReindexReport:
    indexed: dict[str, int] = field(default_factory=dict)  # source kind -> records
    vectors: dict[str, int] = field(default_factory=dict)  # collection -> vectors after
    skipped: list[str] = field(default_factory=list)  # source ids refused (why in the log)


def _batches(session: Session, model: type[Any]) -> Iterator[Sequence[Any]]:
    last = 0
    while True:
        rows = session.exec(
            select(model).where(col(model.id) > last).order_by(col(model.id)).limit(BATCH)
        ).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def reindex(
    *,
    session: Session,
    store: MemoryStore,
    progress: Callable[[str, int, int], None] | None = None,
) -> ReindexReport:
    report = ReindexReport()
    covered = last_change_id(session)
    for name in COLLECTIONS:
        store.reset(name)
    for kind, stage in _STAGES.items():
        spec = SOURCES[kind]
        total = int(session.exec(select(func.count()).select_from(spec.model)).one())
        done = 0
        for rows in _batches(session, spec.model):
            docs, skipped = build_documents(session, spec, rows)
            report.skipped.extend(f"{kind}:{row.id}" for row in skipped)
            store.upsert(docs)
            done += len(rows)
            report.indexed[stage] = report.indexed.get(stage, 0) + len(docs)
            if progress:
                progress(stage, done, total)
        report.indexed.setdefault(stage, 0)
    forget_pending(session, up_to=covered)
    report.vectors = {name: store.count(name) for name in COLLECTIONS}
    return report
