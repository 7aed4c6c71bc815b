"""The toolbox: the practice's operations as LangChain tools, each marked read or write.

`toolbox_for(actor)` is the set one user's graph gets: only tools whose data the user's role
covers (tools.access). The executor checks again on every call, per patient.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from langchain_core.tools import BaseTool

from agent.toolbox import reads, writes
from agent.toolbox.context import (
    MemorySearch,
    ToolContext,
    ToolSpec,
)
from tools.access import Actor
from tools.access import Category as C

S = ToolSpec
_F = frozenset

SPECS: tuple[ToolSpec, ...] = (
    # ---- reads
    S(reads.find_patients, "read", _F({C.DEMOGRAPHICS})),
    S(reads.patient_programme, "read", _F({C.DEMOGRAPHICS})),
    S(reads.list_practitioners, "read", _F({C.DIRECTORY})),
    S(reads.free_slots, "read", _F({C.SCHEDULING})),
    S(reads.day_schedule, "read", _F({C.SCHEDULING})),
    S(reads.practice_overview_today, "read", _F({C.SCHEDULING, C.REFERRALS_ADMIN, C.TASKS})),
    S(reads.my_tasks, "read", _F({C.TASKS})),
    S(reads.list_overdue_referrals, "read", _F({C.REFERRALS_ADMIN})),
    S(reads.search_literature, "read", _F({C.LITERATURE})),
    S(reads.evidence_summary, "read", _F({C.LITERATURE})),
    S(reads.protocol_reviews_due, "read", _F({C.PROTOCOL_REVIEWS})),
    S(reads.search_patient_notes, "read", _F({C.NOTES}), needs_memory=True),
    S(reads.my_preferences, "read", _F({C.PREFERENCES})),
    # ---- writes: every one waits for approval, even a task for oneself, so that text the
    # model misread as an instruction can never write anything unseen. Whose record a call
    # touches comes from its id arguments (agent.toolbox.arguments), not from each tool.
    S(writes.book_appointment, "write", _F({C.SCHEDULING}), writes.preview_book),
    S(writes.reschedule_appointment, "write", _F({C.SCHEDULING}), writes.preview_reschedule),
    S(writes.cancel_appointment, "write", _F({C.SCHEDULING}), writes.preview_cancel),
    S(
        writes.create_referral,
        "write",
        _F({C.REFERRALS_ADMIN, C.REFERRALS_CLINICAL}),
        writes.preview_referral,
    ),
    S(writes.advance_referral, "write", _F({C.REFERRALS_ADMIN}), writes.preview_advance),
    S(writes.send_care_message, "write", _F({C.MESSAGES}), writes.preview_message),
    S(writes.create_task, "write", _F({C.TASKS}), writes.preview_task),
    S(writes.complete_task, "write", _F({C.TASKS}), writes.preview_complete),
    S(
        writes.acknowledge_protocol_review,
        "write",
        _F({C.PROTOCOL_REVIEWS}),
        writes.preview_review,
    ),
)

WRITE_TOOLS = frozenset(s.name for s in SPECS if s.kind == "write")


@dataclass(frozen=True)
class Toolbox:
    """The tools one user's graph gets, by name."""

    actor: Actor
    specs: dict[str, ToolSpec]

    def get(self, name: str) -> ToolSpec | None:
        return self.specs.get(name)

    @property
    def tools(self) -> list[BaseTool]:
        return [s.tool for s in self.specs.values()]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.specs)

    def __iter__(self) -> Iterator[ToolSpec]:
        return iter(self.specs.values())


def toolbox_for(actor: Actor, *, with_memory: bool = False) -> Toolbox:
    """The tools whose data the actor's role covers (memory tools only with a store)."""
    chosen = {
        s.name: s for s in SPECS if actor.can(*s.needs) and (with_memory or not s.needs_memory)
    }
    return Toolbox(actor=actor, specs=chosen)


__all__ = [
    "SPECS",
    "WRITE_TOOLS",
    "MemorySearch",
    "ToolContext",
    "ToolSpec",
    "Toolbox",
    "toolbox_for",
]
