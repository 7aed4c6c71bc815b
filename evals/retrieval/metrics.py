"""Ranking metrics over source ids (chunk ids are mapped to their source before scoring)."""

from __future__ import annotations

from collections.abc import Collection, Sequence


def recall_at(k: int, ranked: Sequence[str], expected: Collection[str]) -> float:
    """Share of the expected ids found in the first k results."""
    if not expected:
        raise ValueError("a labelled query needs at least one expected id")
    return len(set(ranked[:k]) & set(expected)) / len(set(expected))


def reciprocal_rank(ranked: Sequence[str], expected: Collection[str]) -> float:
    """1 / rank of the first expected id; 0 when none was retrieved."""
    wanted = set(expected)
    for rank, doc_id in enumerate(ranked, 1):
        if doc_id in wanted:
            return 1.0 / rank
    return 0.0


def dedupe_sources(ids: Sequence[str]) -> list[str]:
    """'note:5#c0', 'note:5#c1' -> 'note:5', keeping first-seen order."""
    return list(dict.fromkeys(i.split("#c", 1)[0] for i in ids))
