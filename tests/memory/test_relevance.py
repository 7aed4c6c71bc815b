"""Embedding relevance for research tracking, with the real bundled model."""

from __future__ import annotations

import pytest

from memory.embeddings import LocalMiniLM
from memory.relevance import BlendedScorer, EmbeddingScorer
from tools.literature.topic_relevance import ArticleText, LexicalScorer, TopicProfile

THYROID = TopicProfile(
    topic_id=1, condition_terms=("hypothyroidism",), keywords=("levothyroxine", "selenium")
)
MIGRAINE = TopicProfile(topic_id=2, condition_terms=("migraine",), keywords=("magnesium",))
HASHIMOTO = ArticleText(
    title="Selenium supplementation lowers anti-TPO antibodies in Hashimoto's thyroiditis",
    abstract="Adults with autoimmune thyroid disease took selenomethionine for 6 months.",
)


@pytest.fixture(scope="module")
def embedder() -> LocalMiniLM:
    return LocalMiniLM()


def test_embeddings_find_the_subject_words_miss(embedder: LocalMiniLM) -> None:
    semantic = EmbeddingScorer(embedder).score(HASHIMOTO, [THYROID, MIGRAINE])
    assert semantic[0].score > semantic[1].score
    assert semantic[0].score >= 0.5 and semantic[1].score < 0.2
    lexical = LexicalScorer().score(HASHIMOTO, [THYROID])[0].score
    blended = BlendedScorer(embedder).score(HASHIMOTO, [THYROID])[0]
    assert blended.score == max(lexical, semantic[0].score) > lexical
    assert "selenium" in blended.matched_terms


def test_topic_vectors_are_computed_once(embedder: LocalMiniLM) -> None:
    calls: list[int] = []

    class Counting:
        name, dim = embedder.name, embedder.dim

        def embed(self, texts):
            calls.append(len(texts))
            return embedder.embed(texts)

    scorer = EmbeddingScorer(Counting())
    scorer.score(HASHIMOTO, [THYROID, MIGRAINE])
    scorer.score(HASHIMOTO, [THYROID, MIGRAINE])
    assert calls == [1, 2, 1]  # article, both topics, then the article only
    assert scorer.score(HASHIMOTO, []) == []
