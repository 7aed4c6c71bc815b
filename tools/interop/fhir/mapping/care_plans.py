"""FHIR CarePlan and Goal -> Steve care programmes and their elements.

CarePlan -> one CareProgramme:
- title: CarePlan.title, else its first category's text (not the generic "assess-plan"),
  else its description, else "Care plan";
- goal: the descriptions of the Goals it names (`CarePlan.goal`, read in this import), else
  its description when the title came from elsewhere;
- status: active/unknown -> active, on-hold -> paused, completed/revoked -> completed; draft and
  entered-in-error are not imported (a programme imported before is paused, respectively
  completed with its elements stopped); period -> started_on/ended_on (created when no start);
- lead practitioner: the author (a Practitioner or PractitionerRole), else the first
  contributor that is one; may stay empty.

Each activity -> one ProgrammeElement (part "activity/<key>", the key a short hash of what
identifies the activity across versions: its id, its reference, its code, else its place):
- modality: the discipline of the clinician performing it when that clinician is known, else
  its code or words by the small table below (acupuncture, osteopathy, nutrition, coaching,
  psychotherapy, mind-body, physiotherapy, massage), else physician;
- goal: detail.description, else its own goals' descriptions, else its code's text (a
  referenced ServiceRequest's code for reference-only activities), else the programme's goal;
- cadence: detail.scheduledTiming (frequency/period/periodUnit: "weekly", "every 2 weeks",
  "twice weekly", with a count of sessions when given), else scheduledString, else "as arranged";
- status: not-started/scheduled -> planned, in-progress -> active, on-hold -> paused,
  completed, cancelled/stopped/entered-in-error -> stopped (a referenced request's status
  when the activity has no detail);
- an activity missing from a newer version of the plan -> its element is stopped.

Goal: a Goal named by a CarePlan in the same import is that programme's goal text and writes
nothing itself. A Goal no CarePlan in the import names becomes a programme of its own titled
"Goal: ...", without elements, so a patient's goals are never dropped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from db.models import (
    CareProgramme,
    Discipline,
    ElementStatus,
    Practitioner,
    ProgrammeElement,
    ProgrammeStatus,
)
from db.models.interop import RecordSource
from tools.interop.fhir.mapping.context import Item, MapContext, Mapper
from tools.interop.fhir.mapping.cross_references import goals_named_by_care_plans
from tools.interop.fhir.mapping.values import codings, concept_text, fhir_date, timing_text
from tools.interop.provenance import Outcome, table_of

PLAN_STATUS = {
    "active": ProgrammeStatus.ACTIVE,
    "unknown": ProgrammeStatus.ACTIVE,
    "on-hold": ProgrammeStatus.PAUSED,
    "completed": ProgrammeStatus.COMPLETED,
    "revoked": ProgrammeStatus.COMPLETED,
}
ACTIVITY_STATUS = {
    "not-started": ElementStatus.PLANNED,
    "scheduled": ElementStatus.PLANNED,
    "in-progress": ElementStatus.ACTIVE,
    "on-hold": ElementStatus.PAUSED,
    "completed": ElementStatus.COMPLETED,
    "cancelled": ElementStatus.STOPPED,
    "stopped": ElementStatus.STOPPED,
    "entered-in-error": ElementStatus.STOPPED,
    "unknown": ElementStatus.ACTIVE,
}
REQUEST_STATUS = {  # a referenced ServiceRequest / MedicationRequest / Task's status
    "draft": ElementStatus.PLANNED,
    "requested": ElementStatus.PLANNED,
    "ready": ElementStatus.PLANNED,
    "active": ElementStatus.ACTIVE,
    "in-progress": ElementStatus.ACTIVE,
    "on-hold": ElementStatus.PAUSED,
    "completed": ElementStatus.COMPLETED,
    "revoked": ElementStatus.STOPPED,
    "cancelled": ElementStatus.STOPPED,
    "stopped": ElementStatus.STOPPED,
    "entered-in-error": ElementStatus.STOPPED,
}
GOAL_STATUS = {
    "proposed": ProgrammeStatus.ACTIVE,
    "planned": ProgrammeStatus.ACTIVE,
    "accepted": ProgrammeStatus.ACTIVE,
    "active": ProgrammeStatus.ACTIVE,
    "on-hold": ProgrammeStatus.PAUSED,
    "completed": ProgrammeStatus.COMPLETED,
    "cancelled": ProgrammeStatus.COMPLETED,
    "rejected": ProgrammeStatus.COMPLETED,
}
# Codes (SNOMED CT, CPT) and words that name a modality. Words are matched in lower case.
MODALITY_CODES = {
    "44868003": Discipline.ACUPUNCTURE,  # SNOMED acupuncture
    "61310001": Discipline.NUTRITIONAL_THERAPY,  # SNOMED nutrition education
    "11816003": Discipline.NUTRITIONAL_THERAPY,  # SNOMED diet education
    "75516001": Discipline.PSYCHOTHERAPY,  # SNOMED psychotherapy
    "91251008": Discipline.PHYSIOTHERAPY,  # SNOMED physical therapy procedure
    "229065009": Discipline.PHYSIOTHERAPY,  # SNOMED exercise therapy
    **dict.fromkeys(("97810", "97811", "97813", "97814"), Discipline.ACUPUNCTURE),  # CPT
    **dict.fromkeys(("98925", "98926", "98927", "98928", "98929"), Discipline.OSTEOPATHY),
    **dict.fromkeys(("97802", "97803", "97804"), Discipline.NUTRITIONAL_THERAPY),
    **dict.fromkeys(("0591T", "0592T", "0593T"), Discipline.HEALTH_COACHING),
    **dict.fromkeys(("90832", "90834", "90837"), Discipline.PSYCHOTHERAPY),
    "97110": Discipline.PHYSIOTHERAPY,
    "97124": Discipline.MASSAGE,
}
MODALITY_WORDS = (
    ("acupunct", Discipline.ACUPUNCTURE),
    ("osteopath", Discipline.OSTEOPATHY),
    ("nutrition", Discipline.NUTRITIONAL_THERAPY),
    ("diet", Discipline.NUTRITIONAL_THERAPY),
    ("coaching", Discipline.HEALTH_COACHING),
    ("psychotherap", Discipline.PSYCHOTHERAPY),
    ("cognitive behav", Discipline.PSYCHOTHERAPY),
    ("mindfulness", Discipline.MIND_BODY),
    ("meditation", Discipline.MIND_BODY),
    ("yoga", Discipline.MIND_BODY),
    ("mind-body", Discipline.MIND_BODY),
    ("physiotherap", Discipline.PHYSIOTHERAPY),
    ("physical therap", Discipline.PHYSIOTHERAPY),
    ("exercise therap", Discipline.PHYSIOTHERAPY),
    ("massage", Discipline.MASSAGE),
)
NO_CADENCE = "as arranged"


def map_care_plan(*, item: Item, ctx: MapContext) -> None:
    raw = item.raw
    if ctx.patient_id is None:
        ctx.skip(item=item, field="subject", message="a care plan without a patient")
        return
    own = ctx.provenance.row_id(
        resource_type=item.resource_type, resource_id=item.resource_id, model=CareProgramme
    )
    status_code = str(raw.get("status"))
    if status_code in ("draft", "entered-in-error") and own is None:
        ctx.skip(item=item, field="status", message=f"a {status_code} care plan is not imported")
        return
    period = raw.get("period") if isinstance(raw.get("period"), Mapping) else {}
    assert isinstance(period, Mapping)
    started = fhir_date(period.get("start")) or fhir_date(raw.get("created"))
    if started is None:
        ctx.skip(item=item, field="period.start", message="a care plan without a start date")
        return
    title, title_is_description = _title(raw)
    goals = _goal_texts(item=item, ctx=ctx, references=raw.get("goal"))
    description = raw.get("description") if isinstance(raw.get("description"), str) else None
    goal = "; ".join(goals) or (None if title_is_description else description)
    status = PLAN_STATUS.get(status_code, ProgrammeStatus.ACTIVE)
    if status_code == "draft":
        status = ProgrammeStatus.PAUSED
    elif status_code == "entered-in-error":
        status = ProgrammeStatus.COMPLETED
    lead = next(
        (
            found
            for reference in [raw.get("author"), *_as_list(raw.get("contributor"))]
            if (found := ctx.practitioner_id(item=item, reference=reference)) is not None
        ),
        None,
    )
    written = ctx.write(
        item=item,
        model=CareProgramme,
        values={
            "patient_id": ctx.patient_id,
            "title": title[:200],
            "goal": goal[:1000] if goal else None,
            "lead_practitioner_id": lead,
            "status": status,
            "started_on": started,
            "ended_on": fhir_date(period.get("end")),
        },
    )
    programme = written.row
    if written.outcome == Outcome.UNCHANGED:
        _refresh_goal(ctx=ctx, programme=programme, goal=goal[:1000] if goal else None)
    if written.outcome in (Outcome.UNCHANGED, Outcome.STALE):
        return
    _attach_goals(item=item, ctx=ctx, programme=programme)
    activities = [] if status_code == "entered-in-error" else _as_list(raw.get("activity"))
    kept = _map_activities(item=item, ctx=ctx, programme=programme, activities=activities)
    _stop_missing(item=item, ctx=ctx, kept=kept, ended_on=programme.ended_on)


def map_goal(*, item: Item, ctx: MapContext) -> None:
    """A Goal alone becomes a programme of its own; one a CarePlan names (in this import, or
    in an earlier one: its source is a part of that plan's programme) is written by it."""
    raw = item.raw
    if item.key in goals_named_by_care_plans(ctx) or _joined_earlier(item=item, ctx=ctx):
        return
    if ctx.patient_id is None:
        ctx.skip(item=item, field="subject", message="a goal without a patient")
        return
    status_code = str(raw.get("lifecycleStatus"))
    if status_code == "entered-in-error":
        ctx.skip(item=item, field="lifecycleStatus", message="entered in error: not imported")
        return
    text = concept_text(raw.get("description")) or "Goal"
    started = (
        fhir_date(raw.get("startDate"))
        or fhir_date(raw.get("statusDate"))
        or fhir_date((raw.get("meta") or {}).get("lastUpdated"))
    )
    if started is None:
        ctx.skip(item=item, field="startDate", message="a goal without a start date")
        return
    ctx.write(
        item=item,
        model=CareProgramme,
        values={
            "patient_id": ctx.patient_id,
            "title": f"Goal: {text}"[:200],
            "goal": text[:1000],
            "lead_practitioner_id": ctx.practitioner_id(
                item=item, reference=raw.get("expressedBy")
            ),
            "status": GOAL_STATUS.get(status_code, ProgrammeStatus.ACTIVE),
            "started_on": started,
            "ended_on": None,
        },
    )


# -------------------------------------------------------------------- activities


def _map_activities(
    *, item: Item, ctx: MapContext, programme: CareProgramme, activities: list[Any]
) -> set[str]:
    kept: set[str] = set()
    for n, activity in enumerate(activities):
        if not isinstance(activity, Mapping):
            continue
        part = _part(activity, n, kept)
        kept.add(part)
        ctx.write(
            item=item,
            model=ProgrammeElement,
            values=_element(item=item, ctx=ctx, programme=programme, activity=activity),
            part=part,
        )
    return kept


def _element(
    *, item: Item, ctx: MapContext, programme: CareProgramme, activity: Mapping[str, Any]
) -> dict[str, Any]:
    detail = activity.get("detail") if isinstance(activity.get("detail"), Mapping) else {}
    assert isinstance(detail, Mapping)
    request = ctx.target_raw(item=item, reference=activity.get("reference")) or {}
    code = detail.get("code") or request.get("code")
    performers = [*_as_list(detail.get("performer")), *_as_list(request.get("performer"))]
    performer = next(
        (
            found
            for reference in performers
            if (found := ctx.practitioner_id(item=item, reference=reference)) is not None
        ),
        None,
    )
    modality = _modality(ctx=ctx, practitioner_id=performer, code=code)
    if performer is None:
        performer = programme.lead_practitioner_id or ctx.practitioner_or_fallback(
            item=item, references=[]
        )
    if detail:
        status = ACTIVITY_STATUS.get(str(detail.get("status")), ElementStatus.ACTIVE)
    else:
        status = REQUEST_STATUS.get(str(request.get("status")), ElementStatus.ACTIVE)
    goal = (
        (detail.get("description") if isinstance(detail.get("description"), str) else None)
        or "; ".join(_goal_texts(item=item, ctx=ctx, references=detail.get("goal")))
        or concept_text(code)
        or programme.goal
        or programme.title
    )
    scheduled = _scheduled_period(detail)
    started = fhir_date(scheduled.get("start")) or programme.started_on
    ended = fhir_date(scheduled.get("end")) or programme.ended_on
    return {
        "programme_id": programme.id,
        "patient_id": programme.patient_id,
        "modality": modality,
        "practitioner_id": performer,
        "goal": goal[:500],
        "cadence": _cadence(detail),
        "status": status,
        "started_on": started,
        "ended_on": ended if status in (ElementStatus.COMPLETED, ElementStatus.STOPPED) else None,
    }


def _modality(*, ctx: MapContext, practitioner_id: int | None, code: Any) -> Discipline:
    """The performer's discipline; a physician or admin performer yields to the code."""
    by_code = _by_code(code)
    found = None if practitioner_id is None else ctx.session.get(Practitioner, practitioner_id)
    discipline = None if found is None else Discipline(found.discipline)
    if discipline in (None, Discipline.ADMIN) or (
        discipline == Discipline.PHYSICIAN and by_code is not None
    ):
        return by_code or Discipline.PHYSICIAN
    assert discipline is not None
    return discipline


def _by_code(code: Any) -> Discipline | None:
    for coding in codings(code):
        found = MODALITY_CODES.get(str(coding.get("code")))
        if found is not None:
            return found
    words = " ".join(
        [
            str(code.get("text") or "") if isinstance(code, Mapping) else "",
            *(str(c.get("display") or "") for c in codings(code)),
        ]
    ).lower()
    return next((d for word, d in MODALITY_WORDS if word in words), None)


def _stop_missing(*, item: Item, ctx: MapContext, kept: set[str], ended_on: date | None) -> None:
    """Elements of activities a newer version of the plan no longer lists are stopped."""
    for source in ctx.provenance.parts(
        resource_type=item.resource_type,
        resource_id=item.resource_id,
        table=table_of(ProgrammeElement),
    ):
        if not source.part or source.part in kept:
            continue
        element = ctx.session.get(ProgrammeElement, source.row_id)
        if element is None or element.status == ElementStatus.STOPPED:
            continue
        element.status = ElementStatus.STOPPED
        element.ended_on = element.ended_on or ended_on or _source_day(source) or element.started_on
        ctx.session.add(element)
        ctx.tally.rows[(table_of(ProgrammeElement), Outcome.UPDATED.value)] += 1
    ctx.session.flush()


def _source_day(source: RecordSource) -> date | None:
    return None if source.last_updated is None else source.last_updated.date()


def _part(activity: Mapping[str, Any], n: int, taken: set[str]) -> str:
    """A key for the activity that survives reordering between versions of the plan."""
    detail = activity.get("detail") if isinstance(activity.get("detail"), Mapping) else {}
    assert isinstance(detail, Mapping)
    reference = activity.get("reference")
    identity: Any = (
        activity.get("id")
        or (reference.get("reference") if isinstance(reference, Mapping) else None)
        or [(c.get("system"), c.get("code")) for c in codings(detail.get("code"))]
        or detail.get("description")
        or n
    )
    digest = hashlib.sha256(json.dumps(identity, default=str).encode()).hexdigest()[:16]
    part, extra = f"activity/{digest}", 2
    while part in taken:  # the same activity twice in one plan
        part, extra = f"activity/{digest}-{extra}", extra + 1
    return part


def _cadence(detail: Mapping[str, Any]) -> str:
    text = timing_text(detail.get("scheduledTiming"))
    if text is None and isinstance(detail.get("scheduledString"), str):
        text = detail["scheduledString"].strip() or None
    return (text or NO_CADENCE)[:60]


def _scheduled_period(detail: Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(detail.get("scheduledPeriod"), Mapping):
        return detail["scheduledPeriod"]
    timing = detail.get("scheduledTiming")
    repeat = timing.get("repeat") if isinstance(timing, Mapping) else None
    bounds = repeat.get("boundsPeriod") if isinstance(repeat, Mapping) else None
    return bounds if isinstance(bounds, Mapping) else {}


# ------------------------------------------------------------------------- goals


def _title(raw: Mapping[str, Any]) -> tuple[str, bool]:
    """The programme's title, and whether it is the plan's description."""
    if isinstance(raw.get("title"), str) and raw["title"].strip():
        return raw["title"].strip(), False
    for category in _as_list(raw.get("category")):
        if any(c.get("code") == "assess-plan" for c in codings(category)):
            continue
        text = concept_text(category)
        if text:
            return text, False
    if isinstance(raw.get("description"), str) and raw["description"].strip():
        return raw["description"].strip(), True
    return "Care plan", False


def _goal_texts(*, item: Item, ctx: MapContext, references: Any) -> list[str]:
    texts = []
    for reference in _as_list(references):
        goal = ctx.target_raw(item=item, reference=reference)
        text = concept_text(goal.get("description")) if goal is not None else None
        if text and text not in texts:
            texts.append(text)
    return texts


def _refresh_goal(*, ctx: MapContext, programme: CareProgramme, goal: str | None) -> None:
    """The plan is as imported before, but a Goal it names was sent changed: its words."""
    if goal is not None and programme.goal != goal:
        programme.goal = goal
        ctx.session.add(programme)
        ctx.session.flush()
        ctx.tally.rows[(table_of(CareProgramme), Outcome.UPDATED.value)] += 1


def _attach_goals(*, item: Item, ctx: MapContext, programme: CareProgramme) -> None:
    """Record that the plan's Goals are part of its programme (a part per plan), so a Goal
    sent again alone later is known to belong to it rather than becoming a programme."""
    assert programme.id is not None
    plan = hashlib.sha256(item.resource_id.encode()).hexdigest()[:16]
    for reference in _as_list(item.raw.get("goal")):
        key = ctx.target_key(item=item, reference=reference)
        goal = ctx.target_raw(item=item, reference=reference)
        if key is None or goal is None or "#" in key or goal.get("resourceType") != "Goal":
            continue
        goal_item = Item(
            key=key, resource_type="Goal", resource_id=str(goal.get("id") or key), raw=goal
        )
        ctx.provenance.attach(
            origin=ctx.origin(goal_item),
            table=table_of(CareProgramme),
            row_id=programme.id,
            part=f"plan/{plan}",
            patient_id=ctx.patient_id,
        )


def _joined_earlier(*, item: Item, ctx: MapContext) -> bool:
    sources = ctx.provenance.parts(
        resource_type=item.resource_type,
        resource_id=item.resource_id,
        table=table_of(CareProgramme),
    )
    return any(s.part.startswith("plan/") for s in sources)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


MAPPERS: dict[str, Mapper] = {"CarePlan": map_care_plan, "Goal": map_goal}
