"""`steve memory`: rebuild, inspect and search long-term memory."""

from __future__ import annotations

from typing import Any

import typer

from app.cli.common import (
    JSON_OPTION,
    console,
    emit_json,
    engine,
    err_console,
    handle_errors,
    progress_bar,
    settings,
    stage_reporter,
    table,
    transaction,
)
from tools.errors import InvalidInput
from tools.registry import resolve_patient

CATCH_UP_BATCHES = 4  # ~1,000 changes: seconds for notes, not minutes

app = typer.Typer(help="Long-term memory: reindex, status, search.", no_args_is_help=True)


def open_store() -> Any:
    """The memory store the settings describe (a Chroma server, else the data directory).

    Only for an initialised practice: before `steve init` nothing is created, not even the
    Chroma directory.
    """
    from app.wiring import open_memory_store

    engine().dispose()  # NotInitialised (or a schema problem) before anything is made
    return open_memory_store(settings())


@app.command()
@handle_errors
def reindex(as_json: bool = JSON_OPTION) -> None:
    """Rebuild memory from the practice database with the configured embedding model."""
    from memory.reindex import reindex as rebuild

    store = open_store()
    with (
        transaction() as session,
        progress_bar(12) as bar,
    ):
        report = rebuild(session=session, store=store, progress=stage_reporter(bar))
    if as_json:
        emit_json(report.__dict__)
        return
    console.print(
        "Memory rebuilt: "
        + ", ".join(f"{n} {k}" for k, n in report.indexed.items())
        + "; vectors: "
        + ", ".join(f"{c} {n}" for c, n in report.vectors.items())
    )
    for sid in report.skipped:
        err_console.print(f"skipped: {sid}")


@app.command()
@handle_errors
def sync(as_json: bool = JSON_OPTION) -> None:
    """Apply the practice's recent writes (notes, messages, articles...) to memory."""
    from memory.sync import drain

    store = open_store()
    eng = engine()
    try:
        with progress_bar(12, transient=True) as bar:
            report = drain(engine=eng, store=store, progress=stage_reporter(bar))
    finally:
        eng.dispose()
    if as_json:
        emit_json(report.__dict__)
        return
    console.print(
        f"Memory in step: {report.upserted} record(s) indexed, {report.deleted} removed, "
        f"{report.erased_patients} patient(s) erased."
    )
    for sid in report.skipped:
        err_console.print(f"skipped: {sid}")


def _catch_up(store: Any) -> None:
    """Apply pending writes before searching, so a note written a moment ago is found.

    Bounded: a large backlog (a literature fetch of thousands of abstracts) is left to
    `steve memory sync` or the service, with a warning rather than a long silent wait.
    """
    from memory.retrieval import Retriever

    eng = engine()
    try:
        left = Retriever(store=store, engine=eng).catch_up(max_batches=CATCH_UP_BATCHES)
    finally:
        eng.dispose()
    if left:
        err_console.print(f"memory is {left} change(s) behind; run `steve memory sync` to catch up")


@app.command()
@handle_errors
def search(
    query: str = typer.Argument(..., help="What to look for."),
    patient: str | None = typer.Option(None, "--patient", help="Search this patient's notes."),
    k: int = typer.Option(5, "-k", min=1, max=50, help="How many results."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Search a patient's notes and messages, or (without --patient) the literature."""
    if not query.strip():
        raise InvalidInput("the search text is empty")
    store = open_store()
    _catch_up(store)
    if patient:
        with transaction() as session:
            who = resolve_patient(session=session, query=patient)
        assert who.id is not None
        hits = store.search_patient(who.id, query, k=k)
    else:
        hits = store.search_literature(query, k=k)
    rows = [{"id": h.id, "score": round(h.score, 4), "text": h.text[:200]} for h in hits]
    if as_json:
        emit_json(rows)
        return
    console.print(
        table(
            f"{len(rows)} result(s)",
            ["source", "score", "text"],
            [[r["id"], r["score"], r["text"]] for r in rows],
        )
    )
