"""What every literature source produces: article records and the problems it met.

Sources (PubMed, feeds, saved files) map their input onto `ArticleRecord`; one bad item or
feed becomes a `SourceProblem` naming which one and why, and never stops the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class AbstractSection:
    label: str | None  # e.g. BACKGROUND, METHODS, RESULTS, CONCLUSIONS; None if unstructured
    text: str


@dataclass
class ArticleRecord:
    title: str
    source: str  # "pubmed" or "feed:<url>" or "offline:<file>"
    pmid: str | None = None
    doi: str | None = None  # lower-case, without the https://doi.org/ prefix
    abstract_sections: list[AbstractSection] = field(default_factory=list)
    journal: str | None = None
    pub_date: date | None = None  # best full date known (missing month/day -> 1)
    pub_date_text: str | None = None  # as printed, e.g. "2023 Nov-Dec" (MedlineDate)
    authors: list[str] = field(default_factory=list)  # "Family Initials" or collective name
    publication_types: list[str] = field(default_factory=list)
    mesh_terms: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    is_retracted: bool = False
    retraction_notes: list[str] = field(default_factory=list)  # e.g. "Retraction in: ..."
    url: str | None = None

    @property
    def abstract(self) -> str:
        """The abstract as one text, structured sections labelled."""
        parts = []
        for s in self.abstract_sections:
            parts.append(f"{s.label.upper()}: {s.text}" if s.label else s.text)
        return "\n".join(parts)


@dataclass(frozen=True)
class SourceProblem:
    source: str  # which feed URL, file or request
    item: str | None  # which entry / PMID / line, when known
    reason: str  # one line, why

    def __str__(self) -> str:
        where = f"{self.source} [{self.item}]" if self.item else self.source
        return f"{where}: {self.reason}"


@dataclass
class FetchResult:
    articles: list[ArticleRecord] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)
    requests: int = 0  # HTTP requests made (for the rate-limit report)

    def extend(self, other: FetchResult) -> None:
        self.articles.extend(other.articles)
        self.problems.extend(other.problems)
        self.requests += other.requests
