"""Read tools: they look things up and change nothing, so they run without approval.

Docstrings and argument descriptions are what the model reads to choose a tool.
"""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.tools import InjectedToolArg, tool
from pydantic import Field

from agent.evidence.summaries import summarise
from agent.toolbox import records
from agent.toolbox.arguments import PatientId, PractitionerId
from agent.toolbox.context import ToolContext
from db.models import Affiliation, Discipline, Practitioner
from tools.access import Category as C
from tools.clock import parse_date
from tools.errors import InvalidInput
from tools.literature import articles as article_reads
from tools.literature.reviews import pending_reviews
from tools.overview import practice_overview
from tools.programme import programme_view
from tools.referrals import overdue_referrals
from tools.registry import find_patients as registry_find
from tools.scheduling import free_slots as search_free_slots
from tools.scheduling.agenda import day_appointments
from tools.tasks import tasks_for

Ctx = Annotated[ToolContext, InjectedToolArg]
DateText = Annotated[str, Field(description="a date as YYYY-MM-DD")]


@tool
def find_patients(
    name: Annotated[str | None, Field(description="part of the name, any order/case")] = None,
    date_of_birth: Annotated[str | None, Field(description="YYYY-MM-DD")] = None,
    *,
    ctx: Ctx,
) -> list[dict[str, Any]]:
    """Find patients by a name fragment and/or date of birth. Returns ids to use with
    other tools. Only patients you may see are listed."""
    dob = parse_date(date_of_birth, what="date of birth") if date_of_birth else None
    found = registry_find(session=ctx.session, name=name, date_of_birth=dob, limit=25)
    return [
        {
            "ref": f"patient:{p.id}",
            "id": p.id,
            "name": p.full_name,
            "date_of_birth": p.date_of_birth.isoformat(),
        }
        for p in found
        if ctx.in_scope(p.id)
    ]


@tool
def patient_programme(patient_id: PatientId, *, ctx: Ctx) -> dict[str, Any]:
    """The patient's whole programme in one place: conditions, medications, programme
    elements per modality, recent notes, supplements, labs, referrals, tasks, messages,
    next appointments and intake forms (only the parts your role may see)."""
    view = programme_view(
        session=ctx.session, patient_id=patient_id, now=ctx.now, actor=ctx.audit_actor
    )
    return records.programme(view, ctx.actor, ctx.tz)


@tool
def list_practitioners(
    discipline: Annotated[
        str | None, Field(description="e.g. physician, acupuncture, gastroenterology")
    ] = None,
    *,
    ctx: Ctx,
) -> list[dict[str, Any]]:
    """The practice's team and its external referral network, with ids, disciplines and
    whether each is in-house or external."""
    from sqlmodel import col, select

    stmt = select(Practitioner).order_by(col(Practitioner.name))
    if discipline:
        try:
            stmt = stmt.where(Practitioner.discipline == Discipline(discipline.strip().lower()))
        except ValueError:
            known = ", ".join(d.value for d in Discipline)
            raise InvalidInput(f"unknown discipline {discipline!r}; known: {known}") from None
    return [
        {
            "id": p.id,
            "name": p.name,
            "discipline": str(p.discipline),
            "in_house": p.affiliation == Affiliation.IN_HOUSE,
            "status": str(p.status),
        }
        for p in ctx.session.exec(stmt).all()
    ]


@tool
def free_slots(
    practitioner_id: Annotated[PractitionerId, Field(description="the in-house practitioner's id")],
    date: DateText,
    duration_minutes: Annotated[int, Field(description="length of the visit", ge=5, le=480)],
    *,
    ctx: Ctx,
) -> list[str]:
    """Free start times (practice-local 'YYYY-MM-DD HH:MM') for one practitioner on a day."""
    day = parse_date(date)
    slots = search_free_slots(
        session=ctx.session,
        practitioner_id=practitioner_id,
        day=day,
        duration_minutes=duration_minutes,
        tz=ctx.tz,
        step_minutes=ctx.limits.slot_step_minutes,
        now=ctx.now,
    )
    return [records.local(s.start, ctx.tz) or "" for s in slots[:40]]


@tool
def day_schedule(
    date: DateText,
    practitioner_id: Annotated[
        PractitionerId | None, Field(description="omit for everyone")
    ] = None,
    *,
    ctx: Ctx,
) -> list[dict[str, Any]]:
    """Appointments on a day (practice-local times), for one practitioner or everyone."""
    rows = day_appointments(
        session=ctx.session, day=parse_date(date), tz=ctx.tz, practitioner_id=practitioner_id
    )
    return [records.appointment(a, ctx.tz) for a in rows if ctx.in_scope(a.patient_id)]


