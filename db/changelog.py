"""The memory change log: every write to a record long-term memory indexes leaves a row.

A SQLAlchemy `after_flush` hook sees each flushed insert, update and delete of the indexed
models and adds `memory_change` rows on the same connection, so they commit or roll back with
the write itself. memory.sync drains the log into Chroma. This module knows nothing of Chroma
or embeddings (tools never import memory); it only says which record changed and how.

Row meanings:
- `upsert` names the database record to (re)index: 'note:87', 'message:12', 'article:5',
  'preference:3', 'generated_document:7'.
- `delete` names the memory id to remove: 'note:87', 'pmid:39100001' / 'doi:...' /
  'article:5' (an article's reference), 'preference:3', 'document:briefing:2026-11-23:12'.
- `erase` names a patient ('patient:12') whose every vector must go (right to erasure).

Updates count only when a field that feeds the indexed text or its metadata changed, so
acknowledging a message or touching `updated_at` does not re-embed anything. Bulk Core inserts
(the demo generator) bypass the ORM and the log; `steve memory reindex` covers those.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session, UOWTransaction

from db.engine import utcnow
from db.models import (
    Article,
    ArticleMatch,
    CareMessage,
    ClinicalNote,
    GeneratedDocument,
    MemoryChange,
    Patient,
    Preference,
)
from db.models.literature import article_ref

UPSERT, DELETE, ERASE = "upsert", "delete", "erase"

# model -> (change-log kind, fields whose change means the memory entry is stale)
_INDEXED: dict[type[Any], tuple[str, frozenset[str]]] = {
    ClinicalNote: (
        "note",
        frozenset(
            {"body", "title", "patient_id", "practitioner_id", "modality", "written_at", "origin"}
        ),
    ),
    CareMessage: (
        "message",
        frozenset({"subject", "body", "patient_id", "sender_id", "recipient_id", "kind"}),
    ),
    Article: (
        "article",
        frozenset(
            {
                "title",
                "abstract",
                "mesh_terms",
                "keywords",
                "grade",
                "is_retracted",
                "pub_date",
                "pmid",
                "doi",
            }
        ),
    ),
    Preference: ("preference", frozenset({"text", "practitioner_id"})),
    GeneratedDocument: (
        "generated_document",
        frozenset({"kind", "key", "title", "markdown", "patient_id", "practitioner_id"}),
    ),
}


def _memory_id(obj: Any) -> str:
    """The id memory stores the record under (what a delete must remove)."""
    if isinstance(obj, Article):
        return article_ref(obj.pmid, obj.doi, obj.id)
    if isinstance(obj, GeneratedDocument):
        return obj.ref
    kind, _ = _INDEXED[type(obj)]
    return f"{kind}:{obj.id}"


def _old_value(state: Any, name: str) -> Any:
    history = state.attrs[name].history
    if history.deleted:
        return history.deleted[0]
    return getattr(state.object, name)


def _changes_for_update(obj: Any, fields: frozenset[str]) -> list[tuple[str, str]]:
    state = inspect(obj)
    changed = {name for name in fields if state.attrs[name].history.has_changes()}
    if not changed:
        return []
    kind, _ = _INDEXED[type(obj)]
    rows = [(f"{kind}:{obj.id}", UPSERT)]
    # A new PMID, DOI or document key moves the record to a new memory id: drop the old one.
    if isinstance(obj, Article) and changed & {"pmid", "doi"}:
        old = article_ref(_old_value(state, "pmid"), _old_value(state, "doi"), obj.id)
        if old != _memory_id(obj):
            rows.insert(0, (old, DELETE))
    if isinstance(obj, GeneratedDocument) and changed & {"kind", "key"}:
        old = f"document:{_old_value(state, 'kind')}:{_old_value(state, 'key')}"
        if old != obj.ref:
            rows.insert(0, (old, DELETE))
    return rows


def _record(session: Session, _flush: UOWTransaction) -> None:
    rows: list[tuple[str, str]] = []
    for obj in session.new:
        entry = _INDEXED.get(type(obj))
        if entry is not None:
            rows.append((f"{entry[0]}:{obj.id}", UPSERT))
        elif isinstance(obj, ArticleMatch):  # the article's topics (its metadata) grew
            rows.append((f"article:{obj.article_id}", UPSERT))
    for obj in session.dirty:
        entry = _INDEXED.get(type(obj))
        if entry is not None:
            rows.extend(_changes_for_update(obj, entry[1]))
    for obj in session.deleted:
        if isinstance(obj, Patient):
            rows.append((f"patient:{obj.id}", ERASE))
        elif type(obj) in _INDEXED:
            rows.append((_memory_id(obj), DELETE))
    if rows:
        now = utcnow()
        # Core insert on the flush's own connection: same transaction, no session state.
        session.connection().execute(
            insert(MemoryChange),
            [{"source": source, "op": op, "at": now} for source, op in rows],
        )


def install() -> None:
    """Start logging memory changes for every ORM session (idempotent)."""
    if not event.contains(Session, "after_flush", _record):
        event.listen(Session, "after_flush", _record)
