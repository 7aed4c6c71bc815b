"""`steve literature` and `steve protocols`: fetch, digest, summarise, review protocols."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import typer
from sqlmodel import col, select

from app.cli.acting import act_as
from app.cli.common import (
    DATE_OPTION,
    JSON_OPTION,
    composer,
    console,
    contradiction_judge,
    emit_json,
    err_console,
    handle_errors,
    progress_bar,
    settings,
    stage_reporter,
    table,
    today,
    transaction,
)
from db.models import Article, ProtocolReview
from tools.access import Category
from tools.clock import parse_date
from tools.errors import ConfigError, InvalidInput, NotFound
from tools.generated_documents import save_document
from tools.literature.fetch import fetch_literature
from tools.literature.ingest import IngestReport, ingest
from tools.literature.reviews import acknowledge_review, open_reviews, snooze_review
from tools.literature.topics import active_topics, add_interest, sync_protocol_topics

app = typer.Typer(
    help="Research tracking: fetch, digest and summarise the literature.", no_args_is_help=True
)
protocols_app = typer.Typer(help="Protocol-review prompts.", no_args_is_help=True)
# What acting as someone needs (tools.access, the same as the API's app.api.policy).
REVIEWS = {Category.PROTOCOL_REVIEWS}
LITERATURE = {Category.LITERATURE}


def _scorer(kind: str) -> Any:
    if kind == "lexical":
        return None  # ingest's default
    from memory.embeddings import LocalMiniLM
    from memory.relevance import BlendedScorer

    return BlendedScorer(LocalMiniLM())


def report_lines(report: IngestReport) -> list[str]:
    return [
        f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged articles; "
        f"{report.duplicates} repeats within the fetch and {report.merged} already-stored "
        f"papers merged; {report.matches} topic matches; {report.retractions} newly retracted; "
        f"{report.contradictions} may contradict a protocol; "
        f"{report.requests} HTTP requests",
        *[f"problem: {p}" for p in report.problems],
    ]


@app.command()
@handle_errors
def fetch(
    offline: Path | None = typer.Option(
        None, "--offline", help="Read saved PubMed XML and feeds from DIR."
    ),
    days: int = typer.Option(7, "--days", min=1, max=365, help="How far back to search PubMed."),
    relevance: str = typer.Option(
        "lexical",
        "--relevance",
        help="lexical (fast) or blended (also embedding similarity: slower, finds paraphrases).",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Fetch new literature for the practice's topics, store it and score its relevance."""
    if relevance not in ("lexical", "blended"):
        raise InvalidInput(f"unknown relevance {relevance!r}; use lexical or blended")
    sources = settings().literature
    directory = offline or sources.offline_dir
    if directory is not None and not directory.is_dir():
        raise InvalidInput(f"--offline {directory} is not a directory")
    if directory is None and not sources.ncbi_email:
        raise ConfigError(
            "set STEVE_NCBI_EMAIL (NCBI asks every client for a contact address), "
            "or use --offline DIR"
        )
    fetch_day = today()
    with transaction() as session:
        sync_protocol_topics(session=session)
        with progress_bar(28) as bar:
            fetched = fetch_literature(
                session=session,
                sources=sources,
                since=fetch_day - timedelta(days=days),
                until=fetch_day,
                offline_dir=directory,
                progress=stage_reporter(bar),
            )
            task = bar.add_task("storing and scoring", total=len(fetched.articles) or None)
            report = ingest(
                session=session,
                fetched=fetched,
                judge=contradiction_judge(),
                scorer=_scorer(relevance),
                progress=lambda done, total: bar.update(task, completed=done),
            )
    if as_json:
        emit_json(
            {
                **{k: v for k, v in report.__dict__.items() if k != "problems"},
                "problems": [str(p) for p in report.problems],
            }
        )
        return
    first, *problems = report_lines(report)
    console.print(first)
    for line in problems:
        err_console.print(line, highlight=False, soft_wrap=True)


