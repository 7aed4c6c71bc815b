"""Citations: the reference syntax every document cites its sources in, and the sentence
splitter the checks work on. Pure text, no model and no database.

A citation is a bracket of `kind:value` references: `[pmid:39000001]`, `[pmid:1, pmid:2]`,
`[doi:10.5555/x]`, `[lab:412; note:87]`. `cite` puts one inside a sentence, `find_refs`
reads them back, `neutralise_citations` makes citation-shaped brackets in untrusted text
inert. The checker that drops ungrounded sentences is agent.documents.verify.

The splitter leans towards splitting too often rather than too rarely: an over-split loses a
fragment (the checker drops it as uncited), an under-split could let an uncited claim ride
along with a cited one.
"""

from __future__ import annotations

import re

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


def cite(sentence: str, ref: str) -> str:
    """`X improved.` -> `X improved [pmid:1].` (the citation inside the sentence)."""
    sentence = sentence.strip()
    m = re.search(r"[.!?]+[\"'\u201d\u2019)]*$", sentence)
    if m:
        return f"{sentence[: m.start()].rstrip()} [{ref}]{sentence[m.start() :]}"
    return f"{sentence} [{ref}]."
