"""app.wiring: the one place that builds engines, models, stores and run contexts from the
settings, for the CLI, the API and the service alike; cheap to import."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from app import wiring
from app.settings import Settings
from db.models import Discipline
from tests.support import factories
from tools.access import Actor, Role

HEAVY = ("langchain", "langgraph", "langsmith", "chromadb", "torch", "sentence_transformers")


def test_settings_and_wiring_import_nothing_heavy() -> None:
    code = (
        "import sys, app.settings, app.wiring; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_job_context_carries_the_settings_whole(engine: Engine) -> None:
    s = Settings(briefing_lookback_days=14, llm_model=None)
    ctx = wiring.job_context(s, engine=engine, instance="t")
    assert ctx.settings is s and ctx.engine is engine and ctx.instance == "t"
    assert ctx.briefings is not None and ctx.open_memory_store is not None
    assert ctx.composer is not None and ctx.composer() is None  # no model: deterministic
    quiet = wiring.job_context(s, engine=engine, instance="t", memory=False)
    assert quiet.open_memory_store is None


def test_briefings_read_the_limits_section(engine: Engine) -> None:
    s = Settings(timezone="America/New_York", briefing_lookback_days=14, briefing_evidence_days=7)
    with Session(engine) as session:
        context = wiring.briefing_context(session, s, actor="cli", model=None)
    assert context.tz.key == "America/New_York" and context.actor == "cli"
    assert context.limits is s.limits
    assert (context.limits.briefing_lookback_days, context.limits.briefing_evidence_days) == (14, 7)


def test_the_service_briefs_a_physicians_day_through_the_graph(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        doc = factories.practitioner(session, title="Dr", email="doc@practice.test")
        session.commit()
    source = wiring.briefing_source(Settings())
    with Session(engine) as session:
        assert doc.id is not None
        assert source(session=session, physician_id=doc.id, day=date(2026, 11, 23)) == []


def test_chat_dependencies_carry_the_limits_and_budget(engine: Engine) -> None:
    s = Settings(agent_daily_token_budget=1234, agent_recursion_limit=30, slot_step_minutes=20)
    actor = Actor(practitioner_id=1, role=Role.PHYSICIAN, discipline=Discipline.PHYSICIAN)
    deps = wiring.chat_deps(s, engine=engine, actor=actor, model=None, memory=None)
    assert deps.runtime.limits is s.limits and deps.runtime.limits.slot_step_minutes == 20
    assert (deps.daily_token_budget, deps.recursion_limit) == (1234, 30)


def test_model_and_store_locations(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, llm_model="m", llm_base_url="http://127.0.0.1:9/v1")
    config = wiring.model_config(s)
    assert (config.model, config.base_url) == ("m", "http://127.0.0.1:9/v1")
    assert config.temperature == 0.1
    assert wiring.checkpoint_path(s) == tmp_path / "chat.sqlite"
    chat = tmp_path / "threads.sqlite"
    assert wiring.checkpoint_path(Settings(data_dir=tmp_path, chat_checkpoint_path=chat)) == chat
    assert not wiring.memory_configured(s)
    (tmp_path / "chroma").mkdir()
    assert wiring.memory_configured(s)
    assert wiring.memory_configured(Settings(data_dir=tmp_path / "x", chroma_url="http://c:8000"))
