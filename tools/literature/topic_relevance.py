"""Relevance of an article to a watch topic, from 0 to 1.

`RelevanceScorer` is the interface; `LexicalScorer` is today's implementation (phrases of the
topic found in the title, MeSH headings, keywords and abstract). The memory layer adds an
embedding scorer behind the same interface.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from tools.literature.text import fold, tokens

# Where a phrase is found counts for this much of a full match.
TITLE, INDEXED, ABSTRACT = 1.0, 0.9, 0.6
# The condition counts as much as this many keywords.
CONDITION_WEIGHT = 2.0
# Keywords beyond this many do not dilute a match further.
KEYWORD_CAP = 4
# A paper that never names the condition keeps this share of its keyword score.
NO_CONDITION_FACTOR = 0.5


@dataclass(frozen=True)
class TopicProfile:
    topic_id: int
    condition_terms: tuple[str, ...]  # the condition and its synonyms / MeSH headings
    keywords: tuple[str, ...]  # interventions and themes the topic watches


@dataclass(frozen=True)
class ArticleText:
    title: str
    abstract: str = ""
    indexed_terms: tuple[str, ...] = ()  # MeSH headings and author keywords


@dataclass(frozen=True)
class Relevance:
    topic_id: int
    score: float
    matched_terms: tuple[str, ...] = field(default=())


class RelevanceScorer(Protocol):
    def score(self, article: ArticleText, topics: Sequence[TopicProfile]) -> list[Relevance]:
        """One Relevance per topic, in the order given."""
        ...


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(tokens(text))


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    if not needle or len(needle) > len(haystack):
        return False
    n = len(needle)
    first = needle[0]
    return any(
        haystack[i] == first and haystack[i : i + n] == needle for i in range(len(haystack) - n + 1)
    )


class LexicalScorer:
    """Phrase matching with field weights; cheap enough to score every article on ingest."""

    def __init__(self) -> None:
        self._phrases: dict[str, tuple[str, ...]] = {}

    def _cached(self, text: str) -> tuple[str, ...]:
        found = self._phrases.get(text)
        if found is None:
            found = self._phrases[text] = _phrase(text)
        return found

    def score(self, article: ArticleText, topics: Sequence[TopicProfile]) -> list[Relevance]:
        title = tuple(tokens(article.title))
        abstract = tuple(tokens(article.abstract))
        indexed = [tuple(tokens(t)) for t in article.indexed_terms]
        title_set = set(title)
        abstract_set = set(abstract)
        indexed_set = {w for t in indexed for w in t}

        def strength(term: str) -> float:
            phrase = self._cached(term)
            if not phrase:
                return 0.0
            head = phrase[0]
            # Cheap set test first: most terms appear nowhere.
            if head not in title_set and head not in abstract_set and head not in indexed_set:
                return 0.0
            if _contains(title, phrase):
                return TITLE
            if any(_contains(t, phrase) for t in indexed):
                return INDEXED
            if _contains(abstract, phrase):
                return ABSTRACT
            return 0.0

        out = []
        for topic in topics:
            matched: list[str] = []
            condition = 0.0
            for term in topic.condition_terms:
                s = strength(term)
                if s:
                    matched.append(term)
                condition = max(condition, s)
            keyword_scores = []
            for term in topic.keywords:
                s = strength(term)
                if s:
                    matched.append(term)
                    keyword_scores.append(s)
            keyword_scores.sort(reverse=True)
            denominator = CONDITION_WEIGHT + min(len(topic.keywords), KEYWORD_CAP)
            numerator = CONDITION_WEIGHT * condition + sum(keyword_scores[:KEYWORD_CAP])
            score = min(1.0, numerator / denominator) if denominator else 0.0
            if condition == 0.0:
                # Interventions alone ("acupuncture") don't make a paper about this condition.
                score *= NO_CONDITION_FACTOR
            score = round(score, 4)
            # 'Fibromyalgia' (MeSH) and 'fibromyalgia' (condition) are one match to a reader.
            by_key: dict[str, str] = {}
            for m in matched:
                by_key.setdefault(fold(m), m)
            terms = tuple(by_key.values())
            out.append(Relevance(topic_id=topic.topic_id, score=score, matched_terms=terms))
        return out
