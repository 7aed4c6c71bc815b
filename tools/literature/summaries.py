"""Evidence summaries of one article or a set: by a language model, verified, or extractive.

With a composer (the agent layer wraps a model in one), the articles become facts with
references, the model writes once, and the grounding verifier drops every sentence that
cites nothing or cites something else; if nothing survives (or the model fails), the
extractive summary is used and the summary says so. Without a composer the summary is
extractive: design and grade, sample size, and the abstract's conclusions, every sentence
cited. Either way retractions come first and the evidence grade is stated by us, not left
to the model.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from db.models import Article
from prompts.loader import load_prompt, markdown_escape
from tools.errors import InvalidInput
from tools.literature.verify import neutralise_citations, split_sentences, verify

log = logging.getLogger(__name__)

FACTS_OPEN, FACTS_CLOSE = "<facts>", "</facts>"
MAX_EXTRACT_SENTENCES = 4  # a long RESULTS section is cut; conclusions rarely run longer

_CONCLUSION_LABELS = ("CONCLUSION", "INTERPRETATION", "IMPLICATION", "SUMMARY")
_RESULT_LABELS = ("RESULT", "FINDING", "MAIN OUTCOME")


@dataclass(frozen=True)
class Fact:
    ref: str
    text: str


class SummaryComposer(Protocol):
    """Writes a summary from a prompt and its facts (the agent layer wraps a model in one)."""

    def compose(self, *, prompt: str, facts: list[Fact]) -> str: ...


@dataclass
class EvidenceSummary:
    markdown: str  # the whole summary: retractions, grade line, body
    refs: list[str]  # references of the articles summarised
    grade_line: str
    dropped: int  # model sentences the verifier removed
    mode: Literal["model", "extractive"]
    body: str = ""  # the summary proper, without our retraction and grade lines
    note: str | None = None  # why the model's text was not used, when it was not
    dropped_sentences: list[tuple[str, str]] = field(default_factory=list)


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


def _sections(article: Article) -> list[tuple[str, str]]:
    return [
        ((s.get("label") or "").strip(), (s.get("text") or "").strip())
        for s in article.abstract_sections
        if (s.get("text") or "").strip()
    ]


def sample_size_of(article: Article) -> int | None:
    if article.sample_size:
        return article.sample_size
    return estimate_sample_size(article.abstract or " ".join(t for _, t in _sections(article)))


def key_sentences(article: Article, *, limit: int = MAX_EXTRACT_SENTENCES) -> list[str]:
    """The abstract's CONCLUSIONS, else its RESULTS, else its last two sentences.

    Returned raw (untrusted text, citation-shaped brackets made inert), without citations.
    """
    sections = _sections(article)
    for labels in (_CONCLUSION_LABELS, _RESULT_LABELS):
        chosen = [t for label, t in sections if label.upper().startswith(labels)]
        if chosen:
            sentences = split_sentences(" ".join(chosen))
            return [neutralise_citations(s) for s in sentences[:limit]]
    text = " ".join(t for _, t in sections) or article.abstract
    sentences = split_sentences(text)
    return [neutralise_citations(s) for s in sentences[-min(2, limit) :]]


def cite(sentence: str, ref: str) -> str:
    """`X improved.` -> `X improved [pmid:1].` (the citation inside the sentence)."""
    sentence = sentence.strip()
    m = re.search(r"[.!?]+[\"'\u201d\u2019)]*$", sentence)
    if m:
        return f"{sentence[: m.start()].rstrip()} [{ref}]{sentence[m.start() :]}"
    return f"{sentence} [{ref}]."


def publication_line(article: Article) -> str:
    when = article.pub_date_text or (article.pub_date.isoformat() if article.pub_date else "")
    return ", ".join(p for p in (article.journal, when) if p)


def grade_line(articles: Sequence[Article]) -> str:
    """'Evidence grade: randomised controlled trial [pmid:1]; ...', strongest design first."""
    by_label: dict[str, list[str]] = {}
    ordered = sorted(articles, key=lambda a: -a.grade.rank)
    for a in ordered:
        if not a.is_retracted:
            by_label.setdefault(a.grade.label, []).append(a.ref)
    parts = [f"{label} [{', '.join(refs)}]" for label, refs in by_label.items()]
    retracted = [a.ref for a in ordered if a.is_retracted]
    if retracted:
        parts.append(f"retracted, not to be relied on [{', '.join(retracted)}]")
    noun = "Evidence grade" if len(articles) == 1 else "Evidence grades"
    return f"{noun}: {'; '.join(parts)}."


def retraction_line(article: Article) -> str:
    note = f" ({article.retraction_notes[0]})" if article.retraction_notes else ""
    title = markdown_escape(neutralise_citations(article.title))
    notes = markdown_escape(neutralise_citations(note))
    return (
        f"**RETRACTED:** {title}{notes} has been retracted; "
        f"do not rely on its findings [{article.ref}]."
    )


def _ordered(articles: Sequence[Article]) -> list[Article]:
    # Strongest design first, then newest.
    return sorted(
        articles, key=lambda a: (-a.grade.rank, -(a.pub_date.toordinal() if a.pub_date else 0))
    )


# ------------------------------------------------------------------------ facts


def build_facts(articles: Sequence[Article]) -> list[Fact]:
    """What the model may use, each fact carrying its article's reference."""
    facts: list[Fact] = []
    for a in _ordered(articles):
        ref = a.ref
        if a.is_retracted:
            notes = "; ".join(a.retraction_notes)
            facts.append(Fact(ref, "Status: RETRACTED" + (f" ({notes})" if notes else "")))
        facts.append(Fact(ref, f"Title: {a.title}"))
        facts.append(Fact(ref, f"Design (evidence grade): {a.grade.label}"))
        n = sample_size_of(a)
        if n:
            facts.append(Fact(ref, f"Sample size: n = {n:,}"))
        if pub := publication_line(a):
            facts.append(Fact(ref, f"Published: {pub}"))
        if not a.is_retracted:
            facts.append(Fact(ref, "Status: not retracted"))
        sections = _sections(a)
        if sections:
            for label, text in sections:
                facts.append(Fact(ref, f"{label.upper() or 'ABSTRACT'}: {text}"))
        elif a.abstract.strip():
            facts.append(Fact(ref, f"ABSTRACT: {a.abstract.strip()}"))
    return facts


