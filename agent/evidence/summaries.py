"""Evidence summaries of one article or a set: by a language model, verified, or extractive.

With a composer (the agent layer wraps a model in one), the articles become facts with
references, the model writes once, and the checker (agent.documents.verify) drops every
sentence that cites nothing, cites something else, or states a number or date the facts it
cites do not; if nothing survives (or the model fails), the
extractive summary is used and the summary says so. Without a composer the summary is
extractive: design and grade, sample size, and the abstract's conclusions, every sentence
cited. Either way retractions come first and the evidence grade is stated by us, not left
to the model.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from agent.documents.compose import prompt_with_facts
from agent.documents.facts import Fact
from agent.documents.verify import check
from db.models import Article
from prompts.loader import load_prompt, markdown_escape
from tools.citations import cite, neutralise_citations
from tools.errors import InvalidInput
from tools.literature.abstracts import (
    key_sentences,
    publication_line,
    sample_size_of,
    sections,
)

log = logging.getLogger(__name__)


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


# ----------------------------------------------------------------------- pieces


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
        labelled = sections(a)
        if labelled:
            for label, text in labelled:
                facts.append(Fact(ref, f"{label.upper() or 'ABSTRACT'}: {text}"))
        elif a.abstract.strip():
            facts.append(Fact(ref, f"ABSTRACT: {a.abstract.strip()}"))
    return facts


def build_prompt(facts: Sequence[Fact]) -> str:
    """The fixed instructions, then the facts as JSON lines inside a delimited data block."""
    return prompt_with_facts(load_prompt("evidence/summary"), facts)


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
            # Checked against the facts: a number or date they do not state goes too.
            verified = check(reply, facts)
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
