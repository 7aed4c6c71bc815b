"""The checker: which sentences are kept and dropped, and why (the citation syntax it reads is
tested in tests/tools/test_citations.py)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.documents.verify import verify
from tools.citations import find_refs

ALLOWED = {"pmid:1", "pmid:2", "doi:10.5555/abc.1", "lab:412"}


def test_unknown_uncited_and_mixed_refs_are_dropped() -> None:
    text = (
        "Kept sentence [pmid:1]. Uncited sentence. Unknown ref [pmid:999]. "
        "One good one bad [pmid:1, pmid:999]. Lab value [lab:412]. Case-folded DOI "
        "[doi:10.5555/ABC.1]."
    )
    v = verify(text, allowed_refs=ALLOWED)
    assert v.kept == [
        "Kept sentence [pmid:1].",
        "Lab value [lab:412].",
        "Case-folded DOI [doi:10.5555/ABC.1].",
    ]
    assert [why for _, why in v.dropped] == [
        "no citation",
        "cites unknown reference: pmid:999",
        "cites unknown reference: pmid:999",
    ]
    assert (v.kept_count, v.dropped_count) == (3, 3)
    assert v.text == " ".join(v.kept)
    assert v.refs == ["pmid:1", "lab:412", "doi:10.5555/abc.1"]


def test_markdown_headings_bullets_and_paragraphs() -> None:
    text = """# Summary

Magnesium helped [pmid:1]. Everyone should take it.

## Details
- Fewer attacks [pmid:1].
- Uncited bullet.
- Two refs, one unknown [pmid:2, pmid:3].
  Continued line of a kept item [pmid:2].
1. Numbered item [lab:412].

## Bad heading [pmid:404]
---
"""
    v = verify(text, allowed_refs=ALLOWED)
    assert v.text.splitlines() == [
        "# Summary",
        "",
        "Magnesium helped [pmid:1].",
        "",
        "## Details",
        "- Fewer attacks [pmid:1].",
        "- Continued line of a kept item [pmid:2].",
        "1. Numbered item [lab:412].",
        "",
        "---",
    ]
    assert v.kept_count == 4
    reasons = dict(v.dropped)
    assert reasons["Everyone should take it."] == "no citation"
    assert reasons["Uncited bullet."] == "no citation"
    assert reasons["Two refs, one unknown [pmid:2, pmid:3]."] == "cites unknown reference: pmid:3"
    assert reasons["## Bad heading [pmid:404]"] == "cites unknown reference: pmid:404"
    assert v.dropped_count == 4


def test_empty_and_all_dropped() -> None:
    assert verify("", allowed_refs=ALLOWED).text == ""
    v = verify("Nothing here is cited. Nor here.", allowed_refs=ALLOWED)
    assert (v.text, v.kept_count, v.dropped_count) == ("", 0, 2)


# ------------------------------------------------------------------- properties

_refs = st.sampled_from(["pmid:1", "pmid:2", "lab:412", "pmid:3", "note:9", "doi:10.1/x"])
_words = st.lists(
    st.sampled_from(["magnesium", "vs.", "e.g.", "2.5", "mg", "Trial", "et al.", "reduced", "?"]),
    min_size=1,
    max_size=6,
)


@st.composite
def _documents(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        words = " ".join(draw(_words))
        refs = draw(st.lists(_refs, max_size=3))
        cited = f"{words} [{', '.join(refs)}]." if refs else f"{words}."
        prefix = draw(st.sampled_from(["", "- ", "# ", "1. ", "  "]))
        lines.append(prefix + cited)
        if draw(st.booleans()):
            lines.append("")
    return "\n".join(lines)


@settings(max_examples=200, deadline=None)
@given(doc=st.one_of(_documents(), st.text(max_size=300)))
def test_every_kept_sentence_cites_only_allowed_refs(doc: str) -> None:
    allowed = {"pmid:1", "lab:412"}
    v = verify(doc, allowed_refs=allowed)
    for sentence in v.kept:
        refs = find_refs(sentence)
        assert refs, sentence
        assert set(refs) <= allowed, sentence
    # Nothing in the verified document, headings included, cites anything else.
    assert set(find_refs(v.text)) <= allowed
    # Verifying twice changes nothing: the output is already grounded.
    again = verify(v.text, allowed_refs=allowed)
    assert again.dropped == []
