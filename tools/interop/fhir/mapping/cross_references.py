"""What other resources of an import say about the one being mapped, indexed once per import.

A mapper that must know what *other* resources say about the one it maps (which Goals a
CarePlan names, a Questionnaire by its canonical URL) would otherwise scan every resource
read for every resource it maps: quadratic on a practice-sized export. These are built on
first use and kept while the import's `ReferenceIndex` lives (the last import's only: an
import maps its patients one after another; a weak reference, so nothing outlives it).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from tools.interop.fhir.mapping.context import MapContext
from tools.interop.fhir.references import ReferenceIndex

T = TypeVar("T")

_built: dict[str, tuple[weakref.ref[ReferenceIndex], Any]] = {}


def _once(ctx: MapContext, name: str, build: Callable[[MapContext], T]) -> T:
    found = _built.get(name)
    if found is not None and found[0]() is ctx.index:
        return found[1]  # type: ignore[no-any-return]
    value = build(ctx)
    _built[name] = (weakref.ref(ctx.index), value)
    return value


def _of_type(ctx: MapContext, resource_type: str) -> list[tuple[str, Mapping[str, Any]]]:
    found = []
    for key, kind in ctx.index.types.items():
        if kind == resource_type and "#" not in key:
            raw = ctx.raw_of(key)
            if raw is not None:
                found.append((key, raw))
    return found


def goals_named_by_care_plans(ctx: MapContext) -> frozenset[str]:
    """The keys of the Goals some CarePlan of this import names (its goals, its activities')."""

    def build(ctx: MapContext) -> frozenset[str]:
        named = set()
        for key, plan in _of_type(ctx, "CarePlan"):
            references = list(plan.get("goal") or [])
            for activity in plan.get("activity") or []:
                detail = activity.get("detail") if isinstance(activity, Mapping) else None
                if isinstance(detail, Mapping):
                    references.extend(detail.get("goal") or [])
            for reference in references:
                if isinstance(reference, Mapping):
                    target = ctx.index.resolve(reference=reference, source_key=key).target
                    if target is not None:
                        named.add(target)
        return frozenset(named)

    return _once(ctx, "goals", build)


def questionnaire_titles(ctx: MapContext) -> Mapping[str, str]:
    """The title (else name) of each Questionnaire of this import, by its canonical URL."""

    def build(ctx: MapContext) -> dict[str, str]:
        titles: dict[str, str] = {}
        for _, questionnaire in _of_type(ctx, "Questionnaire"):
            title = questionnaire.get("title") or questionnaire.get("name")
            url = questionnaire.get("url")
            if isinstance(url, str) and isinstance(title, str) and title.strip():
                titles.setdefault(url, title.strip())
        return titles

    return _once(ctx, "questionnaires", build)
