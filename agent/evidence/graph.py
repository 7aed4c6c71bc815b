"""The evidence graph: evidence summaries and protocol-review prompts, gather -> compose ->
verify -> render through the document pipeline (agent.documents), like briefings.

- summary: stored articles (agent.evidence.summaries' facts: design, sample size,
  publication, abstract sections); without a model the extractive summary.
- review: one protocol review (tools.literature.reviews): the protocol, why it is due, and
  its evidence; without a model every fact as a cited line.

With a model, exactly one call whose facts travel as a delimited data block; the checker then
drops sentences citing nothing or something else, and sentences stating a number or date
their cited facts do not. If nothing survives, or the
call fails, the deterministic text is used and the document says so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from sqlmodel import Session, col, select

from agent.documents import render as documents_render
from agent.documents.compose import cited, messages, model_text, prompt_tokens
from agent.documents.facts import Fact
from agent.documents.verify import check as check_facts
from agent.documents.verify import dropped_summary
from agent.evidence.summaries import build_facts, grade_line, retraction_line, summarise
from db.models import Article, ClinicalProtocol, ProtocolReview
from prompts.loader import load_prompt
from tools.citations import find_refs
from tools.errors import InvalidInput, NotFound
from tools.literature.reviews import review_prompts

log = logging.getLogger(__name__)


@dataclass
class EvidenceContext:
    session: Session
    model: BaseChatModel | None = None


class EvidenceState(TypedDict, total=False):
    kind: str  # "summary" or "review"
    article_ids: list[int]
    review_id: int
    today: date
    title: str
    facts: list[Fact]
    preamble: list[str]  # our own cited lines (retractions, grade), never the model's
    deterministic: str  # the document without a model
    draft: str
    mode: str
    model_calls: int
    prompt_tokens: int
    body: str
    kept: int
    dropped: list[tuple[str, str]]
    notes: list[str]
    markdown: str
    html: str


def _articles(session: Session, ids: Sequence[int]) -> list[Article]:
    found = {a.id: a for a in session.exec(select(Article).where(col(Article.id).in_(ids))).all()}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound("stored article", missing[0])
    return [found[i] for i in dict.fromkeys(ids)]


def _gather_summary(session: Session, ids: Sequence[int]) -> dict[str, Any]:
    if not ids:
        raise InvalidInput("no articles to summarise")
    articles = _articles(session, ids)
    extractive = summarise(articles=articles, composer=None)
    preamble = [retraction_line(a) for a in articles if a.is_retracted] + [grade_line(articles)]
    title = "Evidence summary: " + ", ".join(extractive.refs)
    return {
        "title": title,
        "facts": build_facts(articles),
        "preamble": preamble,
        "deterministic": extractive.body,
    }


def _gather_review(session: Session, review_id: int, today: date) -> dict[str, Any]:
    review = session.get(ProtocolReview, review_id)
    if review is None:
        raise NotFound("protocol review", review_id)
    prompts = review_prompts(session=session, reviews=[review], today=today)
    protocol = session.get(ClinicalProtocol, review.protocol_id)
    if not prompts or protocol is None:
        raise NotFound("protocol of review", review_id)
    prompt = prompts[0]
    ref = f"protocol:{protocol.id}"
    facts = [
        Fact(ref, f"Protocol '{protocol.title}' for {protocol.condition}"),
        Fact(ref, f"Its recommendation: {protocol.summary or 'not recorded'}"),
        Fact(ref, f"{prompt.heading.replace('Protocol review', 'Review')}: {prompt.reason_line}"),
    ]
    for e in prompt.evidence:
        status = "RETRACTED, " if e.retracted else ""
        facts.append(Fact(e.ref, f"{status}{e.title} ({e.grade_label}; {e.relevance_line})"))
    if prompt.more:
        facts.append(Fact(ref, f"{prompt.more} further matching articles are not listed"))
    ids = [e.article_id for e in prompt.evidence]
    lines = [cited(f) for f in facts]
    deterministic = "\n".join(f"- {line}" for line in lines)
    # The model also gets each article's own facts (design, sample size, abstract).
    extra = build_facts(_articles(session, ids)) if ids else []
    return {
        "title": f"{prompt.heading}: {protocol.title}",
        "facts": facts + extra,
        "preamble": [],
        "deterministic": deterministic,
    }


def gather(state: EvidenceState, runtime: Runtime[EvidenceContext]) -> dict[str, Any]:
    session = runtime.context.session
    if state["kind"] == "summary":
        return _gather_summary(session, state.get("article_ids", []))
    if state["kind"] == "review":
        return _gather_review(session, state["review_id"], state["today"])
    raise InvalidInput(f"unknown evidence document {state['kind']!r}; use summary or review")


_INSTRUCTIONS = {"summary": "evidence/summary", "review": "evidence/protocol_review"}


def _messages(state: EvidenceState) -> list[BaseMessage]:
    return messages(load_prompt(_INSTRUCTIONS[state["kind"]]), state["facts"])


def compose(state: EvidenceState, runtime: Runtime[EvidenceContext]) -> dict[str, Any]:
    model = runtime.context.model
    if model is None:
        return {"draft": state["deterministic"], "mode": "deterministic", "model_calls": 0}
    msgs = _messages(state)
    tokens = prompt_tokens(msgs)
    try:
        text = model_text(model, msgs)
    except Exception as exc:  # an outage costs the model's prose, never the document
        log.warning("evidence model call failed (%s)", type(exc).__name__)
        return {
            "draft": state["deterministic"],
            "mode": "deterministic",
            "model_calls": 1,
            "prompt_tokens": tokens,
            "notes": [f"The language model was unavailable ({type(exc).__name__})."],
        }
    return {"draft": text, "mode": "model", "model_calls": 1, "prompt_tokens": tokens}


def check(state: EvidenceState) -> dict[str, Any]:
    verified = check_facts(state["draft"], state["facts"])
    if state["mode"] == "model" and not verified.kept:
        n = verified.dropped_count
        again = check_facts(state["deterministic"], state["facts"])
        return {
            "body": again.text,
            "kept": again.kept_count,
            "dropped": verified.dropped,
            "mode": "deterministic",
            "notes": [
                *state.get("notes", []),
                f"The model's text could not be verified against its sources ({n} "
                f"sentence{'s' if n != 1 else ''} removed); this is the deterministic text.",
            ],
        }
    return {"body": verified.text, "kept": verified.kept_count, "dropped": verified.dropped}


def render(state: EvidenceState) -> dict[str, Any]:
    body = "\n\n".join([*state.get("preamble", []), state["body"]])
    notes = state.get("notes", [])
    checker = dropped_summary(state.get("dropped", []))
    rendered = documents_render.render_document(
        "evidence",
        "document",
        body=body,
        title=state["title"],
        notes=notes,
        checker_line=checker,
        refs=find_refs(body),
    )
    return {"markdown": rendered.markdown, "html": rendered.html}


def evidence_graph() -> StateGraph[EvidenceState, EvidenceContext, EvidenceState, EvidenceState]:
    """The uncompiled graph; callers compile it."""
    graph = StateGraph(EvidenceState, context_schema=EvidenceContext)
    graph.add_node("gather", gather)
    graph.add_node("compose", compose)
    graph.add_node("verify", check)
    graph.add_node("render", render)
    graph.add_edge(START, "gather")
    graph.add_edge("gather", "compose")
    graph.add_edge("compose", "verify")
    graph.add_edge("verify", "render")
    graph.add_edge("render", END)
    return graph


@dataclass
class EvidenceDocument:
    markdown: str
    html: str
    mode: str
    refs: list[str]
    kept: int
    dropped: list[tuple[str, str]]
    model_calls: int
    prompt_tokens: int
    notes: list[str] = field(default_factory=list)


def _run(context: EvidenceContext, state: EvidenceState) -> EvidenceDocument:
    out = evidence_graph().compile().invoke(state, context=context)
    return EvidenceDocument(
        markdown=out["markdown"],
        html=out["html"],
        mode=out["mode"],
        refs=find_refs(out["body"]),
        kept=out.get("kept", 0),
        dropped=out.get("dropped", []),
        model_calls=out.get("model_calls", 0),
        prompt_tokens=out.get("prompt_tokens", 0),
        notes=out.get("notes", []),
    )


def evidence_summary(*, context: EvidenceContext, article_ids: Sequence[int]) -> EvidenceDocument:
    """A verified evidence summary of stored articles (by id)."""
    return _run(context, {"kind": "summary", "article_ids": list(article_ids)})


def review_document(*, context: EvidenceContext, review_id: int, today: date) -> EvidenceDocument:
    """A verified protocol-review prompt for one review."""
    return _run(context, {"kind": "review", "review_id": review_id, "today": today})
