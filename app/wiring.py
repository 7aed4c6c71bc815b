"""The one place that builds, from the settings, what the CLI, the API and the service run
on: the engine, the chat model and composer, the memory store, the chat checkpointer and
dependencies, the briefing run context and the service's job context.

Cheap to import: the agent, LangChain, Chroma and torch load inside the function that needs
them, so a command that needs none of them never pays for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlmodel import Session

from app.settings import Settings
from tools.errors import ConfigError

if TYPE_CHECKING:
    from agent.briefing.state import BriefingContext
    from agent.chat import ChatDeps
    from agent.llm import ModelConfig
    from schedules.jobs import JobContext
    from schedules.morning import BriefingsForDay
    from tools.access import Actor

SERVICE_ACTOR = "steve-service"


# ------------------------------------------------------------------ database and models


def engine(s: Settings) -> Engine:
    """The practice database engine (the CLI checks the schema on top: app.cli.common)."""
    from db.engine import make_engine

    return make_engine(s.db_url)


def model_config(s: Settings) -> ModelConfig:
    from agent.llm import ModelConfig

    llm = s.llm
    return ModelConfig(
        model=llm.model,
        base_url=llm.base_url,
        api_key=llm.api_key,
        temperature=llm.temperature,
        timeout_seconds=llm.timeout_seconds,
        max_retries=llm.max_retries,
    )


def chat_model(s: Settings) -> Any:
    """The configured chat model, or None (no model: the deterministic composers write)."""
    from agent.llm import make_chat_model

    return make_chat_model(model_config(s))


def composer(s: Settings) -> Any:
    """The model-backed document composer when a model is configured, else None."""
    from agent.documents.compose import composer_for

    return composer_for(model_config(s))


# ------------------------------------------------------------------------------ memory


def memory_configured(s: Settings) -> bool:
    """A Chroma server is set, or the embedded store exists (built by reindex or sync)."""
    return bool(s.memory.chroma_url) or (s.data_dir / "chroma").is_dir()


def open_memory_store(s: Settings) -> Any:
    """The store: a Chroma server when STEVE_MEMORY__CHROMA_URL is set, else the data
    directory. Cheap to open: the embedding model loads on the first embedding only."""
    from memory.embeddings import EmbeddingConfig, make_embedder
    from memory.store import MemoryStore

    m = s.memory
    if m.embeddings_provider == "openai":
        if not m.embeddings_model or not m.embeddings_dim:
            raise ConfigError(
                "STEVE_EMBEDDINGS_PROVIDER=openai needs STEVE_EMBEDDINGS_MODEL and "
                "STEVE_EMBEDDINGS_DIM"
            )
        config = EmbeddingConfig(
            provider="openai",
            model=m.embeddings_model,
            base_url=m.embeddings_base_url,
            api_key=m.embeddings_api_key,
            dim=m.embeddings_dim,
        )
    else:
        config = EmbeddingConfig()
    embedder = make_embedder(config)
    if m.chroma_url:
        timeout = s.literature.http_timeout_seconds
        return MemoryStore.http(m.chroma_url, embedder, timeout_seconds=timeout)
    return MemoryStore.persistent(s.data_dir / "chroma", embedder)


# -------------------------------------------------------------------------------- chat


def checkpoint_path(s: Settings) -> Path:
    """Where chat threads live on SQLite (a PostgreSQL practice keeps them in its database)."""
    from agent.chat.checkpoint import SQLITE_FILE

    return s.chat.checkpoint_path or s.data_dir / SQLITE_FILE


@contextmanager
def checkpointer(s: Settings) -> Iterator[Any]:
    """The chat threads' saver for the practice's backend, ready (closed on exit)."""
    from agent.chat.checkpoint import open_checkpointer

    with open_checkpointer(db_url=s.db_url, sqlite_path=checkpoint_path(s)) as saver:
        yield saver


def prepare_checkpointer(s: Settings) -> None:
    """Make (or bring up to date) the saver's tables, outside any caller's transaction."""
    from agent.chat.checkpoint import setup_checkpointer

    setup_checkpointer(db_url=s.db_url, sqlite_path=checkpoint_path(s))


def chat_deps(s: Settings, *, engine: Engine, actor: Actor, model: Any, memory: Any) -> ChatDeps:
    """The model, the actor's toolbox (memory tools only with a store) and the limits."""
    from agent.chat import ChatDeps
    from agent.toolbox import toolbox_for
    from agent.toolbox.execute import Runtime

    return ChatDeps(
        model=model,
        toolbox=toolbox_for(actor, with_memory=memory is not None),
        runtime=Runtime(engine=engine, tz=s.zone, limits=s.limits, memory=memory),
        daily_token_budget=s.chat.daily_token_budget,
        recursion_limit=s.chat.recursion_limit,
    )


# --------------------------------------------------------------------------- briefings


def briefing_context(session: Session, s: Settings, *, actor: str, model: Any) -> BriefingContext:
    """The briefing graph's run context: one for `steve brief`, the API and the service."""
    from agent.briefing.gather import DatabasePreferences
    from agent.briefing.state import BriefingContext

    return BriefingContext(
        session=session,
        tz=s.zone,
        model=model,
        memory=DatabasePreferences(session),
        limits=s.limits,
        actor=actor,
    )


def briefing_source(s: Settings) -> BriefingsForDay:
    """The service's briefings for a physician's day, from the briefing graph (the configured
    model, else deterministic); each is also kept as a generated document, so memory holds
    what was sent. The graph loads on the first day briefed, not here."""

    def for_day(*, session: Session, physician_id: int, day: date) -> list[tuple[str, str, str]]:
        from agent.briefing.graph import brief_day
        from agent.briefing.keep import keep_briefing
        from agent.documents.render import html_fragment
        from db.engine import utcnow
        from db.models import Patient

        context = briefing_context(session, s, actor=SERVICE_ACTOR, model=chat_model(s))
        made = []
        for b in brief_day(context=context, physician_id=physician_id, day=day, now=utcnow()):
            keep_briefing(session=session, briefing=b, day=day, actor=SERVICE_ACTOR)
            patient = session.get(Patient, b.patient_id)
            title = patient.full_name if patient else f"Patient {b.patient_id}"
            made.append((title, b.markdown, html_fragment(b.markdown)))
        return made

    return for_day


# ---------------------------------------------------------------------------- service


def job_context(
    s: Settings,
    *,
    engine: Engine,
    instance: str,
    memory: bool = True,
    briefings: BriefingsForDay | None = None,
) -> JobContext:
    """What the service's jobs run with: the settings, the engine, the briefing graph, the
    digest composer and (when `memory`) the memory store, opened on first use."""
    from schedules.jobs import JobContext

    return JobContext(
        engine=engine,
        settings=s,
        instance=instance,
        open_memory_store=(lambda: open_memory_store(s)) if memory else None,
        briefings=briefings or briefing_source(s),
        composer=lambda: composer(s),
    )
