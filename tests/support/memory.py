"""The real offline embedder for memory tests, remembering what it has embedded.

Same model name and vectors as production (so collections behave exactly as in use); the cache
only saves the test suite from embedding the same sentence twice on a 2-core machine.
"""

from __future__ import annotations

from collections.abc import Sequence

from memory.embeddings import LocalMiniLM

_CACHE: dict[str, list[float]] = {}


class MemoisedMiniLM:
    def __init__(self) -> None:
        self.inner = LocalMiniLM()
        self.name = self.inner.name
        self.dim = self.inner.dim
        self.calls = 0  # how many texts really went through the model

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if t not in _CACHE]
        if missing:
            self.calls += len(missing)
            _CACHE.update(zip(missing, self.inner.embed(missing), strict=True))
        return [_CACHE[t] for t in texts]
