"""The unit long-term memory stores: one text with a stable id and flat metadata.

Ids come from the source record (`note:87`, `message:12`, `pmid:39100001`, `article:5`,
`document:briefing:2026-11-23:3`, `preference:3`), so re-indexing a record replaces its
entry instead of duplicating it, and a retrieved id is the reference documents cite.

Texts from outside the practice (network reports, abstracts, anything a patient wrote) are
data: they are kept verbatim here and never interpreted. Cleaning is limited to what would
break storage or tokenisation: invalid UTF-8 is refused, NUL and other control characters
are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from db.models import Article, CareMessage, ClinicalNote
from tools.errors import InvalidInput

MetadataValue = str | int | float | bool
Metadata = dict[str, MetadataValue]

NOTES, MESSAGES, LITERATURE, DOCUMENTS, PREFERENCES = (
    "notes",
    "messages",
    "literature",
    "documents",
    "preferences",
)

# C0/C1 controls except tab and newline; carriage returns become newlines first.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_KEY_PART = re.compile(r"^[A-Za-z0-9_.:-]+$")


@dataclass(frozen=True)
class MemoryDocument:
    id: str
    collection: str
    text: str
    # Flat scalars only: Chroma's metadata model, and enough for equality filters.
    metadata: Metadata = field(default_factory=dict)


def clean_text(raw: str | bytes, *, source_id: str) -> str:
    """Decode, drop control characters and refuse empty text; otherwise verbatim."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{source_id}: text is not valid UTF-8") from exc
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates cannot be stored or embedded
        raise InvalidInput(f"{source_id}: text is not valid UTF-8") from exc
    text = _CONTROL.sub("", raw.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise InvalidInput(f"{source_id}: text is empty")
    return text


def _when(value: date | datetime | None) -> Metadata:
    if value is None:
        return {}
    day = value.date() if isinstance(value, datetime) else value
    return {"date": day.isoformat(), "year": day.year}


def _compact(values: Mapping[str, MetadataValue | None]) -> Metadata:
    """Chroma refuses None values: a missing field is simply absent."""
    return {k: v for k, v in values.items() if v is not None}


def _join(title: str | None, body: str | bytes) -> str | bytes:
    if not title or not title.strip():
        return body
    if isinstance(body, bytes):
        return title.encode("utf-8") + b"\n\n" + body
    return f"{title}\n\n{body}"


def _require_id(record_id: int | None, kind: str) -> int:
    if record_id is None:
        raise InvalidInput(f"a {kind} must be saved (have an id) before it is remembered")
    return record_id


def from_note(note: ClinicalNote) -> MemoryDocument:
    doc_id = f"note:{_require_id(note.id, 'clinical note')}"
    metadata = _compact(
        {
            "kind": "note",
            "patient_id": note.patient_id,
            "practitioner_id": note.practitioner_id,
            "modality": str(note.modality),
            "origin": str(note.origin),
            "appointment_id": note.appointment_id,
        }
    )
    metadata.update(_when(note.written_at))
    text = clean_text(_join(note.title, note.body), source_id=doc_id)
    return MemoryDocument(doc_id, NOTES, text, metadata)


def from_message(message: CareMessage) -> MemoryDocument:
    doc_id = f"message:{_require_id(message.id, 'care-team message')}"
    metadata = _compact(
        {
            "kind": "message",
            "message_kind": str(message.kind),
            "patient_id": message.patient_id,
            # The sender is the practitioner who wrote it; empty when the assistant relayed it.
            "practitioner_id": message.sender_id,
            "recipient_id": message.recipient_id,
            "source_ref": message.source_ref,
        }
    )
    metadata.update(_when(message.created_at))
    text = clean_text(_join(message.subject, message.body), source_id=doc_id)
    return MemoryDocument(doc_id, MESSAGES, text, metadata)


def article_id(article: Article) -> str:
    """The article's reference (`pmid:N`, else `doi:X`, else `article:ID`): memory ids and
    citations are the same string, so a hit is cited as it is stored."""
    if not article.pmid and not article.doi:
        _require_id(article.id, "article")
    return article.ref


def from_article(article: Article, *, topics: Sequence[str] = ()) -> MemoryDocument:
    """Title, abstract and index terms; `topics` are the watch topics it matched, if known."""
    doc_id = article_id(article)
    metadata = _compact(
        {
            "kind": "article",
            "article_id": article.id,
            "pmid": article.pmid,
            "doi": article.doi,
            "grade": str(article.grade),
            "retracted": article.is_retracted,
            "topics": "; ".join(topics) if topics else None,
        }
    )
    metadata.update(_when(article.pub_date))
    parts = [article.title, article.abstract]
    terms = [*article.mesh_terms, *article.keywords]
    if terms:
        # Index terms are how PubMed says what a paper is about; worth finding it by.
        parts.append("Terms: " + "; ".join(dict.fromkeys(terms)))
    text = clean_text("\n\n".join(p for p in parts if p and p.strip()), source_id=doc_id)
    return MemoryDocument(doc_id, LITERATURE, text, metadata)


def from_document(
    *,
    kind: str,
    key: str,
    text: str | bytes,
    patient_id: int | None = None,
    practitioner_id: int | None = None,
    written_at: date | datetime | None = None,
) -> MemoryDocument:
    """A document Steve wrote (briefing, summary, digest): id `document:{kind}:{key}`."""
    for part, name in ((kind, "kind"), (key, "key")):
        if not _KEY_PART.match(part):
            raise InvalidInput(f"document {name} must be letters, digits, '_.:-'; got {part!r}")
    doc_id = f"document:{kind}:{key}"
    metadata = _compact(
        {
            "kind": "document",
            "document_kind": kind,
            "patient_id": patient_id,
            "practitioner_id": practitioner_id,
        }
    )
    metadata.update(_when(written_at))
    return MemoryDocument(doc_id, DOCUMENTS, clean_text(text, source_id=doc_id), metadata)


def from_preference(
    *,
    preference_id: int,
    text: str | bytes,
    practitioner_id: int | None = None,
    patient_id: int | None = None,
    recorded_at: date | datetime | None = None,
) -> MemoryDocument:
    """Something a person asked Steve to remember ('send my briefing at 7', 'no fish oil')."""
    doc_id = f"preference:{preference_id}"
    metadata = _compact(
        {"kind": "preference", "practitioner_id": practitioner_id, "patient_id": patient_id}
    )
    metadata.update(_when(recorded_at))
    return MemoryDocument(doc_id, PREFERENCES, clean_text(text, source_id=doc_id), metadata)
