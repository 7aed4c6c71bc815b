"""Embedding similarity behind research tracking's RelevanceScorer interface.

`EmbeddingScorer` scores an article against a topic by the cosine similarity of their
embeddings; `BlendedScorer` takes the higher of the lexical and the embedding score, so a
paper that names its condition differently ('Hashimoto's' vs 'hypothyroidism') can still
match while an exact lexical match keeps its score.
"""

from __future__ import annotations

from collections.abc import Sequence

from memory.embeddings import Embedder
from tools.literature.topic_relevance import ArticleText, LexicalScorer, Relevance, TopicProfile

# Cosine similarity of MiniLM sentence embeddings: below FLOOR is unrelated text, at CEILING
# or above the same subject. Mapped linearly onto 0..1 between them.
FLOOR, CEILING = 0.25, 0.65


def _topic_text(topic: TopicProfile) -> str:
    return "; ".join([*topic.condition_terms, *topic.keywords])


def _article_text(article: ArticleText, limit: int = 1500) -> str:
    # Title first: MiniLM reads 256 tokens, and the title carries the subject.
    return f"{article.title}. {' '.join(article.indexed_terms)}. {article.abstract}"[:limit]


class EmbeddingScorer:
    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._topic_vectors: dict[int, list[float]] = {}

    def _topics(self, topics: Sequence[TopicProfile]) -> list[list[float]]:
        missing = [t for t in topics if t.topic_id not in self._topic_vectors]
        if missing:
            vectors = self.embedder.embed([_topic_text(t) for t in missing])
            self._topic_vectors.update(zip((t.topic_id for t in missing), vectors, strict=True))
        return [self._topic_vectors[t.topic_id] for t in topics]

    def score(self, article: ArticleText, topics: Sequence[TopicProfile]) -> list[Relevance]:
        if not topics:
            return []
        (vector,) = self.embedder.embed([_article_text(article)])
        out = []
        for topic, topic_vector in zip(topics, self._topics(topics), strict=True):
            cosine = sum(a * b for a, b in zip(vector, topic_vector, strict=True))
            scaled = min(1.0, max(0.0, (cosine - FLOOR) / (CEILING - FLOOR)))
            out.append(Relevance(topic_id=topic.topic_id, score=round(scaled, 4)))
        return out


class BlendedScorer:
    """The higher of the lexical and the embedding score, with the lexical matched terms."""

    def __init__(self, embedder: Embedder) -> None:
        self.lexical = LexicalScorer()
        self.embedding = EmbeddingScorer(embedder)

    def score(self, article: ArticleText, topics: Sequence[TopicProfile]) -> list[Relevance]:
        lexical = self.lexical.score(article, topics)
        semantic = self.embedding.score(article, topics)
        return [
            Relevance(
                topic_id=lex.topic_id,
                score=max(lex.score, sem.score),
                matched_terms=lex.matched_terms,
            )
            for lex, sem in zip(lexical, semantic, strict=True)
        ]