@tool
def practice_overview_today(
    date: Annotated[str | None, Field(description="YYYY-MM-DD; default today")] = None,
    *,
    ctx: Ctx,
) -> dict[str, Any]:
    """What is late or due in the practice: overdue referrals and lab results, supplement
    reorders, overdue tasks and how many appointments each practitioner has."""
    day = parse_date(date) if date else ctx.today
    o = practice_overview(
        session=ctx.session,
        day=day,
        tz=ctx.tz,
        referral_limits=ctx.limits.referral_overdue_days or None,
        lab_grace_days=ctx.limits.lab_overdue_grace_days,
        reorder_lead_days=ctx.limits.reorder_lead_days,
        now=ctx.now,
    )
    out: dict[str, Any] = {
        "date": day.isoformat(),
        "appointments": {
            d.practitioner.name: len([a for a in d.appointments if ctx.in_scope(a.patient_id)])
            for d in o.schedule
        },
        "overdue_referrals": [
            {**records.referral(r.referral, ctx.actor), "days_in_state": r.days_in_state}
            for r in o.overdue_referrals
            if ctx.in_scope(r.referral.patient_id)
        ],
        "overdue_labs": [
            {
                "ref": f"lab_order:{lab.order.id}",
                "patient_id": lab.order.patient_id,
                "panel": lab.order.panel,
                "days_late": lab.days_late,
            }
            for lab in o.overdue_labs
            if ctx.in_scope(lab.order.patient_id)
        ],
        "overdue_tasks": [
            records.task(t, ctx.actor, ctx.scope)
            for t in o.overdue_tasks
            if ctx.in_scope(t.patient_id)
        ],
    }
    if ctx.can(C.SUPPLEMENTS):
        out["reorders_due"] = [
            {
                "ref": f"supplement:{s.id}",
                "patient_id": s.patient_id,
                "product": s.product,
                "reorder_on": s.reorder_on,
            }
            for s in o.reorders_due
            if ctx.in_scope(s.patient_id)
        ]
    return out


@tool
def my_tasks(
    include_done: Annotated[bool, Field(description="also list finished tasks")] = False,
    *,
    ctx: Ctx,
) -> list[dict[str, Any]]:
    """Your own tasks, open first and soonest due first (only those about patients you may
    see; clinical text only if your role may read it)."""
    rows = tasks_for(
        session=ctx.session, assignee_id=ctx.actor.practitioner_id, include_done=include_done
    )
    return [records.task(t, ctx.actor, ctx.scope) for t in rows if ctx.in_scope(t.patient_id)]


@tool
def list_overdue_referrals(*, ctx: Ctx) -> list[dict[str, Any]]:
    """Referrals that have stayed in their state longer than the practice allows."""
    rows = overdue_referrals(
        session=ctx.session, limits=ctx.limits.referral_overdue_days or None, now=ctx.now
    )
    return [
        {
            **records.referral(r.referral, ctx.actor),
            "days_in_state": r.days_in_state,
            "limit_days": r.limit_days,
        }
        for r in rows
        if ctx.in_scope(r.referral.patient_id)
    ]


@tool
def search_literature(
    query: Annotated[str, Field(description="words to look for in titles and abstracts")],
    *,
    ctx: Ctx,
) -> list[dict[str, Any]]:
    """Search the practice's stored research literature (PubMed and journal feeds)."""
    if ctx.memory is not None:
        return [
            {"ref": h.ref, "score": round(h.score or 0.0, 3), "text": h.text[:1200]}
            for h in ctx.memory.search_literature(query, k=8)
        ]
    return [
        records.article(a) for a in article_reads.search_articles(session=ctx.session, text=query)
    ]


@tool
def evidence_summary(
    refs: Annotated[
        list[str], Field(description="article references: pmid:N, doi:X or article:ID")
    ],
    *,
    ctx: Ctx,
) -> dict[str, Any]:
    """An extractive evidence summary of some stored articles: design, grade, sample size
    and conclusions, every sentence citing its article; retractions first."""
    articles = article_reads.articles_by_ref(session=ctx.session, refs=refs[:10])
    if not articles:
        raise InvalidInput("none of those references is a stored article")
    summary = summarise(articles=articles)
    return {"refs": summary.refs, "grade": summary.grade_line, "summary": summary.markdown}


@tool
def protocol_reviews_due(*, ctx: Ctx) -> list[dict[str, Any]]:
    """Open protocol-review prompts: which practice protocols are due for review and why."""
    return [
        {
            "review_id": r.id,
            "protocol": p.title,
            "condition": p.condition,
            "reason": str(r.reason),
            "opened": r.created_at.date().isoformat(),
            "articles": len(r.article_ids),
        }
        for r, p in pending_reviews(session=ctx.session)
    ]


@tool
def search_patient_notes(
    patient_id: PatientId,
    query: Annotated[str, Field(description="what to look for, in plain words")],
    *,
    ctx: Ctx,
) -> list[dict[str, Any]]:
    """Search one patient's clinical notes and care-team messages by meaning."""
    assert ctx.memory is not None  # offered only when memory is configured
    return [
        {"ref": h.ref, "score": round(h.score or 0.0, 3), "text": h.text[:1500]}
        for h in ctx.memory.search_patient(patient_id, query, k=5)
    ]


@tool
def my_preferences(*, ctx: Ctx) -> list[dict[str, Any]]:
    """Your recorded working preferences (how you like briefings, what to flag)."""
    if ctx.memory is not None:
        hits = ctx.memory.preferences_for(ctx.actor.practitioner_id)
        return [{"ref": h.ref, "text": h.text} for h in hits]
    from tools.preferences import list_preferences

    rows = list_preferences(session=ctx.session, practitioner_id=ctx.actor.practitioner_id)
    return [{"ref": f"preference:{p.id}", "text": p.text} for p in rows]
