"""What goes into memory, checked before anything reaches Chroma: documents cut into the
chunks they are stored as, the collection each lands in, and the ids, queries and result
counts callers pass.

Checks never echo text: a query or a document may be about a patient.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from memory.chunking import chunk_document
from memory.documents import (
    DOCUMENTS,
    LITERATURE,
    MESSAGES,
    NOTES,
    PREFERENCES,
    MemoryDocument,
    clean_text,
)
from tools.errors import InvalidInput

COLLECTIONS = (NOTES, LITERATURE, DOCUMENTS, PREFERENCES)
# Care-team messages live beside the notes: both are what the team wrote about a patient.
_COLLECTION_FOR = {NOTES: NOTES, MESSAGES: NOTES, LITERATURE: LITERATURE}
_COLLECTION_FOR.update({DOCUMENTS: DOCUMENTS, PREFERENCES: PREFERENCES})
# About 2 MB of prose (chunking's own character cap) at the default chunk size; more than
# this is a book, not a record, and would take minutes to embed on a practice's CPU.
MAX_CHUNKS = 2000
MAX_RESULTS = 1000


def checked_id(value: int, what: str = "patient_id") -> int:
    """A patient's or practitioner's id as given, or InvalidInput (bools are not ids)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{what} must be an integer; got {value!r}")
    return value


def check_query(query: str, k: int) -> None:
    """A non-empty UTF-8 query and a result count from 1 to MAX_RESULTS."""
    # Never echo the query: it may be about a patient.
    if not isinstance(query, str) or not query.strip():
        raise InvalidInput("search query is empty")
    if not is_utf8(query):
        raise InvalidInput("search query is not valid UTF-8")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_RESULTS:
        raise InvalidInput(f"k must be an integer from 1 to {MAX_RESULTS}; got {k!r}")


def is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def collection_name(name: str) -> str:
    if name not in COLLECTIONS:
        raise InvalidInput(f"no memory collection {name!r}; use one of {', '.join(COLLECTIONS)}")
    return name


def target_collection(doc: MemoryDocument) -> str:
    """The collection a document is stored in (messages go beside the notes)."""
    try:
        return _COLLECTION_FOR[doc.collection]
    except KeyError:
        raise InvalidInput(f"{doc.id}: unknown memory collection {doc.collection!r}") from None


def prepare(doc: MemoryDocument) -> list[MemoryDocument]:
    """The chunks a document is stored as, or InvalidInput naming it: callers that must not
    let one bad record stop a batch (sync, reindex) can check each document with this first.

    The text is cleaned as memory.documents cleans it; `source_id` is set by the store.
    """
    if not isinstance(doc.id, str) or not doc.id.strip() or not is_utf8(doc.id):
        raise InvalidInput("a memory document needs a non-empty id")
    if not isinstance(doc.text, str | bytes):
        raise InvalidInput(f"{doc.id}: text must be a string")
    text = clean_text(doc.text, source_id=doc.id)  # invalid UTF-8, surrogates, empty
    if not isinstance(doc.metadata, Mapping):
        raise InvalidInput(f"{doc.id}: metadata must be a mapping")
    for key, value in doc.metadata.items():
        if not isinstance(key, str) or not key or key.startswith("chroma:") or not is_utf8(key):
            raise InvalidInput(f"{doc.id}: metadata keys must be plain non-empty strings")
        if value is None or not isinstance(value, str | int | float | bool):
            raise InvalidInput(f"{doc.id}: metadata {key} must be a str, int, float, bool")
        if (isinstance(value, float) and not math.isfinite(value)) or (
            isinstance(value, str) and not is_utf8(value)
        ):
            raise InvalidInput(f"{doc.id}: metadata {key} is not a finite number or valid text")
    target_collection(doc)
    try:
        chunks = chunk_document(MemoryDocument(doc.id, doc.collection, text, dict(doc.metadata)))
    except InvalidInput as exc:
        raise InvalidInput(f"{doc.id}: {exc}") from None
    if len(chunks) > MAX_CHUNKS:
        raise InvalidInput(
            f"{doc.id}: text would be {len(chunks):,} chunks; the limit for one document is "
            f"{MAX_CHUNKS:,} (store it as several records)"
        )
    # source_id (and chunk numbers) are ours: stale-chunk cleanup and deletion rely on them.
    return [
        MemoryDocument(c.id, c.collection, c.text, {**c.metadata, "source_id": doc.id})
        for c in chunks
    ]
