"""Chunking long memory documents."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memory.chunking import MAX_TEXT_CHARS, chunk, chunk_document, chunk_spans, source_id
from memory.documents import MemoryDocument
from tools.errors import InvalidInput

WORDS = st.text(alphabet="abcdefghij.!?", min_size=1, max_size=30)
SEPARATORS = st.sampled_from([" ", " ", " ", "\n", "\n\n", ". ", "\t"])
TEXTS = st.lists(st.tuples(WORDS, SEPARATORS), max_size=120).map(
    lambda parts: "".join(w + s for w, s in parts)
)


@given(TEXTS, st.integers(10, 300), st.integers(0, 9))
@settings(max_examples=200, deadline=None)
def test_chunks_fit_cover_and_keep_order(text: str, max_chars: int, overlap: int) -> None:
    spans = chunk_spans(text, max_chars=max_chars, overlap=overlap)
    assert chunk(text, max_chars=max_chars, overlap=overlap) == [text[s:e] for s, e in spans]
    # Every chunk fits: a word longer than max_chars is the one thing cut mid-word.
    assert all(0 < e - s <= max_chars for s, e in spans)
    # Chunks are verbatim slices in text order, and together they cover every non-space.
    covered_to = 0
    for (start, end), (next_start, next_end) in itertools.pairwise(spans):
        assert start < next_start and end <= next_end
    for start, end in spans:
        assert not text[covered_to:start].strip()
        covered_to = max(covered_to, end)
    assert not text[covered_to:].strip()


def test_short_text_is_one_chunk_and_blank_is_none() -> None:
    assert chunk("  Pain 5/10.  ") == ["Pain 5/10."]
    assert chunk(" \n\t ") == []


def test_prefers_paragraphs_then_sentences() -> None:
    text = "First paragraph here.\n\n" + "Sentence one is long enough. " * 5 + "\n\nLast."
    chunks = chunk(text, max_chars=40, overlap=0)
    assert chunks[0] == "First paragraph here."
    assert all(c.endswith(".") for c in chunks)


def test_overlap_repeats_whole_sentences() -> None:
    text = " ".join(f"Sentence {n} ends." for n in range(30))
    chunks = chunk(text, max_chars=100, overlap=40)
    assert len(chunks) > 1
    for before, after in itertools.pairwise(chunks):
        assert after.split(". ")[0] + "." in before  # the next chunk starts inside the last


def test_a_word_longer_than_a_chunk_is_cut() -> None:
    chunks = chunk("x" * 25, max_chars=10, overlap=0)
    assert chunks == ["x" * 10, "x" * 10, "x" * 5]


def test_limits_are_clear() -> None:
    limit = re.escape(f"the limit for one document is {MAX_TEXT_CHARS:,}")
    with pytest.raises(InvalidInput, match=limit):
        chunk("a" * (MAX_TEXT_CHARS + 1))
    with pytest.raises(InvalidInput, match="overlap"):
        chunk("text", max_chars=10, overlap=10)
    with pytest.raises(InvalidInput, match="max_chars"):
        chunk("text", max_chars=0, overlap=0)


def test_chunk_document_ids() -> None:
    short = MemoryDocument("note:1", "notes", "Short note.", {"patient_id": 3})
    assert chunk_document(short) == [short]
    long = MemoryDocument("note:2", "notes", "A sentence here. " * 200, {"patient_id": 3})
    parts = chunk_document(long, max_chars=500, overlap=50)
    assert [p.id for p in parts] == [f"note:2#c{n}" for n in range(len(parts))]
    assert all(p.metadata["patient_id"] == 3 and p.metadata["source_id"] == "note:2" for p in parts)
    assert {source_id(p.id) for p in parts} == {"note:2"}
