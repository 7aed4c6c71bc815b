"""The pre-appointment briefing graph: gather -> compose -> verify -> render.

    graph = briefing_graph().compile()
    briefing = run_briefing(context=BriefingContext(session=s, tz=tz, model=None), ...)

With a model, compose makes exactly one call; if nothing of its text survives the checker
(or the call fails), the deterministic composer writes the briefing instead and the briefing
says so. The session, model and memory travel in the run context, never in the state.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from agent.briefing.document import (
    check_with_guard,
    deterministic_body,
    messages,
    render_briefing,
)
from agent.briefing.gather import gather_facts
from agent.briefing.state import BriefingContext, BriefingState
from agent.documents.compose import model_text, prompt_tokens
from agent.documents.facts import Fact
from tools.scheduling.agenda import day_appointments

log = logging.getLogger(__name__)


def _elapsed(started: float) -> float:
    return time.perf_counter() - started


def gather(state: BriefingState, runtime: Runtime[BriefingContext]) -> dict[str, Any]:
    started = time.perf_counter()
    got = gather_facts(
        context=runtime.context,
        patient_id=state["patient_id"],
        physician_id=state["physician_id"],
        now=state["now"],
        appointment_id=state.get("appointment_id"),
    )
    return {
        "facts": got.facts,
        "sources": got.sources,
        "links": got.links,
        "header": got.header,
        "timings": {"gather": _elapsed(started)},
    }


def compose(state: BriefingState, runtime: Runtime[BriefingContext]) -> dict[str, Any]:
    started = time.perf_counter()
    facts = state["facts"]
    model = runtime.context.model
    if model is None:
        body = deterministic_body(facts)
        return {"draft": body, "mode": "deterministic", "timings": {"compose": _elapsed(started)}}
    msgs = messages(facts)
    tokens = prompt_tokens(msgs)
    calling = time.perf_counter()
    try:
        text = model_text(model, msgs)
    except Exception as exc:  # a model outage must not cost the physician the briefing
        log.warning("briefing model call failed (%s); composing directly", type(exc).__name__)
        return {
            "draft": deterministic_body(facts),
            "mode": "deterministic",
            "model_calls": 1,
            "prompt_tokens": tokens,
            "notes": [
                f"The language model was unavailable ({type(exc).__name__}); this briefing "
                "was composed directly from the records."
            ],
            "timings": {"model": _elapsed(calling), "compose": _elapsed(started)},
        }
    model_time = _elapsed(calling)
    return {
        "draft": text,
        "mode": "model",
        "model_calls": 1,
        "prompt_tokens": tokens,
        "timings": {"model": model_time, "compose": _elapsed(started)},
    }


def verify(state: BriefingState) -> dict[str, Any]:
    started = time.perf_counter()
    checked = check_with_guard(state["draft"], state["facts"])
    notes = []
    if checked.restored:
        n = checked.restored
        notes.append(
            f"{n} item{'s' if n != 1 else ''} needing a decision "
            f"{'were' if n != 1 else 'was'} missing from the composed text and "
            f"{'have' if n != 1 else 'has'} been put back at the top."
        )
    return {
        "body": checked.body,
        "kept": checked.kept,
        "dropped": checked.dropped,
        "dropped_total": len(checked.dropped),
        "notes": notes,
        "timings": {"verify": _elapsed(started)},
    }


def needs_fallback(state: BriefingState) -> str:
    """Nothing of the model's text survived: compose from the records instead."""
    return "fallback" if state.get("mode") == "model" and not state.get("kept") else "render"


def fallback(state: BriefingState) -> dict[str, Any]:
    n = len(state.get("dropped", []))
    return {
        "draft": deterministic_body(state["facts"]),
        "mode": "deterministic",
        "notes": [
            f"The model's briefing could not be verified against the records ({n} "
            f"sentence{'s' if n != 1 else ''} removed); this briefing was composed directly "
            "from the records."
        ],
    }


def render(state: BriefingState) -> dict[str, Any]:
    started = time.perf_counter()
    out = render_briefing(
        header=state["header"],
        body=state["body"],
        sources=state["sources"],
        links=state.get("links", {}),
        kept=state.get("kept", 0),
        dropped=state.get("dropped", []),
        notes=state.get("notes", []),
        mode=state["mode"],
    )
    return {
        "markdown": out.markdown,
        "html": out.html,
        "cited": out.cited,
        "timings": {"render": _elapsed(started)},
    }


