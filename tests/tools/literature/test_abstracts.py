"""What an abstract says: its sample size and its key sentences."""

from __future__ import annotations

import pytest

from tests.support.literature_factories import make_article
from tools.literature.abstracts import estimate_sample_size, key_sentences


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("We enrolled patients (n = 120) with IBS.", 120),
        ("Participants (N=45) completed the study.", 45),
        ("A total of 1,234 participants were randomised.", 1234),
        ("We randomised 240 postmenopausal women to soy or placebo.", 240),
        ("Magnesium (n = 60) or placebo (n = 60) in 120 adults.", 120),
        ("Of 5,000 screened patients, 300 patients were enrolled.", 300),
        ("96 children with atopic dermatitis.", 96),
        ("Symptoms fell by 45% of patients at week 12.", None),
        ("No numbers here.", None),
        ("", None),
        (None, None),
    ],
)
def test_estimate_sample_size(text: str | None, n: int | None) -> None:
    assert estimate_sample_size(text) == n


def test_key_sentences_are_conclusions_else_results_else_the_last_two() -> None:
    results_only = make_article(
        sections=[
            {"label": "METHODS", "text": "Adults were randomised."},
            {"label": "RESULTS", "text": "Pain fell by 30%. Sleep improved."},
        ]
    )
    assert key_sentences(results_only) == ["Pain fell by 30%.", "Sleep improved."]
    plain = make_article(
        sections=[{"label": None, "text": "First. Second sentence. Third one. Last one."}]
    )
    assert key_sentences(plain) == ["Third one.", "Last one."]
