"""Rebuild long-term memory from the practice database (after a model change or a lost store).

Collections are dropped and rebuilt with the current embedder, so no collection ever mixes
two embedding spaces. Records are read and written in batches; a progress callback gets
(stage, done, total).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlmodel import Session, col, func, select

from memory.documents import MemoryDocument, from_article, from_message, from_note
from memory.store import LITERATURE, NOTES, MemoryStore
from tools.models import Article, CareMessage, ClinicalNote

BATCH = 256
T = TypeVar("T")


@dataclass
class ReindexReport:
    indexed: dict[str, int] = field(default_factory=dict)  # source kind -> records
    vectors: dict[str, int] = field(default_factory=dict)  # collection -> vectors after
    skipped: list[str] = field(default_factory=list)  # source ids refused (why in the log)


def _batches(session: Session, model: type[T]) -> Iterator[Sequence[T]]:
    last = 0
    while True:
        rows = session.exec(
            select(model).where(col(model.id) > last).order_by(col(model.id)).limit(BATCH)  # type: ignore[attr-defined]
        ).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id  # type: ignore[attr-defined]


def reindex(
    *,
    session: Session,
    store: MemoryStore,
    progress: Callable[[str, int, int], None] | None = None,
) -> ReindexReport:
    report = ReindexReport()
    for name in (NOTES, LITERATURE):
        store.reset(name)
    sources: list[tuple[str, type[Any], Callable[[Any], MemoryDocument]]] = [
        ("notes", ClinicalNote, from_note),
        ("messages", CareMessage, from_message),
        ("articles", Article, from_article),
    ]
    for kind, model, build in sources:
        total = int(session.exec(select(func.count()).select_from(model)).one())
        done = 0
        for rows in _batches(session, model):
            docs = []
            for row in rows:
                try:
                    docs.append(build(row))
                except Exception:  # one bad record never stops the rebuild
                    report.skipped.append(f"{kind}:{row.id}")
            store.upsert(docs)
            done += len(rows)
            report.indexed[kind] = report.indexed.get(kind, 0) + len(docs)
            if progress:
                progress(kind, done, total)
    report.vectors = {name: store.count(name) for name in (NOTES, LITERATURE)}
    return report