def briefing_graph() -> StateGraph[BriefingState, BriefingContext, BriefingState, BriefingState]:
    """The uncompiled graph; callers compile it (with a checkpointer if they want one)."""
    graph = StateGraph(BriefingState, context_schema=BriefingContext)
    graph.add_node("gather", gather)
    graph.add_node("compose", compose)
    graph.add_node("verify", verify)
    graph.add_node("fallback", fallback)
    graph.add_node("render", render)
    graph.add_edge(START, "gather")
    graph.add_edge("gather", "compose")
    graph.add_edge("compose", "verify")
    graph.add_conditional_edges(
        "verify", needs_fallback, {"fallback": "fallback", "render": "render"}
    )
    graph.add_edge("fallback", "verify")
    graph.add_edge("render", END)
    return graph


# ---------------------------------------------------------------------- running


@dataclass
class Briefing:
    patient_id: int
    physician_id: int
    appointment_id: int | None
    markdown: str
    html: str
    body: str  # the verified text, without header, checker line and sources
    mode: str  # "model" or "deterministic"
    facts: list[Fact]
    cited: list[str]
    kept: int
    dropped: list[tuple[str, str]]  # of the text used
    dropped_total: int  # every sentence the checker removed, a rejected model draft's too
    model_calls: int
    prompt_tokens: int
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def record(self, *, detail: bool = False) -> dict[str, Any]:
        """The briefing as JSON data: the API's form (how many sentences were removed), or
        with `detail` the CLI's (each removed sentence with why, model calls, prompt tokens)."""
        out: dict[str, Any] = {
            "patient_id": self.patient_id,
            "physician_id": self.physician_id,
            "appointment_id": self.appointment_id,
            "mode": self.mode,
            "kept": self.kept,
            "dropped": len(self.dropped),
        }
        if detail:
            out["dropped"] = [{"sentence": s, "why": w} for s, w in self.dropped]
            out["model_calls"] = self.model_calls
            out["prompt_tokens"] = self.prompt_tokens
        return out | {
            "sources": self.cited,
            "notes": self.notes,
            "markdown": self.markdown,
            "html": self.html,
        }


_COMPILED: Any = None


def _compiled() -> Any:
    global _COMPILED
    if _COMPILED is None:
        _COMPILED = briefing_graph().compile()
    return _COMPILED


def run_briefing(
    *,
    context: BriefingContext,
    patient_id: int,
    physician_id: int,
    now: datetime,
    appointment_id: int | None = None,
    graph: Any = None,
) -> Briefing:
    """One briefing through the graph (compiled once per process unless one is given)."""
    state = (graph or _compiled()).invoke(
        {
            "patient_id": patient_id,
            "physician_id": physician_id,
            "appointment_id": appointment_id,
            "now": now,
        },
        context=context,
    )
    return Briefing(
        patient_id=patient_id,
        physician_id=physician_id,
        appointment_id=appointment_id,
        markdown=state["markdown"],
        html=state["html"],
        body=state["body"],
        mode=state["mode"],
        facts=state["facts"],
        cited=state["cited"],
        kept=state.get("kept", 0),
        dropped=state.get("dropped", []),
        dropped_total=state.get("dropped_total", 0),
        model_calls=state.get("model_calls", 0),
        prompt_tokens=state.get("prompt_tokens", 0),
        notes=state.get("notes", []),
        timings=state.get("timings", {}),
    )


def brief_day(
    *,
    context: BriefingContext,
    physician_id: int,
    day: date,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> list[Briefing]:
    """A briefing for each of the physician's appointments on `day`."""
    appointments = day_appointments(
        session=context.session, day=day, tz=context.tz, practitioner_id=physician_id
    )
    out = []
    for n, appointment in enumerate(appointments, start=1):
        out.append(
            run_briefing(
                context=context,
                patient_id=appointment.patient_id,
                physician_id=physician_id,
                now=now,
                appointment_id=appointment.id,
            )
        )
        if progress is not None:
            progress(n, len(appointments))
    return out
