"""The briefing graph's state, its run context, and the sections its facts are sorted into
(the facts themselves are agent.documents.facts.Fact, as for every document)."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Protocol, TypedDict
from zoneinfo import ZoneInfo

from langchain_core.language_models import BaseChatModel
from sqlmodel import Session

from agent.documents.facts import Fact
from tools.practice_limits import PracticeLimits

# Sections in the order a briefing shows them: what needs a decision always comes first.
SECTIONS = ("decision", "changes", "programme", "open", "evidence", "preferences")
SECTION_TITLES = {
    "decision": "Needs your decision today",
    "changes": "Since the last visit",
    "programme": "Programme and current treatment",
    "open": "Open items",
    "evidence": "New evidence for this patient's protocols",
    "preferences": "Your standing preferences",
}


class PreferenceHit(Protocol):
    @property
    def ref(self) -> str: ...

    @property
    def text(self) -> str: ...


class PreferenceSource(Protocol):
    """Where a physician's standing preferences come from: memory.store.MemoryStore, or
    agent.briefing.gather.DatabasePreferences."""

    def preferences_for(self, physician_id: int) -> Sequence[PreferenceHit]: ...


@dataclass
class BriefingContext:
    """What a run needs that is not state: the session, the model (None: deterministic),
    memory (None: no preferences), and the practice's limits."""

    session: Session
    tz: ZoneInfo
    model: BaseChatModel | None = None
    memory: PreferenceSource | None = None
    limits: PracticeLimits = field(default_factory=PracticeLimits)
    actor: str = "system"


def _merge(left: dict[str, float] | None, right: dict[str, float] | None) -> dict[str, float]:
    out = dict(left or {})
    for key, value in (right or {}).items():
        out[key] = out.get(key, 0.0) + value
    return out


class BriefingState(TypedDict, total=False):
    # input
    patient_id: int
    physician_id: int
    appointment_id: int | None
    now: datetime
    # gather
    header: dict[str, Any]  # patient, physician, appointment: rendered by templates only
    facts: list[Fact]
    sources: dict[str, str]  # reference -> what it is, for the closing source list
    links: dict[str, str]  # reference -> URL (articles, interaction monographs)
    # compose
    draft: str
    mode: str  # "model" or "deterministic"
    prompt_tokens: int
    model_calls: Annotated[int, operator.add]
    notes: Annotated[list[str], operator.add]  # what went differently (model unavailable...)
    # verify
    body: str
    kept: int
    dropped: list[tuple[str, str]]  # (sentence, why), of the composition that was used
    dropped_total: Annotated[int, operator.add]  # across attempts (a rejected model draft too)
    # render
    markdown: str
    html: str
    cited: list[str]
    # seconds per node, summed over attempts (the benchmark reads them)
    timings: Annotated[dict[str, float], _merge]
