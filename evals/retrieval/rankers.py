"""What the runner evaluates: anything that can index memory documents and search them.

`bm25` is the keyword index; `vector` is the MemoryStore (Chroma in a temporary directory,
embedded by the bundled all-MiniLM-L6-v2); `hybrid` fuses the two rankings (reciprocal rank
fusion).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from typing import Protocol

from memory.documents import MemoryDocument
from memory.lexical import Hit, LexicalIndex, Where
from tools.errors import InvalidInput

RRF_K = 60  # the usual reciprocal-rank-fusion constant


class Ranker(Protocol):
    def index(self, docs: Sequence[MemoryDocument]) -> None: ...

    def search(self, query: str, k: int, where: Where) -> list[Hit]: ...


class BM25Ranker:
    def __init__(self) -> None:
        self._index = LexicalIndex()

    def index(self, docs: Sequence[MemoryDocument]) -> None:
        self._index.upsert(docs)

    def search(self, query: str, k: int, where: Where) -> list[Hit]:
        return self._index.search(query, k=k, where=where)


class VectorRanker:
    """The MemoryStore itself, over a throwaway Chroma directory."""

    def __init__(self) -> None:
        from memory.embeddings import LocalMiniLM
        from memory.store import MemoryStore

        self._dir = tempfile.TemporaryDirectory(prefix="steve-eval-chroma-")
        self._store = MemoryStore.persistent(self._dir.name, LocalMiniLM())

    def index(self, docs: Sequence[MemoryDocument]) -> None:
        self._store.upsert(docs)

    def search(self, query: str, k: int, where: Where) -> list[Hit]:
        if isinstance(where, dict) and set(where) == {"patient_id"}:
            patient_id = where["patient_id"]
            if isinstance(patient_id, bool) or not isinstance(patient_id, int):
                raise InvalidInput(f"patient_id must be an integer; got {patient_id!r}")
            found = self._store.search_patient(patient_id, query, k=k)
        elif where == {"kind": "article"}:
            found = self._store.search_literature(query, k=k)
        else:
            raise InvalidInput("the vector ranker filters by patient_id or kind=article only")
        return [Hit(h.id, h.score or 0.0, h.metadata) for h in found]


class HybridRanker:
    """BM25 and vectors, fused by reciprocal rank."""

    def __init__(self) -> None:
        self._rankers: list[Ranker] = [BM25Ranker(), VectorRanker()]

    def index(self, docs: Sequence[MemoryDocument]) -> None:
        for ranker in self._rankers:
            ranker.index(docs)

    def search(self, query: str, k: int, where: Where) -> list[Hit]:
        scores: dict[str, float] = {}
        metadata: dict[str, Hit] = {}
        for ranker in self._rankers:
            for rank, hit in enumerate(ranker.search(query, k, where)):
                scores[hit.id] = scores.get(hit.id, 0.0) + 1.0 / (RRF_K + rank + 1)
                metadata.setdefault(hit.id, hit)
        best = sorted(scores, key=lambda i: (-scores[i], i))[:k]
        return [Hit(i, scores[i], metadata[i].metadata) for i in best]


RANKERS: dict[str, Callable[[], Ranker]] = {
    "bm25": BM25Ranker,
    "vector": VectorRanker,
    "hybrid": HybridRanker,
}
