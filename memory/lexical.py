"""BM25 keyword search over memory documents, in memory, with no dependency.

Okapi BM25 (k1 = 1.5, b = 0.75) with Lucene's non-negative idf,
`log(1 + (N - n + 0.5) / (n + 0.5))`. Words are folded (case, accents, punctuation) and
plurals stemmed by `tools.literature.text.tokens`, so 'Migraines' finds 'migraine'; a short
English stop-word list keeps 'the' and 'of' from matching everything.

An inverted index (term -> {doc: term frequency}) means a search scores only documents that
share a word with the query, so 100,000 short documents stay fast. Ties in score are broken
by id, so results are deterministic.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from memory.documents import MemoryDocument, Metadata, MetadataValue
from tools.errors import InvalidInput
from tools.literature.text import tokens

K1 = 1.5
B = 0.75

STOP_WORDS = frozenset(
    """a about after again all also am an and any are as at be been before being but by can
    could did do does doing for from had has have having he her here hers him his how i if
    in into is it its itself me my no nor not of on or our ours she should since so some
    such than that the their them then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you
    your""".split()  # noqa: SIM905 (a word list reads better as prose)
)

Where = Callable[[Metadata], bool] | Mapping[str, MetadataValue] | None


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    metadata: Metadata


def terms(text: str) -> list[str]:
    """The indexed words of a text, stop words removed."""
    return [t for t in tokens(text) if t not in STOP_WORDS]


def _predicate(where: Where) -> Callable[[Metadata], bool] | None:
    if where is None or callable(where):
        return where
    wanted = dict(where)
    return lambda metadata: all(k in metadata and metadata[k] == v for k, v in wanted.items())


@dataclass
class _Entry:
    doc_id: str
    metadata: Metadata
    length: int
    terms: tuple[str, ...]  # distinct terms, to find its postings on removal


class LexicalIndex:
    """A BM25 index; `upsert` is idempotent, `add` refuses ids already present."""

    def __init__(self, *, k1: float = K1, b: float = B) -> None:
        self.k1 = k1
        self.b = b
        # Documents get a dense internal number: postings of ints are smaller than of strings.
        self._entries: dict[int, _Entry] = {}
        self._numbers: dict[str, int] = {}
        self._postings: dict[str, dict[int, int]] = {}
        self._next = 0
        self._total_length = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._numbers

    def add(self, docs: Iterable[MemoryDocument]) -> None:
        """Index new documents; InvalidInput (and nothing added) if an id is already here."""
        batch = list(docs)
        seen: set[str] = set()
        for doc in batch:
            if doc.id in self._numbers or doc.id in seen:
                raise InvalidInput(f"memory document {doc.id} is already indexed; use upsert")
            seen.add(doc.id)
        for doc in batch:
            self._insert(doc)

    def upsert(self, docs: Iterable[MemoryDocument]) -> None:
        """Index documents, replacing any with the same id (the last of a batch wins)."""
        for doc in docs:
            self._delete(doc.id)
            self._insert(doc)

    def remove(self, ids: Iterable[str]) -> int:
        """Forget documents; unknown ids are ignored. Returns how many were removed."""
        return sum(self._delete(doc_id) for doc_id in ids)

    def _insert(self, doc: MemoryDocument) -> None:
        counts = Counter(terms(doc.text))
        number = self._next
        self._next += 1
        length = sum(counts.values())
        self._entries[number] = _Entry(doc.id, dict(doc.metadata), length, tuple(counts))
        self._numbers[doc.id] = number
        self._total_length += length
        for term, tf in counts.items():
            self._postings.setdefault(term, {})[number] = tf

    def _delete(self, doc_id: str) -> bool:
        number = self._numbers.pop(doc_id, None)
        if number is None:
            return False
        entry = self._entries.pop(number)
        self._total_length -= entry.length
        for term in entry.terms:
            posting = self._postings[term]
            del posting[number]
            if not posting:
                del self._postings[term]
        return True

    def idf(self, term: str) -> float:
        """Lucene's BM25 idf for an already-normalised term (0 docs -> the largest value)."""
        n = len(self._postings.get(term, ()))
        total = len(self._entries)
        return math.log(1 + (total - n + 0.5) / (n + 0.5))

    def search(self, query: str, *, k: int = 10, where: Where = None) -> list[Hit]:
        """The k best documents for the query, best first; only those passing `where`.

        `where` is a predicate on metadata or a dict of metadata values that must all be
        equal. Repeated query words count once. A query of stop words only finds nothing.
        """
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InvalidInput(f"k must be a whole number of at least 1; got {k!r}")
        allowed = _predicate(where)
        wanted = [t for t in dict.fromkeys(terms(query)) if t in self._postings]
        if not wanted or not self._entries:
            return []
        average = self._total_length / len(self._entries) or 1.0
        scores: dict[int, float] = {}
        rejected: set[int] = set()
        for term in wanted:
            posting = self._postings[term]
            weight = self.idf(term) * (self.k1 + 1)
            for number, tf in posting.items():
                if number in rejected:
                    continue
                entry = self._entries[number]
                if number not in scores:
                    # Filter once per candidate, before any scoring work on it.
                    if allowed is not None and not allowed(entry.metadata):
                        rejected.add(number)
                        continue
                    scores[number] = 0.0
                norm = self.k1 * (1 - self.b + self.b * entry.length / average)
                scores[number] += weight * tf / (tf + norm)
        best = heapq.nsmallest(
            k, scores.items(), key=lambda item: (-item[1], self._entries[item[0]].doc_id)
        )
        return [
            Hit(self._entries[n].doc_id, score, dict(self._entries[n].metadata))
            for n, score in best
        ]
