"""The grounding verifier every document passes through: keep only sentences whose citations
all name known sources.

A citation is a bracket of `kind:value` references: `[pmid:39000001]`, `[pmid:1, pmid:2]`,
`[doi:10.5555/x]`, `[lab:412; note:87]`. A sentence is kept only if it cites at least one
reference and every reference it cites is allowed. Markdown structure survives: headings are
kept without a citation (unless they cite something unknown), bullet items are verified
sentence by sentence and vanish when nothing in them survives.

The splitter leans towards splitting too often rather than too rarely: an over-split loses a
fragment (it is dropped as uncited), an under-split could let an uncited claim ride along
with a cited one.

Given the facts behind each reference (`facts={"supplement:4": ["... started 2026-11-01"]}`),
the verifier also drops a sentence stating a date, time, number, dose or unit that none of the
facts it cites states (tools.grounding); headings, which cite nothing, are checked against
all the facts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tools.grounding import ungrounded_claims

_KIND = r"[A-Za-z][A-Za-z0-9_-]*"
_BRACKET = re.compile(r"\[([^\[\]\n]+)\]")
_REF = re.compile(rf"^({_KIND}):(\S+)$")
# Split a bracket's content only where the next part starts a new `kind:` reference, so a
# DOI containing ';' or ',' (old SICI DOIs do) stays whole.
_REF_SEP = re.compile(rf"\s*[,;]\s*(?={_KIND}:\S)")

# Terminal punctuation, closing quotes/parentheses, then any citations that follow it
# ("improved. [pmid:1] Next"): those belong to the sentence before.
_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)]*(?:\s*\[[^\[\]\n]*\])*(?=\s|$)")
_LAST_WORD = re.compile(r"(\S+)$")
# Abbreviations that end in a period mid-sentence. Units ("mg.") and "etc." are left out on
# purpose: they often end sentences, and not splitting there would be the unsafe mistake.
_ABBREVIATION_WORDS = (
    "e.g eg i.e ie vs v cf al approx ca fig figs dr mr mrs ms prof st jr sr vol incl resp"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())

_HEADING = re.compile(r"^\s{0,3}#{1,6}(\s|$)")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_BULLET = re.compile(r"^(\s*(?:[-*+\u2022]|\d{1,3}[.)])\s+)(.*)$")


@dataclass(frozen=True)
class Verified:
    text: str  # the verified document, Markdown structure kept
    kept: list[str]  # sentences kept (headings are structure, not listed)
    dropped: list[tuple[str, str]]  # (sentence, why)

    @property
    def kept_count(self) -> int:
        return len(self.kept)

    @property
    def dropped_count(self) -> int:
        return len(self.dropped)

    @property
    def refs(self) -> list[str]:
        """Every reference the verified text cites, in order of first appearance."""
        return find_refs(self.text)


def normalise_ref(ref: str) -> str:
    """`PMID:1` -> `pmid:1`; DOIs are case-insensitive, so their value is lower-cased too."""
    kind, _, value = ref.strip().partition(":")
    kind = kind.lower()
    value = value.strip()
    return f"{kind}:{value.lower() if kind == 'doi' else value}"


def _bracket_refs(content: str) -> list[str] | None:
    """The references in one bracket's content, or None when it is not a citation."""
    parts = _REF_SEP.split(content.strip())
    if not all(_REF.match(p) for p in parts):
        return None
    return [normalise_ref(p) for p in parts]


def find_refs(text: str) -> list[str]:
    """Every `kind:value` reference cited in `text`, normalised, in order, without repeats."""
    found: dict[str, None] = {}
    for m in _BRACKET.finditer(text):
        for ref in _bracket_refs(m.group(1)) or ():
            found.setdefault(ref, None)
    return list(found)


def neutralise_citations(text: str) -> str:
    """Make citation-shaped brackets in untrusted text inert: `[pmid:9]` -> `(pmid:9)`.

    An abstract quoting `[pmid:9]` must not look, to the verifier or a reader, as if the
    document cited pmid:9.
    """

    def _swap(m: re.Match[str]) -> str:
        return f"({m.group(1)})" if _bracket_refs(m.group(1)) is not None else m.group(0)

    return _BRACKET.sub(_swap, text)


