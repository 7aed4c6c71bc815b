"""Evidence grades from PubMed publication types, else from design words."""

from __future__ import annotations

import pytest

from db.models import EvidenceGrade as G
from tools.literature.grading import grade


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        (["Journal Article", "Meta-Analysis", "Randomized Controlled Trial"], G.SYSTEMATIC_REVIEW),
        (["Systematic Review", "Journal Article"], G.SYSTEMATIC_REVIEW),
        (["Randomized Controlled Trial", "Journal Article"], G.RCT),
        (["Clinical Trial, Phase III"], G.RCT),
        (["Observational Study"], G.OBSERVATIONAL),
        (["Clinical Trial"], G.OBSERVATIONAL),  # not randomised
        (["Case Reports"], G.CASE_REPORT),
        (["Review", "Journal Article"], G.NARRATIVE),
        (["Editorial"], G.NARRATIVE),
    ],
)
def test_publication_types_decide(types: list[str], expected: G) -> None:
    assert grade(publication_types=types, title="x", abstract="a randomised trial") == expected


def test_a_systematic_review_tagged_review_is_still_systematic() -> None:
    title = "Omega-3 fatty acids and depressive symptoms: an umbrella review"
    assert grade(publication_types=["Review"], title=title) == G.SYSTEMATIC_REVIEW
    assert grade(publication_types=["Review"], title="The gut-brain axis") == G.NARRATIVE


@pytest.mark.parametrize(
    ("title", "abstract", "expected"),
    [
        (
            "Acupuncture for migraine: a systematic review and meta-analysis",
            "",
            G.SYSTEMATIC_REVIEW,
        ),
        (
            "Low-FODMAP diet in IBS",
            "In this randomised, double-blind, placebo-controlled trial",
            G.RCT,
        ),
        ("Magnesium and fibromyalgia", "A prospective cohort of 4,000 women", G.OBSERVATIONAL),
        ("Vitamin D and sleep", "A cross-sectional analysis of survey data", G.OBSERVATIONAL),
        ("Severe hypermagnesaemia after supplements: a case report", "", G.CASE_REPORT),
        ("Curcumin in chronic pain: a narrative review", "", G.NARRATIVE),
        ("Gut feelings", "We review the evidence on the gut-brain axis", G.UNKNOWN),
        ("Gut feelings", "", G.UNKNOWN),
        ("Electroacupuncture in fibromyalgia: a sham-controlled study", "", G.RCT),
        ("Diet and IBS", "Patients were randomised to diet or advice.", G.RCT),
        (
            "Diet and IBS",
            "Unlike earlier randomised trials, this cohort of 900 adults...",
            G.OBSERVATIONAL,
        ),
        ("The gut-brain axis", "Meta-analyses have shown benefits of probiotics.", G.UNKNOWN),
        ("Probiotics in IBS", "We searched MEDLINE and Embase for trials.", G.SYSTEMATIC_REVIEW),
        ("Yoga for back pain", "A non-randomised comparison of two groups", G.OBSERVATIONAL),
        ("Health coaching: a pragmatic multicentre controlled trial", "", G.OBSERVATIONAL),
    ],
)
def test_design_words_when_no_types(title: str, abstract: str, expected: G) -> None:
    assert grade(publication_types=["Journal Article"], title=title, abstract=abstract) == expected


def test_notices_are_not_studies() -> None:
    title = "Retraction Note: Curcumin reverses NAFLD: a randomised trial"
    assert grade(publication_types=["Retraction of Publication"], title=title) == G.NARRATIVE


def test_ranks_order_the_grades() -> None:
    ordered = [G.SYSTEMATIC_REVIEW, G.RCT, G.OBSERVATIONAL, G.CASE_REPORT, G.NARRATIVE, G.UNKNOWN]
    assert [g.rank for g in ordered] == sorted((g.rank for g in ordered), reverse=True)
    assert G.RCT.label == "randomised controlled trial"
