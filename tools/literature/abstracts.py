"""What an article's abstract says: its sample size, its key sentences, where it appeared.

Abstracts are text from outside the practice: sentences come back raw, with citation-shaped
brackets made inert (tools.citations), for the documents to quote and cite.
"""

from __future__ import annotations

import re

from db.models import Article
from tools.citations import neutralise_citations, split_sentences

MAX_EXTRACT_SENTENCES = 4  # a long RESULTS section is cut; conclusions rarely run longer

_CONCLUSION_LABELS = ("CONCLUSION", "INTERPRETATION", "IMPLICATION", "SUMMARY")
_RESULT_LABELS = ("RESULT", "FINDING", "MAIN OUTCOME")

# ------------------------------------------------------------------ sample size

_NUMBER = r"(\d{1,3}(?:,\d{3})+|\d+)"
_N_EQUALS = re.compile(rf"(?<![A-Za-z])[nN]\s*=\s*{_NUMBER}(?![\d.])")
_N_PEOPLE = re.compile(
    rf"\b{_NUMBER}\s+((?:[A-Za-z-]+\s+){{0,2}}?)"
    r"(participants|patients|women|men|adults|subjects|children|adolescents|individuals|"
    r"volunteers|persons|people|infants|respondents|mothers|pregnant women)\b",
    re.IGNORECASE,
)
# "1,000 screened patients" counts people looked at, not people studied.
_NOT_ENROLLED = re.compile(
    r"screened|eligible|assessed|approached|invited|excluded|potential", re.I
)
_MAX_PLAUSIBLE = 5_000_000


def estimate_sample_size(text: str | None) -> int | None:
    """The study's sample size as stated in its abstract, or None.

    Reads "n = 120", "N=45" and "120 participants/patients/women/adults..." (up to two words
    between, e.g. "120 postmenopausal women"); the largest figure wins, since arms and
    completers are subsets of the total. Screening counts are ignored.
    """
    if not text:
        return None
    found = [int(m.group(1).replace(",", "")) for m in _N_EQUALS.finditer(text)]
    for m in _N_PEOPLE.finditer(text):
        if not _NOT_ENROLLED.search(m.group(2)):
            found.append(int(m.group(1).replace(",", "")))
    plausible = [n for n in found if 0 < n <= _MAX_PLAUSIBLE]
    return max(plausible) if plausible else None


# ----------------------------------------------------------------------- pieces


def sections(article: Article) -> list[tuple[str, str]]:
    """The abstract's (label, text) sections that have text."""
    return [
        ((s.get("label") or "").strip(), (s.get("text") or "").strip())
        for s in article.abstract_sections
        if (s.get("text") or "").strip()
    ]


def sample_size_of(article: Article) -> int | None:
    if article.sample_size:
        return article.sample_size
    return estimate_sample_size(article.abstract or " ".join(t for _, t in sections(article)))


def key_sentences(article: Article, *, limit: int = MAX_EXTRACT_SENTENCES) -> list[str]:
    """The abstract's CONCLUSIONS, else its RESULTS, else its last two sentences.

    Returned raw (untrusted text, citation-shaped brackets made inert), without citations.
    """
    labelled = sections(article)
    for labels in (_CONCLUSION_LABELS, _RESULT_LABELS):
        chosen = [t for label, t in labelled if label.upper().startswith(labels)]
        if chosen:
            sentences = split_sentences(" ".join(chosen))
            return [neutralise_citations(s) for s in sentences[:limit]]
    text = " ".join(t for _, t in labelled) or article.abstract
    sentences = split_sentences(text)
    return [neutralise_citations(s) for s in sentences[-min(2, limit) :]]


def publication_line(article: Article) -> str:
    when = article.pub_date_text or (article.pub_date.isoformat() if article.pub_date else "")
    return ", ".join(p for p in (article.journal, when) if p)


def article_link(article: Article) -> str | None:
    """A safe link to the article: its own http(s) URL, else PubMed, else doi.org."""
    url = (article.url or "").strip()
    if re.match(r"^https?://[^\s<>\"']+$", url, re.IGNORECASE):
        return url
    if article.pmid:
        return f"https://pubmed.ncbi.nlm.nih.gov/{article.pmid}/"
    if article.doi:
        return f"https://doi.org/{article.doi}"
    return None