@app.command()
@handle_errors
def digest(
    physician: str = typer.Option(..., "--physician", help="Physician id or name."),
    week: str | None = typer.Option(None, "--week", help="Any date in the week, YYYY-MM-DD."),
    fmt: str = typer.Option("markdown", "--format", help="markdown, html or text."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The weekly research digest for one physician."""
    from agent.evidence.digest import build_digest, keep_digest

    if fmt not in ("markdown", "html", "text"):
        raise InvalidInput(f"unknown format {fmt!r}; use markdown, html or text")
    s = settings()
    week_of = parse_date(week, what="week") if week else today()
    with transaction() as session:
        actor = act_as(session=session, who=physician, needs=LITERATURE, entity="digest")
        result = build_digest(
            session=session,
            physician_id=actor.practitioner_id,
            week_of=week_of,
            tz=s.zone,
            composer=composer(),
        )
        # Kept (and remembered) so it can be found again and mailed; a rerun replaces it.
        keep_digest(
            session=session, digest=result, physician_id=actor.practitioner_id, actor=actor.label
        )
    if as_json:
        emit_json(
            {
                "physician_id": actor.practitioner_id,
                "week_start": str(result.week_start),
                "week_end": str(result.week_end),
                "refs": result.refs,
                "markdown": result.markdown,
            }
        )
        return
    print({"markdown": result.markdown, "html": result.html, "text": result.text}[fmt])


@app.command()
@handle_errors
def summary(
    pmids: list[str] = typer.Argument(..., help="PMIDs of stored articles."),
    fmt: str = typer.Option("markdown", "--format", help="markdown or html."),
    as_json: bool = JSON_OPTION,
) -> None:
    """An evidence summary of one or more stored articles, every sentence citing its PMID."""
    from agent.evidence.graph import EvidenceContext, evidence_summary
    from app import wiring

    if fmt not in ("markdown", "html"):
        raise InvalidInput(f"unknown format {fmt!r}; use markdown or html")
    wanted = [p.strip() for p in pmids]
    bad = [p for p in wanted if not p.isdigit()]
    if bad:
        raise InvalidInput(f"{bad[0]!r} is not a PMID (digits only)")
    with transaction() as session:
        found = {
            a.pmid: a
            for a in session.exec(select(Article).where(col(Article.pmid).in_(wanted))).all()
        }
        missing = [p for p in wanted if p not in found]
        if missing:
            raise NotFound(
                "stored article with PMID", f"{missing[0]} (run `steve literature fetch` first)"
            )
        chosen = list(dict.fromkeys(wanted))
        # The evidence graph: gather, compose (model or deterministic), verify, render.
        context = EvidenceContext(session=session, model=wiring.chat_model(settings()))
        result = evidence_summary(
            context=context, article_ids=[i for p in chosen if (i := found[p].id) is not None]
        )
        key = "-".join(sorted(chosen))
        if len(key) > 120:  # many papers: a stable digest of the set instead
            key = "set-" + hashlib.sha256(key.encode()).hexdigest()[:16]
        save_document(
            session=session,
            kind="summary",
            key=key,
            title="Evidence summary: " + ", ".join(f"PMID {p}" for p in chosen[:5]),
            markdown=result.markdown,
            actor="cli",
        )
    if as_json:
        emit_json(
            {
                "markdown": result.markdown,
                "refs": result.refs,
                "mode": result.mode,
                "model_calls": result.model_calls,
                "dropped": [{"sentence": t, "why": why} for t, why in result.dropped],
            }
        )
        return
    print(result.html if fmt == "html" else result.markdown)


@protocols_app.command()
@handle_errors
def due(day: str | None = DATE_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Protocols due for review: interval passed, or strong new evidence arrived."""
    with transaction() as session:
        sync_protocol_topics(session=session)
        reviews = open_reviews(session=session, today=today(day))
        rows = [
            {
                "review_id": r.id,
                "protocol_id": r.protocol_id,
                "reason": str(r.reason),
                "articles": len(r.article_ids),
                "status": str(r.status),
            }
            for r in reviews
        ]
    if as_json:
        emit_json(rows)
        return
    console.print(
        table(
            f"{len(rows)} protocol review(s) due",
            ["review", "protocol", "reason", "new articles", "status"],
            [
                [r["review_id"], r["protocol_id"], r["reason"], r["articles"], r["status"]]
                for r in rows
            ],
        )
    )


@protocols_app.command()
@handle_errors
def show(
    review_id: int = typer.Argument(..., help="The review's id (from `steve protocols due`)."),
    fmt: str = typer.Option("markdown", "--format", help="markdown or html."),
    day: str | None = DATE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The protocol-review prompt: why it is due and the new evidence, every line cited."""
    from agent.evidence.graph import EvidenceContext, review_document
    from app import wiring

    if fmt not in ("markdown", "html"):
        raise InvalidInput(f"unknown format {fmt!r}; use markdown or html")
    s = settings()
    with transaction() as session:
        if session.get(ProtocolReview, review_id) is None:
            raise NotFound("protocol review", review_id)
        context = EvidenceContext(session=session, model=wiring.chat_model(s))
        doc = review_document(context=context, review_id=review_id, today=today(day))
        save_document(
            session=session,
            kind="review",
            key=f"{review_id}:{today(day).isoformat()}",
            title=f"Protocol review {review_id}",
            markdown=doc.markdown,
            actor="cli",
        )
    if as_json:
        emit_json(
            {"review_id": review_id, "markdown": doc.markdown, "refs": doc.refs, "mode": doc.mode}
        )
        return
    print(doc.html if fmt == "html" else doc.markdown)


@protocols_app.command()
@handle_errors
def ack(
    review_id: int = typer.Argument(..., help="The review's id."),
    by: str = typer.Option(..., "--by", help="Who reviewed it: a physician (id or name)."),
) -> None:
    """Acknowledge a protocol review: the protocol counts as reviewed today (physicians)."""
    reviewed_on = today()
    with transaction() as session:
        actor = act_as(session=session, who=by, needs=REVIEWS, entity="protocol_review")
        acknowledge_review(
            session=session,
            review_id=review_id,
            by_id=actor.practitioner_id,
            reviewed_on=reviewed_on,
            actor=actor.label,
        )
    console.print(f"Review {review_id} acknowledged.")


@protocols_app.command()
@handle_errors
def snooze(
    review_id: int = typer.Argument(..., help="The review's id."),
    until: str = typer.Option(..., "--until", help="YYYY-MM-DD."),
    by: str = typer.Option(..., "--by", help="Who decides: a physician (id or name)."),
) -> None:
    """Snooze a protocol review until a date (physicians)."""
    day = parse_date(until, what="snooze date")
    with transaction() as session:
        actor = act_as(session=session, who=by, needs=REVIEWS, entity="protocol_review")
        snooze_review(
            session=session,
            review_id=review_id,
            until=day,
            today=today(),
            actor=actor.label,
        )
    console.print(f"Review {review_id} snoozed until {day.isoformat()}.")


@app.command("interest")
@handle_errors
def interest(
    physician: str = typer.Option(..., "--physician", help="Physician id or name."),
    name: str = typer.Option(..., "--name", help="What to call the interest."),
    condition: str = typer.Option(..., "--condition", help="The condition or theme."),
    keywords: str = typer.Option("", "--keywords", help="Comma-separated keywords."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a physician's research interest; it is watched like a protocol."""
    with transaction() as session:
        actor = act_as(session=session, who=physician, needs=LITERATURE, entity="watch_topic")
        topic = add_interest(
            session=session,
            physician_id=actor.practitioner_id,
            name=name,
            condition=condition,
            keywords=[k for k in keywords.split(",") if k.strip()],
        )
        out = {"topic_id": topic.id, "name": topic.name, "query": topic.query}
    if as_json:
        emit_json(out)
    else:
        console.print(f"Watching {out['name']!r} (topic {out['topic_id']}): {out['query']}")


@app.command()
@handle_errors
def topics(as_json: bool = JSON_OPTION) -> None:
    """The watch topics: one per protocol, plus physicians' interests."""
    with transaction() as session:
        sync_protocol_topics(session=session)
        rows = [
            {
                "id": t.id,
                "kind": str(t.kind),
                "name": t.name,
                "physician_id": t.physician_id,
                "query": t.query,
            }
            for t in active_topics(session=session)
        ]
    if as_json:
        emit_json(rows)
        return
    console.print(
        table(
            f"{len(rows)} watch topic(s)",
            ["id", "kind", "name", "PubMed query"],
            [[r["id"], r["kind"], r["name"], r["query"]] for r in rows],
        )
    )
