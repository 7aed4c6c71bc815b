"""Documents Steve wrote (briefings, digests, summaries): kept, so they can be re-read, mailed
and remembered. Writing the same (kind, key) again replaces the earlier version."""

from __future__ import annotations

import re
from datetime import date

from sqlmodel import Session, col, select

from db.engine import utcnow
from db.models import GeneratedDocument
from tools import audit
from tools.errors import InvalidInput, NotFound

_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,120}$")
KINDS = ("briefing", "digest", "summary", "review", "agenda")


def save_document(
    *,
    session: Session,
    kind: str,
    key: str,
    title: str,
    markdown: str,
    patient_id: int | None = None,
    practitioner_id: int | None = None,
    for_date: date | None = None,
    actor: str = "system",
) -> GeneratedDocument:
    if kind not in KINDS:
        raise InvalidInput(f"unknown document kind {kind!r}; use one of {', '.join(KINDS)}")
    if not _KEY.match(key):
        raise InvalidInput(f"document key must be 1-120 letters, digits or '_.:-'; got {key!r}")
    if not markdown.strip():
        raise InvalidInput(f"document {kind}:{key} is empty")
    doc = session.exec(
        select(GeneratedDocument).where(
            GeneratedDocument.kind == kind, GeneratedDocument.key == key
        )
    ).first()
    if doc is None:
        doc = GeneratedDocument(kind=kind, key=key, title=title[:300], markdown=markdown)
    doc.title = title[:300]
    doc.markdown = markdown
    doc.patient_id = patient_id
    doc.practitioner_id = practitioner_id
    doc.for_date = for_date
    doc.written_at = utcnow()
    session.add(doc)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="write",
        entity="document",
        entity_id=doc.id,
        patient_id=patient_id,
    )
    return doc


def get_document(
    *, session: Session, kind: str, key: str, actor: str = "system"
) -> GeneratedDocument:
    doc = session.exec(
        select(GeneratedDocument).where(
            GeneratedDocument.kind == kind, GeneratedDocument.key == key
        )
    ).first()
    if doc is None:
        raise NotFound("document", f"{kind}:{key}")
    audit.record(
        session=session,
        actor=actor,
        action="read",
        entity="document",
        entity_id=doc.id,
        patient_id=doc.patient_id,
    )
    return doc


def recent_documents(
    *, session: Session, kind: str | None = None, patient_id: int | None = None, limit: int = 50
) -> list[GeneratedDocument]:
    query = select(GeneratedDocument)
    if kind is not None:
        query = query.where(GeneratedDocument.kind == kind)
    if patient_id is not None:
        query = query.where(GeneratedDocument.patient_id == patient_id)
    return list(
        session.exec(query.order_by(col(GeneratedDocument.written_at).desc()).limit(limit)).all()
    )
