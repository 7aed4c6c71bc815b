"""Citations: sentence splitting, reference parsing, citing, and making brackets inert."""

from __future__ import annotations

import pytest

from tools.citations import cite, find_refs, neutralise_citations, normalise_ref, split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Magnesium vs. placebo cut attacks by 2.5 days [pmid:1]. It was safe [pmid:1].",
            ["Magnesium vs. placebo cut attacks by 2.5 days [pmid:1].", "It was safe [pmid:1]."],
        ),
        (
            "Smith et al. found benefits, e.g. fewer attacks [pmid:1]. Next [pmid:2].",
            ["Smith et al. found benefits, e.g. fewer attacks [pmid:1].", "Next [pmid:2]."],
        ),
        (  # a citation after the full stop belongs to the sentence before
            "Symptoms improved. [pmid:1] Sleep did not [pmid:2].",
            ["Symptoms improved. [pmid:1]", "Sleep did not [pmid:2]."],
        ),
        (
            "Symptoms improved.[pmid:1] Uncited claim.",
            ["Symptoms improved.[pmid:1]", "Uncited claim."],
        ),
        ("Dose was 400 mg. Take it daily.", ["Dose was 400 mg.", "Take it daily."]),
        ("See Fig. 2 and No. 5 [lab:412].", ["See Fig. 2 and No. 5 [lab:412]."]),
        (
            'The trial asked "does it work?" and found yes [pmid:1]. Was it blinded? Yes [pmid:2]!',
            [
                'The trial asked "does it work?" and found yes [pmid:1].',
                "Was it blinded?",
                "Yes [pmid:2]!",
            ],
        ),
        ("No terminal punctuation [pmid:1]", ["No terminal punctuation [pmid:1]"]),
        ("Wrapped\nacross lines [pmid:1].", ["Wrapped across lines [pmid:1]."]),
        ("", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_find_refs_forms() -> None:
    text = (
        "A [pmid:1]. B [pmid:1, pmid:2]. C [doi:10.5555/ABC.1; lab:412]. "
        "D [95% CI: 1.2, 3.4] and [1] are not citations. E [PMID:7]."
    )
    assert find_refs(text) == ["pmid:1", "pmid:2", "doi:10.5555/abc.1", "lab:412", "pmid:7"]
    assert normalise_ref("DOI:10.5555/ABC") == "doi:10.5555/abc"
    assert normalise_ref("note:AbC") == "note:AbC"  # only DOIs are case-insensitive
    # An old SICI DOI with ';' inside stays one reference.
    assert find_refs("[doi:10.1002/(sici)1097;2-p]") == ["doi:10.1002/(sici)1097;2-p"]


def test_neutralise_citations() -> None:
    assert neutralise_citations("see [pmid:9] and [95% CI 1-2]") == "see (pmid:9) and [95% CI 1-2]"
    assert find_refs(neutralise_citations("[pmid:9, doi:10.1/x]")) == []


def test_cite_puts_the_reference_inside_the_sentence() -> None:
    assert cite("X improved.", "pmid:1") == "X improved [pmid:1]."
    assert cite('He said "yes."', "note:2") == 'He said "yes [note:2]."'
    assert cite("No full stop", "lab:3") == "No full stop [lab:3]."
