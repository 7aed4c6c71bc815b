"""What every tool receives besides the model's arguments, and what marks a tool read or write.

The model never chooses these values: the acting user, the session, the practice's time zone
and limits are injected by the executor (`ctx: Annotated[ToolContext, InjectedToolArg]`),
so they are not in the schema the model sees.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from langchain_core.tools import BaseTool
from sqlmodel import Session

from tools.access import Actor, Category, patients_in_scope
from tools.clock import today_in
from tools.practice_limits import PracticeLimits


class MemoryHit(Protocol):
    """What memory search returns (memory.store.Hit has this shape)."""

    @property
    def ref(self) -> str: ...

    text: str
    metadata: Any
    score: float | None


class MemorySearch(Protocol):
    """The seam to long-term memory (memory.store.MemoryStore implements it)."""

    def search_patient(self, patient_id: int, query: str, *, k: int = 5) -> Sequence[Any]: ...

    def search_literature(self, query: str, *, k: int = 10) -> Sequence[Any]: ...

    def preferences_for(self, physician_id: int) -> Sequence[Any]: ...


class ToolContext:
    """A plain class, not a dataclass: pydantic then checks it by isinstance only."""

    def __init__(
        self,
        *,
        session: Session,
        actor: Actor,
        tz: ZoneInfo,
        now: datetime,
        limits: PracticeLimits | None = None,
        memory: MemorySearch | None = None,
    ) -> None:
        self.session, self.actor, self.tz, self.now = session, actor, tz, now
        self.limits = limits or PracticeLimits()
        self.memory = memory
        self._scope: set[int] | None = None
        self._scope_known = False

    @property
    def today(self) -> date:
        return today_in(self.tz, self.now)

    @property
    def audit_actor(self) -> str:
        return self.actor.label

    @property
    def scope(self) -> set[int] | None:
        """The patients the user may see (None: every patient), looked up once."""
        if not self._scope_known:
            self._scope = patients_in_scope(session=self.session, actor=self.actor)
            self._scope_known = True
        return self._scope

    def in_scope(self, patient_id: int | None) -> bool:
        """May the actor see this patient? (practice-wide rows without a patient: yes)"""
        if patient_id is None:
            return True
        if not self._scope_known:
            self._scope = patients_in_scope(session=self.session, actor=self.actor)
            self._scope_known = True
        return self._scope is None or patient_id in self._scope

    def can(self, *needed: Category) -> bool:
        return self.actor.can(*needed)


Kind = Literal["read", "write"]
Preview = Callable[[ToolContext, dict[str, Any]], str]


@dataclass(frozen=True)
class ToolSpec:
    """A tool and the rules around it: read or write, the data it needs and (writes) the
    exact description a person approves. Whose records a call touches is read from the
    tool's id arguments (agent.toolbox.arguments)."""

    tool: BaseTool
    kind: Kind
    needs: frozenset[Category]
    preview: Preview | None = None
    needs_memory: bool = False

    @property
    def name(self) -> str:
        return self.tool.name

    def __post_init__(self) -> None:
        if self.kind == "write" and self.preview is None:
            raise ValueError(f"write tool {self.tool.name} needs a preview for its approval")
