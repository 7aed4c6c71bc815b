"""What the runner evaluates: anything that can index memory documents and search them.

A vector ranker (Chroma and an embedding model) and a hybrid (BM25 + vectors, fused) slot in
behind the same protocol and are added to RANKERS.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from memory.documents import MemoryDocument
from memory.lexical import Hit, LexicalIndex, Where


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


RANKERS: dict[str, Callable[[], Ranker]] = {"bm25": BM25Ranker}
