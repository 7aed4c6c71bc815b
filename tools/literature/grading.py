"""Evidence grade from publication type and design words.

PubMed publication types decide when present; feed items have none, so the title and
abstract's design words are read instead (e.g. "randomised, double-blind, placebo-controlled").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from db.models import EvidenceGrade
from tools.literature.text import fold

G = EvidenceGrade

# PubMed publication types, strongest design first.
_TYPES: tuple[tuple[EvidenceGrade, tuple[str, ...]], ...] = (
    (G.SYSTEMATIC_REVIEW, ("meta analysis", "network meta analysis", "systematic review")),
    (
        G.RCT,
        (
            "randomized controlled trial",
            "equivalence trial",
            "pragmatic clinical trial",
            "clinical trial phase iii",
            "clinical trial phase iv",
        ),
    ),
    (
        G.OBSERVATIONAL,
        (
            "observational study",
            "controlled clinical trial",
            "clinical trial",
            "clinical trial phase i",
            "clinical trial phase ii",
            "comparative study",
            "multicenter study",
            "twin study",
            "validation study",
        ),
    ),
    (G.CASE_REPORT, ("case reports",)),
    (
        G.NARRATIVE,
        (
            "review",
            "scoping review",
            "editorial",
            "comment",
            "letter",
            "practice guideline",
            "guideline",
            "consensus development conference",
            "news",
            "historical article",
        ),
    ),
)

# Design words in a title or abstract, strongest first.
_WORDS: tuple[tuple[EvidenceGrade, re.Pattern[str]], ...] = (
    (G.SYSTEMATIC_REVIEW, re.compile(r"\b(meta analys[ie]s|systematic review|umbrella review)\b")),
    (
        G.RCT,
        re.compile(r"\b(double blind|placebo controlled|sham controlled|(?<!non )randomi[sz]ed)\b"),
    ),
    (
        G.OBSERVATIONAL,
        re.compile(
            r"\b(cohort|case control|cross sectional|prospective study|retrospective"
            r"|longitudinal study|population based|registry|observational|open label|single arm"
            r"|pilot study|non randomi[sz]ed|controlled trial|clinical trial|pragmatic)\b"
        ),
    ),
    (G.CASE_REPORT, re.compile(r"\b(case report|case series|a case of)\b")),
    (
        G.NARRATIVE,
        re.compile(
            r"\b(narrative review|review|editorial|commentary|perspective"
            r"|opinion|consensus statement)\b"
        ),
    ),
)


# An abstract mentions other designs ("unlike earlier randomised trials", "meta-analyses have
# shown"); there only a statement of this study's own design counts.
_OWN_DESIGN: tuple[tuple[EvidenceGrade, re.Pattern[str]], ...] = (
    (
        G.SYSTEMATIC_REVIEW,
        re.compile(
            r"\b(we|this) (performed|conducted|undertook|present|report)?\s*(a |an |this )?"
            r"(systematic review|meta analysis|umbrella review)"
            r"|\bsystematic review and (network )?meta analysis\b"
            r"|\b(searched|search of) (medline|pubmed|embase|cochrane)"
        ),
    ),
    (
        G.RCT,
        re.compile(
            r"\b(were|was) randomi[sz]ed\b|\brandomly (assigned|allocated)\b"
            r"|\b(this|a|our|the present) (double blind |single blind |multicent(er|re) "
            r"|placebo controlled |sham controlled )*randomi[sz]ed\b"
            r"|\bdouble blind\b|\b(placebo|sham) controlled\b"
        ),
    ),
)


def grade(
    *, publication_types: Sequence[str], title: str = "", abstract: str = ""
) -> EvidenceGrade:
    """The strongest design the publication types (else the text) show."""
    kinds = {fold(t) for t in publication_types}
    title_text = fold(title)
    abstract_text = fold(abstract)
    if kinds & {"retraction of publication", "published erratum", "expression of concern"}:
        return G.NARRATIVE  # a notice about another paper, not a study
    for level, names in _TYPES:
        if kinds.intersection(names):
            # Indexers often tag a systematic (or umbrella) review plain "Review".
            if level == G.NARRATIVE and (
                _WORDS[0][1].search(title_text) or _OWN_DESIGN[0][1].search(abstract_text)
            ):
                return G.SYSTEMATIC_REVIEW
            return level
    # "Journal Article" alone says nothing: fall back to the words, the title's first.
    for level, pattern in _WORDS:
        if pattern.search(title_text):
            return level
    for level, pattern in _OWN_DESIGN:
        if pattern.search(abstract_text):
            return level
    for level, pattern in _WORDS[2:4]:  # cohort, case-control, case report... in the abstract
        if pattern.search(abstract_text):
            return level
    return G.UNKNOWN
