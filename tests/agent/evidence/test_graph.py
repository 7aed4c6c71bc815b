"""The evidence graph: summaries and protocol-review prompts, composed and verified like
briefings, with and without a model, on the demo practice's literature."""

from __future__ import annotations

from langchain_core.messages import HumanMessage, SystemMessage
from sqlmodel import Session, col, select

from agent.documents.facts import FACTS_CLOSE, FACTS_OPEN
from agent.evidence.graph import EvidenceContext, evidence_graph, evidence_summary, review_document
from db.models import Article, EvidenceGrade
from tests.support.briefing import Demo
from tests.support.fake_models import ScriptedChatModel
from tools.citations import find_refs, split_sentences
from tools.literature.abstracts import sample_size_of
from tools.literature.reviews import open_reviews


def body_sentences(markdown: str) -> list[str]:
    body = markdown.split("\n---\n")[0].split("\n", 1)[1]
    out = []
    for line in body.splitlines():
        if line.strip() and not line.startswith("#") and not line.startswith("*The "):
            out += split_sentences(line.lstrip("- "))
    return out


def a_trial(s: Session) -> Article:
    articles = s.exec(
        select(Article).where(col(Article.grade) == EvidenceGrade.RCT).order_by(col(Article.id))
    ).all()
    return next(a for a in articles if sample_size_of(a))


def test_graph_is_exported_uncompiled() -> None:
    assert set(evidence_graph().nodes) == {"gather", "compose", "verify", "render"}


def test_summary_without_a_model_is_extractive_and_fully_cited(demo: Demo) -> None:
    with Session(demo.engine) as s:
        trial = a_trial(s)
        doc = evidence_summary(context=EvidenceContext(session=s), article_ids=[trial.id or 0])
    assert doc.mode == "deterministic" and doc.model_calls == 0 and doc.dropped == []
    assert doc.refs == [trial.ref]
    for sentence in body_sentences(doc.markdown):
        assert find_refs(sentence) == [trial.ref], sentence
    assert "<h1" in doc.html


def test_summary_with_a_model_one_call_and_changed_figures_removed(demo: Demo) -> None:
    with Session(demo.engine) as s:
        trial = a_trial(s)
        n = sample_size_of(trial)
        reply = "\n".join(
            [
                f"A randomised controlled trial of {n} participants [{trial.ref}].",
                f"A randomised controlled trial of {(n or 0) + 7} participants [{trial.ref}].",
                "Most patients will benefit.",
            ]
        )
        model = ScriptedChatModel.replying([reply])
        doc = evidence_summary(
            context=EvidenceContext(session=s, model=model), article_ids=[trial.id or 0]
        )
    assert doc.mode == "model" and doc.model_calls == 1 and len(model.calls) == 1
    system, human = model.calls[0]
    assert isinstance(system, SystemMessage) and isinstance(human, HumanMessage)
    assert "evidence summaries" in str(system.content)
    assert str(human.content).startswith(FACTS_OPEN) and str(human.content).endswith(FACTS_CLOSE)
    assert [why.split(":")[0] for _, why in doc.dropped] == [
        "states what its sources do not",
        "no citation",
    ]
    assert f"of {n} participants" in doc.markdown and "Evidence grade" in doc.markdown
    assert "2 sentences removed" in doc.markdown


def test_summary_falls_back_when_nothing_survives(demo: Demo) -> None:
    with Session(demo.engine) as s:
        trial = a_trial(s)
        model = ScriptedChatModel.replying(["It works [pmid:1]."])
        doc = evidence_summary(
            context=EvidenceContext(session=s, model=model), article_ids=[trial.id or 0]
        )
        plain = evidence_summary(context=EvidenceContext(session=s), article_ids=[trial.id or 0])
    assert doc.mode == "deterministic"
    assert any("could not be verified" in n for n in doc.notes)
    assert plain.markdown.split("\n---\n")[0].split("\n\n", 1)[1] in doc.markdown


def test_review_prompt_with_and_without_a_model(demo: Demo) -> None:
    with Session(demo.engine) as s:
        reviews = open_reviews(session=s, today=demo.today, now=demo.now)
        review = (
            next(r for r in reviews if r.article_ids)
            if any(r.article_ids for r in reviews)
            else reviews[0]
        )
        plain = review_document(
            context=EvidenceContext(session=s), review_id=review.id or 0, today=demo.today
        )
        protocol_ref = f"protocol:{review.protocol_id}"
        model = ScriptedChatModel.replying(
            [
                f"- The review is due [{protocol_ref}].\n"
                f"- It was last reviewed on 1999-01-01 [{protocol_ref}]."
            ]
        )
        composed = review_document(
            context=EvidenceContext(session=s, model=model),
            review_id=review.id or 0,
            today=demo.today,
        )
        s.rollback()
    assert plain.mode == "deterministic" and plain.dropped == []
    assert plain.markdown.startswith("# Protocol review due: ")
    assert "Review due: " in plain.markdown and protocol_ref in plain.refs
    for sentence in body_sentences(plain.markdown):
        assert find_refs(sentence), sentence
    assert composed.mode == "model" and len(model.calls) == 1
    assert "protocol-review prompts" in str(model.calls[0][0].content)
    assert [s for s, _ in composed.dropped] == [
        f"It was last reviewed on 1999-01-01 [{protocol_ref}]."
    ]
