"""The daily token budget per user: usage recorded from each model reply, checked before calls."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlmodel import Session, col, func, select

from db.models import TokenUsage


def used_on(*, session: Session, practitioner_id: int, day: date) -> int:
    """Tokens the user's model calls used on a practice-local day."""
    stmt = select(func.coalesce(func.sum(col(TokenUsage.total_tokens)), 0)).where(
        TokenUsage.practitioner_id == practitioner_id, TokenUsage.day == day
    )
    return int(session.exec(stmt).one())


def record_usage(
    *, session: Session, practitioner_id: int, day: date, usage: Mapping[str, Any] | None
) -> TokenUsage | None:
    """Add one call's usage (langchain's usage_metadata); providers that report none add none."""
    if not usage:
        return None
    inputs = int(usage.get("input_tokens") or 0)
    outputs = int(usage.get("output_tokens") or 0)
    total = int(usage.get("total_tokens") or inputs + outputs)
    row = TokenUsage(
        practitioner_id=practitioner_id,
        day=day,
        input_tokens=inputs,
        output_tokens=outputs,
        total_tokens=total,
    )
    session.add(row)
    session.flush()
    return row
