"""From practice records to memory documents: one builder per indexed kind, shared by the
full rebuild (memory.reindex) and the change-log drain (memory.sync)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from db.engine import in_batches
from db.models import (
    Article,
    ArticleMatch,
    CareMessage,
    ClinicalNote,
    GeneratedDocument,
    Preference,
    WatchTopic,
)
from memory.documents import (
    MemoryDocument,
    from_article,
    from_document,
    from_message,
    from_note,
    from_preference,
)
from memory.inputs import prepare


def _article_topics(session: Session, ids: Sequence[int]) -> dict[int, list[str]]:
    topics: dict[int, list[str]] = defaultdict(list)
    for batch in in_batches(ids):
        rows = session.exec(
            select(ArticleMatch.article_id, WatchTopic.name)
            .join(WatchTopic, col(WatchTopic.id) == col(ArticleMatch.topic_id))
            .where(col(ArticleMatch.article_id).in_(batch))
            .order_by(col(ArticleMatch.article_id), col(WatchTopic.name))
        ).all()
        for article_id, name in rows:
            if name not in topics[article_id]:
                topics[article_id].append(name)
    return topics


def _articles(session: Session, rows: Sequence[Article]) -> list[MemoryDocument]:
    topics = _article_topics(session, [r.id for r in rows if r.id is not None])
    return [from_article(r, topics=topics.get(r.id or 0, ())) for r in rows]


def _document(row: GeneratedDocument) -> MemoryDocument:
    return from_document(
        kind=row.kind,
        key=row.key,
        text=f"{row.title}\n\n{row.markdown}",
        patient_id=row.patient_id,
        practitioner_id=row.practitioner_id,
        written_at=row.written_at,
    )


def _preference(row: Preference) -> MemoryDocument:
    return from_preference(
        preference_id=row.id or 0,
        text=row.text,
        practitioner_id=row.practitioner_id,
        recorded_at=row.created_at,
    )


def _each(build: Callable[[Any], MemoryDocument]) -> Callable[[Session, Sequence[Any]], Any]:
    return lambda _session, rows: [build(r) for r in rows]


@dataclass(frozen=True)
class Source:
    kind: str  # the change-log kind: 'note', 'message', 'article', ...
    model: type[Any]
    build_many: Callable[[Session, Sequence[Any]], list[MemoryDocument]]

    def memory_id(self, row: Any) -> str:
        """The id the row is stored under in memory (an article's or document's ref)."""
        ref = getattr(row, "ref", None)
        return str(ref) if ref else f"{self.kind}:{row.id}"


SOURCES: dict[str, Source] = {
    s.kind: s
    for s in (
        Source("note", ClinicalNote, _each(from_note)),
        Source("message", CareMessage, _each(from_message)),
        Source("article", Article, _articles),
        Source("preference", Preference, _each(_preference)),
        Source("generated_document", GeneratedDocument, _each(_document)),
    )
}


def _storable(docs: list[MemoryDocument]) -> list[MemoryDocument]:
    for doc in docs:
        prepare(doc)  # the store's own checks: size, chunk count, metadata
    return docs


def build_documents(
    session: Session, source: Source, rows: Sequence[Any]
) -> tuple[list[MemoryDocument], list[Any]]:
    """Documents for these rows, and the rows that cannot be remembered (empty or enormous
    text): one such record must never stop a batch, or the sync would retry it forever."""
    try:
        return _storable(source.build_many(session, rows)), []
    except Exception:
        pass  # one bad row: build one by one to keep the rest
    docs: list[MemoryDocument] = []
    skipped: list[Any] = []
    for row in rows:
        try:
            docs.extend(_storable(source.build_many(session, [row])))
        except Exception:
            skipped.append(row)
    return docs, skipped
