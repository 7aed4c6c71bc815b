"""The pages: today's schedule with briefings, chat, tasks, research. Each calls the API's
own endpoint functions, so the access policy, audit and validation are the same."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import col, select

from app.api import adapters, policy
from app.api.deps import Ctx, Page
from app.api.params import DayQuery, IdPath
from app.api.routes import briefings, chat, literature, schedule, tasks
from app.web import page
from app.web.deps import WebCtx
from db.models import Practitioner, PractitionerStatus
from tools.access import Role
from tools.clock import today_in
from tools.errors import InvalidInput, SteveError
from tools.limits import Day

router = APIRouter(include_in_schema=False)
ALL = Page(limit=200, offset=0)


def _render(request: Request, ctx: Ctx, name: str, **context: Any) -> Response:
    # A user who must change their password never gets here: app.api.deps refuses them.
    return page(
        request,
        name,
        ctx=ctx,
        user=ctx.user,
        role=ctx.actor.role.value,
        csrf=ctx.web.csrf_secret if ctx.web else "",
        **context,
    )


def _back(url: str, message: str | None = None) -> RedirectResponse:
    return RedirectResponse(url + (f"?flash={quote(message)}" if message else ""), status_code=303)


@router.get("/", response_class=HTMLResponse)
def today(
    request: Request,
    ctx: WebCtx,
    on: DayQuery = None,
    flash: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Today's schedule: a physician's own day, everyone's for the others (in scope)."""
    mine = ctx.actor.practitioner_id if ctx.actor.role == Role.PHYSICIAN else None
    day = schedule.day(ctx, ALL, on, mine) if ctx.actor.can(*policy.SCHEDULE) else None
    when = on or today_in(ctx.settings.zone)
    return _render(
        request,
        ctx,
        "today.html",
        day=day,
        date=when.isoformat(),
        can_brief=ctx.actor.can(*policy.BRIEFING),
        flash=flash,
    )


@router.get("/briefing/{patient_id}", response_class=HTMLResponse)
def briefing(
    request: Request,
    ctx: WebCtx,
    patient_id: IdPath,
    on: DayQuery = None,
) -> Response:
    b = briefings.briefing_for_patient(patient_id, ctx, request, on, None)
    fragment = adapters.briefing_fragment(b["html"])
    return _render(
        request,
        ctx,
        "briefing.html",
        b=b,
        fragment=Markup(fragment) if fragment is not None else None,
    )


@router.get("/chat", response_class=HTMLResponse)
def chat_home(request: Request, ctx: WebCtx) -> Response:
    rows = chat.recent_threads(ctx, 30)
    return _render(request, ctx, "chat.html", threads=rows, thread=None)


@router.post("/chat")
def chat_new(ctx: WebCtx) -> Response:
    created = chat.new_thread(ctx)
    return RedirectResponse(f"/chat/{created['id']}", status_code=303)


@router.get("/chat/{thread_id}", response_class=HTMLResponse)
def chat_thread(request: Request, ctx: WebCtx, thread_id: str) -> Response:
    t = chat.thread(ctx, request, thread_id)
    rows = chat.recent_threads(ctx, 30)
    return _render(request, ctx, "chat.html", threads=rows, thread=t)


def _colleagues(ctx: Ctx) -> list[Practitioner]:
    from db.models import Affiliation

    return list(
        ctx.session.exec(
            select(Practitioner)
            .where(
                Practitioner.affiliation == Affiliation.IN_HOUSE,
                Practitioner.status != PractitionerStatus.INACTIVE,
            )
            .order_by(col(Practitioner.name))
        ).all()
    )


@router.get("/tasks", response_class=HTMLResponse)
def task_page(
    request: Request, ctx: WebCtx, flash: Annotated[str | None, Query(max_length=200)] = None
) -> Response:
    mine = tasks.my_tasks(ctx, ALL, "open")
    team = tasks.team_tasks(ctx, ALL, "open", None, None)
    people = _colleagues(ctx)
    names = {p.id: p.name for p in people}
    return _render(
        request, ctx, "tasks.html", mine=mine, team=team, people=people, names=names, flash=flash
    )


def _form_id(text: str, field: str) -> int | None:
    """An optional record id typed into a form: empty is none, anything else must be one."""
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput(f"{field} must be a record number")
    return int(text)


@router.post("/tasks")
def task_create(
    ctx: WebCtx,
    title: Annotated[str, Form(min_length=1, max_length=200)],
    assignee_id: Annotated[int, Form()],
    details: Annotated[str, Form(max_length=4000)] = "",
    patient_id: Annotated[str, Form(max_length=12)] = "",
    due_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    # Validated as the API validates its JSON: a malformed day or patient is a 422 naming it.
    body = tasks.NewTask.model_validate(
        {
            "title": title,
            "assignee_id": assignee_id,
            "details": details or None,
            "patient_id": _form_id(patient_id, "patient_id"),
            "due_on": due_on.strip() or None,
        }
    )
    tasks.create(ctx, body)
    return _back("/tasks", "Task delegated.")


@router.post("/tasks/{task_id}/complete")
def task_complete(ctx: WebCtx, task_id: IdPath) -> Response:
    tasks.complete(ctx, task_id)
    return _back("/tasks", "Task completed.")


@router.post("/tasks/{task_id}/assign")
def task_assign(ctx: WebCtx, task_id: IdPath, assignee_id: Annotated[int, Form()]) -> Response:
    tasks.assign(ctx, task_id, tasks.Assign(assignee_id=assignee_id))
    return _back("/tasks", "Task reassigned.")


@router.get("/research", response_class=HTMLResponse)
def research(
    request: Request, ctx: WebCtx, flash: Annotated[str | None, Query(max_length=200)] = None
) -> Response:
    digests = literature.digests(ctx, ALL, None) if ctx.actor.can(*policy.DIGEST) else None
    reviews = literature.reviews(ctx, ALL, "open") if ctx.actor.can(*policy.REVIEWS) else None
    return _render(request, ctx, "research.html", digests=digests, reviews=reviews, flash=flash)


@router.get("/research/digest/{digest_id}", response_class=HTMLResponse)
def digest_page(request: Request, ctx: WebCtx, digest_id: IdPath) -> Response:
    d = literature.digest(ctx, digest_id)
    return _render(request, ctx, "digest.html", d=d)


@router.post("/research/reviews/{review_id}/ack")
def review_ack(ctx: WebCtx, review_id: IdPath) -> Response:
    literature.acknowledge(ctx, review_id)
    return _back("/research", "Review acknowledged.")


@router.post("/research/reviews/{review_id}/snooze")
def review_snooze(ctx: WebCtx, review_id: IdPath, until: Annotated[Day, Form()]) -> Response:
    try:
        literature.snooze(ctx, review_id, literature.Snooze(until=until))
    except SteveError as exc:
        return _back("/research", str(exc))
    return _back("/research", "Review snoozed.")
