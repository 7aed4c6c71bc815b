"""Split long documents into overlapping chunks for embedding and lexical search.

A text is cut at paragraph boundaries first, then sentences, then words; only a single word
longer than `max_chars` (a pasted URL or base64 blob) is cut inside itself, into pieces of
exactly `max_chars`. So every chunk is at most `max_chars` long, chunks come in text order,
and together they cover every non-whitespace character. Each chunk is a verbatim slice of
the text (whitespace at its ends trimmed).

Overlap is made of whole pieces (sentences or words) from the end of the previous chunk, up
to `overlap` characters: a sentence longer than that is not repeated, so the overlap can be
shorter than asked, but never cuts a word.
"""

from __future__ import annotations

import re
from dataclasses import replace

from memory.documents import MemoryDocument
from tools.errors import InvalidInput

MAX_TEXT_CHARS = 2_000_000
DEFAULT_MAX_CHARS = 1200
DEFAULT_OVERLAP = 150
# all-MiniLM-L6-v2 reads 256 tokens. Clinical prose of 1,200 characters fits (2% cut), but
# abstracts are denser (numbers, units, long terms): 14% of 1,200-character chunks ran past
# the window, so their tails were never embedded. 1,000 characters keeps them inside.
MAX_CHARS_FOR = {"literature": 1000}

_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_SPACE = re.compile(r"\s+")

Span = tuple[int, int]


def _trim(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _split(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[Span]:
    spans = []
    cursor = start
    for match in pattern.finditer(text, start, end):
        piece = _trim(text, cursor, match.start())
        if piece:
            spans.append(piece)
        cursor = match.end()
    piece = _trim(text, cursor, end)
    if piece:
        spans.append(piece)
    return spans


def _pieces(text: str, span: Span, max_chars: int, level: int = 0) -> list[Span]:
    """Spans no longer than max_chars, using the coarsest boundary that gets there."""
    start, end = span
    if end - start <= max_chars:
        return [span]
    patterns = (_PARAGRAPH, _SENTENCE, _SPACE)
    for depth in range(level, len(patterns)):
        parts = _split(text, start, end, patterns[depth])
        if len(parts) > 1:
            out: list[Span] = []
            for part in parts:
                out.extend(_pieces(text, part, max_chars, depth + 1))
            return out
    # One word longer than a chunk: the only place a cut falls inside a word.
    return [(i, min(i + max_chars, end)) for i in range(start, end, max_chars)]


def _strength(text: str, before: Span, after: Span) -> int:
    """How natural a cut between two pieces is: paragraph 3, sentence 2, word 1, none 0."""
    gap = text[before[1] : after[0]]
    if not gap:
        return 0
    if _PARAGRAPH.search(gap):
        return 3
    return 2 if text[before[1] - 1] in ".!?" else 1


def _best_end(text: str, pieces: list[Span], first: int, last: int, max_chars: int) -> int:
    """Prefer ending a chunk at the strongest boundary in its second half over the greedy end."""
    if last + 1 >= len(pieces):
        return last
    start = pieces[first][0]
    best, best_strength = last, _strength(text, pieces[last], pieces[last + 1])
    for i in range(last - 1, first - 1, -1):
        if pieces[i][1] - start < max_chars // 2:
            break
        strength = _strength(text, pieces[i], pieces[i + 1])
        if strength > best_strength:
            best, best_strength = i, strength
    return best


def _check(text: str, max_chars: int, overlap: int) -> None:
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInput(
            f"text is {len(text):,} characters; the limit for one document is {MAX_TEXT_CHARS:,}"
        )
    if max_chars < 1:
        raise InvalidInput(f"max_chars must be at least 1; got {max_chars}")
    if not 0 <= overlap < max_chars:
        raise InvalidInput(f"overlap must be from 0 to max_chars - 1; got {overlap}")


def chunk_spans(
    text: str, *, max_chars: int = DEFAULT_MAX_CHARS, overlap: int = DEFAULT_OVERLAP
) -> list[Span]:
    """(start, end) of each chunk in the text; `chunk` returns the slices."""
    _check(text, max_chars, overlap)
    whole = _trim(text, 0, len(text))
    if whole is None:
        return []
    pieces = _pieces(text, whole, max_chars)
    spans: list[Span] = []
    first = 0
    while first < len(pieces):
        # Greedy: as many whole pieces as fit, the separators between them included.
        last = first
        start = pieces[first][0]
        while last + 1 < len(pieces) and pieces[last + 1][1] - start <= max_chars:
            last += 1
        last = _best_end(text, pieces, first, last, max_chars)
        spans.append((start, pieces[last][1]))
        if last + 1 >= len(pieces):
            break
        # The next chunk starts with the trailing pieces that fit in the overlap, as long
        # as the next new piece still fits with them; always past `first`, so it ends.
        following_end = pieces[last + 1][1]
        nxt = last + 1
        while (
            nxt - 1 > first
            and pieces[last][1] - pieces[nxt - 1][0] <= overlap
            and following_end - pieces[nxt - 1][0] <= max_chars
        ):
            nxt -= 1
        first = nxt
    return spans


def chunk(
    text: str, *, max_chars: int = DEFAULT_MAX_CHARS, overlap: int = DEFAULT_OVERLAP
) -> list[str]:
    """The text as chunks of at most max_chars; [] for blank text."""
    return [text[s:e] for s, e in chunk_spans(text, max_chars=max_chars, overlap=overlap)]


def chunk_id(doc_id: str, n: int) -> str:
    return f"{doc_id}#c{n}"


def source_id(chunk_or_doc_id: str) -> str:
    """The record a chunk came from: 'note:87#c2' -> 'note:87'."""
    return chunk_or_doc_id.split("#c", 1)[0]


def chunk_document(
    doc: MemoryDocument, *, max_chars: int | None = None, overlap: int = DEFAULT_OVERLAP
) -> list[MemoryDocument]:
    """One document per chunk; a text that fits keeps its plain id (the common case).

    The chunk size is the collection's (MAX_CHARS_FOR) unless given.
    """
    size = max_chars or MAX_CHARS_FOR.get(doc.collection, DEFAULT_MAX_CHARS)
    parts = chunk(doc.text, max_chars=size, overlap=overlap)
    if len(parts) <= 1:
        return [doc]
    return [
        replace(
            doc,
            id=chunk_id(doc.id, n),
            text=part,
            metadata={**doc.metadata, "source_id": doc.id, "chunk": n, "chunks": len(parts)},
        )
        for n, part in enumerate(parts)
    ]