def _is_boundary(text: str, start: int, m: re.Match[str]) -> bool:
    rest = text[m.end() :].lstrip()
    if not rest:
        return True
    if rest[0].islower():  # "vs. placebo", "approx. three": a sentence rarely starts lower-case
        return False
    punct_at = m.start()
    word_match = _LAST_WORD.search(text[start:punct_at])
    if word_match is None:
        return True
    word = word_match.group(1).lstrip("([\"'\u201c\u2018").lower()
    if word in _ABBREVIATIONS:
        return False
    # "No. 5", "Fig. 2": numbering abbreviations before a number
    return not (word in {"no", "nos", "p", "pp"} and rest[0].isdigit())


def split_sentences(text: str) -> list[str]:
    """Sentences of one paragraph of prose (line breaks count as spaces)."""
    text = " ".join(text.split())
    sentences: list[str] = []
    start = 0
    for m in _END.finditer(text):
        if m.end() <= start or not _is_boundary(text, start, m):
            continue
        sentence = text[start : m.end()].strip()
        if sentence:
            sentences.append(sentence)
        start = m.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _ungrounded(sentence: str, sources: Iterable[str]) -> str | None:
    claims = ungrounded_claims(sentence, sources)
    if not claims:
        return None
    return "states what its sources do not: " + ", ".join(dict.fromkeys(claims))


def _check(
    sentence: str, allowed: set[str], facts: Mapping[str, Sequence[str]] | None = None
) -> str | None:
    """Why a sentence must go, or None when it may stay."""
    refs = find_refs(sentence)
    if not refs:
        return "no citation"
    unknown = [r for r in refs if r not in allowed]
    if unknown:
        return (
            "cites unknown reference"
            + ("s" if len(unknown) > 1 else "")
            + ": "
            + ", ".join(unknown)
        )
    if facts is not None:
        return _ungrounded(sentence, (t for r in refs for t in facts.get(r, ())))
    return None


class _Verifier:
    def __init__(
        self, allowed: Iterable[str], facts: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        self.allowed = {normalise_ref(r) for r in allowed}
        self.facts = (
            None
            if facts is None
            else {normalise_ref(ref): list(texts) for ref, texts in facts.items()}
        )
        self.out: list[str] = []
        self.kept: list[str] = []
        self.dropped: list[tuple[str, str]] = []
        self.paragraph: list[str] = []
        self.bullet: tuple[str, list[str]] | None = None  # (marker, lines)

    def _sentences(self, text: str) -> list[str]:
        survivors = []
        for sentence in split_sentences(text):
            why = _check(sentence, self.allowed, self.facts)
            if why is None:
                survivors.append(sentence)
                self.kept.append(sentence)
            else:
                self.dropped.append((sentence, why))
        return survivors

    def flush(self) -> None:
        if self.paragraph:
            survivors = self._sentences(" ".join(self.paragraph))
            if survivors:
                self.out.append(" ".join(survivors))
            self.paragraph = []
        if self.bullet is not None:
            marker, lines = self.bullet
            survivors = self._sentences(" ".join(lines))
            if survivors:
                self.out.append(marker + " ".join(survivors))
            self.bullet = None

    def line(self, line: str) -> None:
        if not line.strip():
            self.flush()
            self.out.append("")
        elif _HEADING.match(line) or _RULE.match(line):
            self.flush()
            refs = find_refs(line)
            unknown = [r for r in refs if r not in self.allowed]
            ungrounded = (
                _ungrounded(line, (t for texts in self.facts.values() for t in texts))
                if self.facts is not None
                else None
            )
            if unknown:
                self.dropped.append(
                    (line.strip(), "cites unknown reference: " + ", ".join(unknown))
                )
            elif ungrounded:
                self.dropped.append((line.strip(), ungrounded))
            else:
                self.out.append(line.rstrip())
        elif bullet := _BULLET.match(line):
            self.flush()
            self.bullet = (bullet.group(1), [bullet.group(2)])
        elif self.bullet is not None:  # continuation of the item (indented or lazy)
            self.bullet[1].append(line.strip())
        else:
            self.paragraph.append(line.strip())

    def result(self) -> Verified:
        self.flush()
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(self.out)).strip()
        return Verified(text=text, kept=self.kept, dropped=self.dropped)


def verify(
    text: str,
    *,
    allowed_refs: set[str],
    facts: Mapping[str, Sequence[str]] | None = None,
) -> Verified:
    """Drop every sentence that cites nothing, or cites a reference outside `allowed_refs`;
    with `facts` (texts per reference), also every sentence stating a date, number, dose or
    unit that the facts it cites do not state."""
    verifier = _Verifier(allowed_refs, facts)
    for line in text.splitlines():
        verifier.line(line)
    return verifier.result()
