"""Long-term memory vectors in Chroma: four collections, one embedding space each.

Steve computes every embedding itself (see memory.embeddings) and hands Chroma plain
vectors; Chroma never embeds anything, so it never reaches for its own default model.

Each collection records the embedding model and dimension it was built with; opening it
with a different embedder is refused (`steve memory reindex` rebuilds it) rather than mixing
two vector spaces.

Patient-scoped search always filters on `patient_id` inside Chroma, and checks every hit
again in code: a note about one patient is never returned for another.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from memory.chunking import chunk_document
from memory.documents import (
    DOCUMENTS,
    LITERATURE,
    MESSAGES,
    NOTES,
    PREFERENCES,
    MemoryDocument,
    Metadata,
)
from memory.embeddings import Embedder
from tools.errors import ConfigError, InvalidInput

COLLECTIONS = (NOTES, LITERATURE, DOCUMENTS, PREFERENCES)
# Care-team messages live beside the notes: both are what the team wrote about a patient.
_COLLECTION_FOR = {NOTES: NOTES, MESSAGES: NOTES, LITERATURE: LITERATURE}
_COLLECTION_FOR.update({DOCUMENTS: DOCUMENTS, PREFERENCES: PREFERENCES})
_WRITE_BATCH = 1000


@dataclass(frozen=True)
class Hit:
    id: str  # the chunk id ('note:87' or 'note:87#c2')
    source_id: str  # the record it came from ('note:87')
    collection: str
    text: str
    metadata: Metadata = field(default_factory=dict)
    score: float | None = None  # cosine similarity; None when not from a search


def _settings() -> Any:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False)


def _patient(patient_id: int) -> int:
    if isinstance(patient_id, bool) or not isinstance(patient_id, int):
        raise InvalidInput(f"patient_id must be an integer; got {patient_id!r}")
    return patient_id


def _query_text(query: str, k: int) -> None:
    if not query or not query.strip():
        raise InvalidInput("search query is empty")
    if k < 1:
        raise InvalidInput(f"k must be at least 1; got {k}")


def _collection_name(name: str) -> str:
    if name not in COLLECTIONS:
        raise InvalidInput(f"no memory collection {name!r}; use one of {', '.join(COLLECTIONS)}")
    return name


def _target(doc: MemoryDocument) -> str:
    try:
        return _COLLECTION_FOR[doc.collection]
    except KeyError:
        raise InvalidInput(f"{doc.id}: unknown memory collection {doc.collection!r}") from None


class MemoryStore:
    """Notes, literature, documents and preferences over one Chroma client."""

    def __init__(self, client: Any, embedder: Embedder, *, location: str, local: bool) -> None:
        self.client = client
        self.embedder = embedder
        self.location = location
        self._local = local
        self._collections: dict[str, Any] = {}

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def persistent(cls, path: str | Path, embedder: Embedder) -> MemoryStore:
        import chromadb

        location = str(Path(path))
        store = cls(None, embedder, location=location, local=True)
        with store._guard():
            store.client = chromadb.PersistentClient(path=location, settings=_settings())
            store.client.list_collections()
        return store

    @classmethod
    def http(cls, url: str, embedder: Embedder) -> MemoryStore:
        import chromadb

        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ConfigError(f"Chroma URL must look like http://host:port; got {url!r}")
        try:
            port = parsed.port or (443 if parsed.scheme == "https" else 8000)
        except ValueError:
            raise ConfigError(f"Chroma URL has an invalid port: {url!r}") from None
        location = f"{parsed.scheme}://{parsed.hostname}:{port}"
        store = cls(None, embedder, location=location, local=False)
        with store._guard():
            store.client = chromadb.HttpClient(
                host=parsed.hostname,
                port=port,
                ssl=parsed.scheme == "https",
                settings=_settings(),
            )
            store.client.heartbeat()
        return store

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn Chroma's failures to open its storage into one clear line."""
        try:
            yield
        except ConfigError:
            raise
        except Exception as exc:
            if self._local:
                raise ConfigError(
                    f"Chroma directory {self.location} cannot be opened "
                    f"({type(exc).__name__}); it may be corrupt or from another Chroma "
                    "version: move it aside and run `steve memory reindex`"
                ) from exc
            raise ConfigError(
                f"Chroma server at {self.location} is not reachable ({type(exc).__name__})"
            ) from exc

    def collection(self, name: str) -> Any:
        """The Chroma collection, created on first use, refused if built with another model."""
        name = _collection_name(name)
        cached = self._collections.get(name)
        if cached is not None:
            return cached
        from chromadb.errors import NotFoundError

        with self._guard():
            try:
                col = self.client.get_collection(name, embedding_function=None)
            except NotFoundError:
                col = self.client.get_or_create_collection(
                    name,
                    embedding_function=None,
                    metadata={"embedding_model": self.embedder.name, "dim": self.embedder.dim},
                    configuration={"hnsw": {"space": "cosine"}},
                )
        metadata = col.metadata or {}
        built_with = metadata.get("embedding_model", "an unknown model")
        dim = metadata.get("dim")
        if built_with != self.embedder.name or dim != self.embedder.dim:
            raise ConfigError(
                f"collection {name} was built with {built_with} ({dim} dimensions); "
                f"this Steve uses {self.embedder.name} ({self.embedder.dim} dimensions); "
                "run `steve memory reindex`"
            )
        self._collections[name] = col
        return col

    def reset(self, name: str) -> None:
        """Drop a collection (whatever model built it) so it is rebuilt with this embedder."""
        from chromadb.errors import NotFoundError

        name = _collection_name(name)
        self._collections.pop(name, None)
        with self._guard(), suppress(NotFoundError, ValueError):  # nothing to drop
            self.client.delete_collection(name)

    # -- writing ---------------------------------------------------------------------------

    def upsert(self, docs: Sequence[MemoryDocument]) -> int:
        """Store documents (chunked); a document seen before replaces all its old chunks.

        Returns the number of chunks written. Everything is checked before anything is written.
        """
        latest: dict[str, MemoryDocument] = {}
        for doc in docs:
            if not doc.text.strip():
                raise InvalidInput(f"{doc.id}: text is empty")
            for key, value in doc.metadata.items():
                if value is None or not isinstance(value, str | int | float | bool):
                    raise InvalidInput(f"{doc.id}: metadata {key} must be a str, int, float, bool")
            _target(doc)
            latest[doc.id] = doc
        by_collection: dict[str, list[MemoryDocument]] = {}
        for doc in latest.values():
            chunks = chunk_document(doc)
            by_collection.setdefault(_target(doc), []).extend(
                MemoryDocument(c.id, c.collection, c.text, {**c.metadata, "source_id": doc.id})
                for c in chunks
            )
        written = 0
        for name, chunks in by_collection.items():
            col = self.collection(name)
            sources = sorted({str(c.metadata["source_id"]) for c in chunks})
            vectors = self.embedder.embed([c.text for c in chunks])
            self._delete_where(col, {"source_id": {"$in": sources}})
            for start in range(0, len(chunks), _WRITE_BATCH):
                batch = chunks[start : start + _WRITE_BATCH]
                col.upsert(
                    ids=[c.id for c in batch],
                    embeddings=vectors[start : start + _WRITE_BATCH],
                    documents=[c.text for c in batch],
                    metadatas=[dict(c.metadata) for c in batch],
                )
            written += len(chunks)
        return written

    @staticmethod
    def _delete_where(col: Any, where: dict[str, Any]) -> int:
        ids = col.get(where=where, include=[])["ids"]
        for start in range(0, len(ids), _WRITE_BATCH):
            col.delete(ids=ids[start : start + _WRITE_BATCH])
        return len(ids)

    def delete(self, source_ids: Sequence[str]) -> int:
        """Remove every chunk of these records, in whichever collection; returns how many."""
        ids = sorted(set(source_ids))
        if not ids:
            return 0
        return sum(
            self._delete_where(self.collection(name), {"source_id": {"$in": ids}})
            for name in COLLECTIONS
        )

    def erase_patient(self, patient_id: int) -> int:
        """Delete every vector about this patient in every collection; returns how many."""
        where = {"patient_id": _patient(patient_id)}
        return sum(self._delete_where(self.collection(name), where) for name in COLLECTIONS)

    # -- reading ---------------------------------------------------------------------------

    def count(self, collection: str) -> int:
        return int(self.collection(collection).count())

    def _query(self, name: str, query: str, k: int, where: dict[str, Any] | None) -> list[Hit]:
        col = self.collection(name)
        [vector] = self.embedder.embed([query])
        result = col.query(
            query_embeddings=[vector],
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        hits = []
        rows = zip(
            result["ids"][0],
            (result["documents"] or [[]])[0],
            (result["metadatas"] or [[]])[0],
            (result["distances"] or [[]])[0],
            strict=True,
        )
        for hit_id, text, metadata, distance in rows:
            meta: Metadata = dict(metadata or {})
            source = str(meta.get("source_id", hit_id))
            hits.append(Hit(hit_id, source, name, text or "", meta, 1.0 - float(distance)))
        return hits

    def search_patient(
        self, patient_id: int, query: str, *, k: int = 5, collection: str = NOTES
    ) -> list[Hit]:
        """The k closest chunks about this patient, and only this patient."""
        patient_id = _patient(patient_id)
        _query_text(query, k)
        hits = self._query(collection, query, k, {"patient_id": patient_id})
        # Belt and braces: the filter above is Chroma's; this one is ours.
        return [
            h
            for h in hits
            if not isinstance(h.metadata.get("patient_id"), bool)
            and h.metadata.get("patient_id") == patient_id
        ]

    def search_literature(self, query: str, *, k: int = 10) -> list[Hit]:
        _query_text(query, k)
        return self._query(LITERATURE, query, k, None)

    def preferences_for(self, physician_id: int) -> list[Hit]:
        """Every preference recorded for this physician, in id order."""
        if isinstance(physician_id, bool) or not isinstance(physician_id, int):
            raise InvalidInput(f"physician_id must be an integer; got {physician_id!r}")
        got = self.collection(PREFERENCES).get(
            where={"practitioner_id": physician_id}, include=["documents", "metadatas"]
        )
        hits = []
        for hit_id, text, metadata in zip(
            got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True
        ):
            meta: Metadata = dict(metadata or {})
            if meta.get("practitioner_id") != physician_id:
                continue
            source = str(meta.get("source_id", hit_id))
            hits.append(Hit(hit_id, source, PREFERENCES, text or "", meta))
        return sorted(hits, key=lambda h: h.id)