def build_prompt(facts: Sequence[Fact]) -> str:
    """The fixed instructions, then the facts as JSON lines inside a delimited data block.

    JSON keeps each fact on one line and escapes quotes; '<' is escaped too, so no abstract
    can close the block early and write text that looks like instructions.
    """
    lines = [
        json.dumps({"ref": f.ref, "text": f.text}, ensure_ascii=False).replace("<", "\\u003c")
        for f in facts
    ]
    return "\n".join([load_prompt("evidence_summary").rstrip(), FACTS_OPEN, *lines, FACTS_CLOSE])


# ---------------------------------------------------------------------- compose


def _extractive_body(articles: Sequence[Article]) -> str:
    blocks = []
    for a in _ordered(articles):
        if a.is_retracted:
            continue  # named in the retraction line; its findings are not repeated
        head = f"### {markdown_escape(neutralise_citations(a.title))}"
        design = a.grade.label[0].upper() + a.grade.label[1:]
        n = sample_size_of(a)
        meta = design + (f", n = {n:,}" if n else "")
        if pub := publication_line(a):
            meta += f" ({markdown_escape(pub)})"
        lines = [cite(meta, a.ref)]
        for s in key_sentences(a):
            lines.append(cite(markdown_escape(s), a.ref))
        if len(lines) == 1:
            lines.append(f"No abstract is available [{a.ref}].")
        blocks.append(head + "\n" + " ".join(lines))
    return "\n\n".join(blocks)


def _assemble(articles: Sequence[Article], grade: str, body: str, note: str | None) -> str:
    parts = [retraction_line(a) for a in _ordered(articles) if a.is_retracted]
    parts.append(grade)
    if note:
        parts.append(f"*{note}*")
    if body:
        parts.append(body)
    return "\n\n".join(parts)


def summarise(
    *, articles: Sequence[Article], composer: SummaryComposer | None = None
) -> EvidenceSummary:
    """An evidence summary of `articles`: verified model text, or extractive without a model."""
    if not articles:
        raise InvalidInput("no articles to summarise")
    refs = list(dict.fromkeys(a.ref for a in _ordered(articles)))
    grade = grade_line(articles)
    note: str | None = None
    dropped: list[tuple[str, str]] = []
    if composer is not None:
        facts = build_facts(articles)
        try:
            reply = composer.compose(prompt=build_prompt(facts), facts=facts)
        except Exception as exc:  # a model outage must not cost the practice its summary
            log.warning(
                "summary composer failed (%s); using the extractive summary", type(exc).__name__
            )
            note = "The language model was unavailable; this is the extractive summary."
        else:
            verified = verify(reply, allowed_refs=set(refs))
            dropped = verified.dropped
            if verified.kept:
                return EvidenceSummary(
                    markdown=_assemble(articles, grade, verified.text, None),
                    refs=refs,
                    grade_line=grade,
                    dropped=len(dropped),
                    mode="model",
                    body=verified.text,
                    dropped_sentences=dropped,
                )
            note = (
                f"The model's summary could not be verified against its sources "
                f"({len(dropped)} sentence{'s' if len(dropped) != 1 else ''} dropped); "
                "this is the extractive summary."
            )
    body = _extractive_body(articles)
    return EvidenceSummary(
        markdown=_assemble(articles, grade, body, note),
        refs=refs,
        grade_line=grade,
        dropped=len(dropped),
        mode="extractive",
        body=body,
        note=note,
        dropped_sentences=dropped,
    )


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
