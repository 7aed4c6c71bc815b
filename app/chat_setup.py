"""The chat graph's dependencies from the settings: one place for `steve chat` and the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from agent.chat import ChatDeps
from agent.chat.checkpoint import SQLITE_FILE
from agent.toolbox import PracticeLimits, toolbox_for
from agent.toolbox.execute import Runtime
from app.settings import Settings
from tools.access import Actor


def checkpoint_path(s: Settings) -> Path:
    """Where chat threads live on SQLite (a PostgreSQL practice keeps them in its database)."""
    return s.chat_checkpoint_path or s.data_dir / SQLITE_FILE


def chat_deps(s: Settings, *, engine: Engine, actor: Actor, model: Any, memory: Any) -> ChatDeps:
    """The model, the actor's toolbox (memory tools only with a store) and the practice limits."""
    limits = PracticeLimits(
        referral_overdue_days=dict(s.referral_overdue_days),
        lab_overdue_grace_days=s.lab_overdue_grace_days,
        reorder_lead_days=s.reorder_lead_days,
        slot_step_minutes=s.slot_step_minutes,
    )
    return ChatDeps(
        model=model,
        toolbox=toolbox_for(actor, with_memory=memory is not None),
        runtime=Runtime(engine=engine, tz=s.zone, limits=limits, memory=memory),
        daily_token_budget=s.agent_daily_token_budget,
        recursion_limit=s.agent_recursion_limit,
    )
