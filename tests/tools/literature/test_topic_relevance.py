"""Lexical relevance: phrases of the topic in the title, indexing and abstract."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tools.literature.text import fold, stem, title_key
from tools.literature.topic_relevance import ArticleText, LexicalScorer, TopicProfile

IBS = TopicProfile(
    topic_id=1,
    condition_terms=("irritable bowel syndrome", "Irritable Bowel Syndrome"),
    keywords=("low FODMAP", "peppermint oil", "gut-directed hypnotherapy", "probiotics"),
)
MIGRAINE = TopicProfile(topic_id=2, condition_terms=("migraine",), keywords=("acupuncture",))


def score(article: ArticleText, topic: TopicProfile = IBS) -> float:
    return LexicalScorer().score(article, [topic])[0].score


def test_title_beats_abstract_beats_nothing() -> None:
    in_title = ArticleText(title="A low-FODMAP diet for irritable bowel syndrome")
    in_abstract = ArticleText(
        title="Diet and the gut",
        abstract="Adults with irritable bowel syndrome followed a low FODMAP diet.",
    )
    elsewhere = ArticleText(title="Acupuncture for migraines", abstract="Headache days fell.")
    assert score(in_title) > score(in_abstract) > score(elsewhere) == 0.0
    assert score(in_title) == round((2 * 1.0 + 1.0) / 6, 4)


def test_mesh_headings_count_and_plurals_fold() -> None:
    article = ArticleText(
        title="Probiotic strains in functional bowel disorders",
        indexed_terms=("Irritable Bowel Syndrome", "Probiotics"),
    )
    result = LexicalScorer().score(article, [IBS, MIGRAINE])
    assert result[0].score > 0.4 and "probiotics" in result[0].matched_terms
    assert result[1].score == 0.0
    assert [t.lower() for t in result[0].matched_terms].count("irritable bowel syndrome") == 1
    assert score(ArticleText(title="Acupuncture in migraines"), MIGRAINE) == 1.0


def test_keywords_without_the_condition_fall_below_the_threshold() -> None:
    from tools.literature.ingest import MIN_RELEVANCE

    off_subject = ArticleText(
        title="Acupuncture for knee osteoarthritis", indexed_terms=("Acupuncture Therapy",)
    )
    topic = TopicProfile(
        topic_id=3,
        condition_terms=("migraine",),
        keywords=("acupuncture", "Acupuncture Therapy", "magnesium"),
    )
    assert 0 < LexicalScorer().score(off_subject, [topic])[0].score < MIN_RELEVANCE


def test_condition_alone_is_a_weak_match() -> None:
    alone = score(ArticleText(title="Irritable bowel syndrome in adolescents"))
    with_kw = score(ArticleText(title="Peppermint oil for irritable bowel syndrome in adolescents"))
    assert 0.2 <= alone < with_kw <= 1.0


def test_text_helpers() -> None:
    assert fold("Low-FODMAP  Diët!") == "low fodmap diet"
    assert [stem(w) for w in ("therapies", "migraines", "analysis", "bus")] == [
        "therapy",
        "migraine",
        "analysis",
        "bus",
    ]
    assert title_key("The Low-FODMAP diet.") == title_key("the low fodmap diet")


@given(st.text(max_size=200), st.text(max_size=400))
def test_scores_stay_between_zero_and_one(title: str, abstract: str) -> None:
    s = LexicalScorer().score(ArticleText(title=title, abstract=abstract), [IBS, MIGRAINE])
    assert all(0.0 <= r.score <= 1.0 for r in s)
