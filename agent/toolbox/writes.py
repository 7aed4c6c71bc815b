"""Write tools: each changes something for someone else, so each waits for a person's approval.

Beside every tool sit the two things the approval needs: whose record it touches (for the
access check) and the exact description a person approves (the preview), computed from the
same arguments the tool will run with.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from langchain_core.tools import InjectedToolArg, tool
from pydantic import Field
from sqlmodel import Session

from agent.toolbox.arguments import (
    AppointmentId,
    PatientId,
    PractitionerId,
    ReferralId,
    ReviewId,
    TaskId,
)
from agent.toolbox.context import ToolContext
from agent.toolbox.records import local
from db.models import (
    Affiliation,
    Appointment,
    ClinicalProtocol,
    ProtocolReview,
    Referral,
    ReferralCreate,
    ReferralDirection,
    TaskCreate,
    Urgency,
)
from tools.clock import parse_date, parse_local_datetime
from tools.errors import NotFound
from tools.literature.reviews import acknowledge_review
from tools.messages import send_care_message as send_message_op
from tools.referrals import advance_referral as advance_op
from tools.referrals import create_referral as create_referral_op
from tools.referrals import parse_status
from tools.registry import get_patient, get_practitioner
from tools.scheduling import book, cancel, reschedule
from tools.tasks import complete_task as complete_task_op
from tools.tasks import create_task as create_task_op
from tools.tasks import get_task, task_view

Ctx = Annotated[ToolContext, InjectedToolArg]
LocalTime = Annotated[str, Field(description="practice-local start, 'YYYY-MM-DD HH:MM'")]
ReferralState = Literal[
    "sent", "accepted", "scheduled", "seen", "report_received", "closed", "declined"
]


def _who(ctx: ToolContext, practitioner_id: int) -> str:
    p = get_practitioner(session=ctx.session, practitioner_id=practitioner_id)
    return f"{p.name} ({p.discipline}, practitioner {p.id})"


def _patient(ctx: ToolContext, patient_id: int | None) -> str:
    if patient_id is None:
        return "no patient"
    p = get_patient(session=ctx.session, patient_id=patient_id)
    return f"{p.full_name} (patient {p.id}, born {p.date_of_birth.isoformat()})"


def _get(session: Session, model: type, ident: Any, kind: str) -> Any:
    row = session.get(model, ident) if isinstance(ident, int) else None
    if row is None:
        raise NotFound(kind, ident)
    return row


# ------------------------------------------------------------------ appointments


@tool
def book_appointment(
    patient_id: PatientId,
    practitioner_id: Annotated[PractitionerId, Field(description="the in-house practitioner's id")],
    start: LocalTime,
    duration_minutes: Annotated[int, Field(ge=5, le=480)] = 45,
    service_type: Annotated[str, Field(max_length=100)] = "consultation",
    *,
    ctx: Ctx,
) -> dict[str, Any]:
    """Book an appointment (needs the user's approval). Refused if the time is taken, in
    the past or outside the practitioner's hours; use free_slots first."""
    appt = book(
        session=ctx.session,
        practitioner_id=practitioner_id,
        patient_id=patient_id,
        service_type=service_type,
        starts_at=parse_local_datetime(start, ctx.tz),
        duration_minutes=duration_minutes,
        tz=ctx.tz,
        actor=ctx.audit_actor,
        now=ctx.now,
    )
    return {"booked": f"appointment:{appt.id}", "start": local(appt.starts_at, ctx.tz)}


def preview_book(ctx: ToolContext, a: dict[str, Any]) -> str:
    start = parse_local_datetime(a["start"], ctx.tz)
    end = start + timedelta(minutes=a.get("duration_minutes", 45))
    return (
        f"Book a {a.get('service_type', 'consultation')} for {_patient(ctx, a['patient_id'])} "
        f"with {_who(ctx, a['practitioner_id'])} on {local(start, ctx.tz)}-"
        f"{end.astimezone(ctx.tz):%H:%M} ({ctx.tz.key})."
    )


@tool
def reschedule_appointment(
    appointment_id: AppointmentId,
    new_start: LocalTime,
    *,
    ctx: Ctx,
) -> dict[str, Any]:
    """Move a booked appointment to a new start time, keeping its length (needs approval)."""
    appt = reschedule(
        session=ctx.session,
        appointment_id=appointment_id,
        new_start=parse_local_datetime(new_start, ctx.tz),
        tz=ctx.tz,
        actor=ctx.audit_actor,
        now=ctx.now,
    )
    return {"moved": f"appointment:{appt.id}", "start": local(appt.starts_at, ctx.tz)}


def preview_reschedule(ctx: ToolContext, a: dict[str, Any]) -> str:
    appt = _get(ctx.session, Appointment, a["appointment_id"], "appointment")
    start = parse_local_datetime(a["new_start"], ctx.tz)
    return (
        f"Move appointment {appt.id} ({_patient(ctx, appt.patient_id)} with "
        f"{_who(ctx, appt.practitioner_id)}) from {local(appt.starts_at, ctx.tz)} to "
        f"{local(start, ctx.tz)} ({ctx.tz.key})."
    )


@tool
def cancel_appointment(
    appointment_id: AppointmentId,
    reason: Annotated[str | None, Field(max_length=300)] = None,
    *,
    ctx: Ctx,
) -> dict[str, Any]:
    """Cancel one booked appointment (needs the user's approval)."""
    appt = cancel(
        session=ctx.session, appointment_id=appointment_id, reason=reason, actor=ctx.audit_actor
    )
    return {"cancelled": f"appointment:{appt.id}"}


def preview_cancel(ctx: ToolContext, a: dict[str, Any]) -> str:
    appt = _get(ctx.session, Appointment, a["appointment_id"], "appointment")
    why = f" Reason: {a['reason']}." if a.get("reason") else ""
    return (
        f"Cancel appointment {appt.id}: {_patient(ctx, appt.patient_id)} with "
        f"{_who(ctx, appt.practitioner_id)} on {local(appt.starts_at, ctx.tz)} "
        f"({ctx.tz.key}).{why}"
    )


# ---------------------------------------------------------------------- referrals


@tool
def create_referral(
    patient_id: PatientId,
    to_practitioner_id: Annotated[
        PractitionerId, Field(description="the external practitioner's id")
    ],
    reason: Annotated[str, Field(min_length=1, max_length=1000)],
    urgency: Literal["routine", "soon", "urgent"] = "routine",
    *,
    ctx: Ctx,
) -> dict[str, Any]:
    """Draft a referral from you to a practitioner in the external network (needs
    approval). It starts as a draft; advance_referral sends it."""
    target = get_practitioner(session=ctx.session, practitioner_id=to_practitioner_id)
    direction = (
        ReferralDirection.OUTBOUND
        if target.affiliation == Affiliation.EXTERNAL
        else ReferralDirection.INBOUND
    )
    referral = create_referral_op(
        session=ctx.session,
        data=ReferralCreate(
            direction=direction,
            patient_id=patient_id,
            from_practitioner_id=ctx.actor.practitioner_id,
            to_practitioner_id=to_practitioner_id,
            reason=reason,
            urgency=Urgency(urgency),
        ),
        now=ctx.now,
        actor=ctx.audit_actor,
    )
    return {"created": f"referral:{referral.id}", "status": str(referral.status)}


def preview_referral(ctx: ToolContext, a: dict[str, Any]) -> str:
    return (
        f"Create a {a.get('urgency', 'routine')} referral (draft) of "
        f"{_patient(ctx, a['patient_id'])} from {_who(ctx, ctx.actor.practitioner_id)} to "
        f"{_who(ctx, a['to_practitioner_id'])}. Reason: {a['reason']}"
    )


@tool
def advance_referral(
    referral_id: ReferralId,
    to_status: ReferralState,
    note: Annotated[str | None, Field(max_length=1000)] = None,
    *,
    ctx: Ctx,
) -> dict[str, Any]:
    """Move a referral to its next state, e.g. draft -> sent (needs approval)."""
    referral = advance_op(
        session=ctx.session,
        referral_id=referral_id,
        to_status=parse_status(to_status),
        now=ctx.now,
        note=note,
        actor=ctx.audit_actor,
    )
    return {"referral": f"referral:{referral.id}", "status": str(referral.status)}


def preview_advance(ctx: ToolContext, a: dict[str, Any]) -> str:
    r = _get(ctx.session, Referral, a["referral_id"], "referral")
    note = f" Note: {a['note']}" if a.get("note") else ""
    return (
        f"Move referral {r.id} ({_patient(ctx, r.patient_id)} to "
        f"{_who(ctx, r.to_practitioner_id)}) from {r.status} to {a['to_status']}.{note}"
    )


# ------------------------------------------------------------ messages and tasks


@tool
def send_care_message(
    recipient_id: Annotated[PractitionerId, Field(description="the in-house colleague's id")],
    subject: Annotated[str, Field(min_length=1, max_length=200)],
    body: Annotated[str, Field(min_length=1, max_length=4000)],
    patient_id: Annotated[PatientId | None, Field(description="the patient it is about")] = None,
    *,
    ctx: Ctx,
) -> dict[str, Any]:
    """Send a care-team message from you to a colleague (needs the user's approval)."""
    msg = send_message_op(
        session=ctx.session,
        recipient_id=recipient_id,
        subject=subject,
        body=body,
        sender_id=ctx.actor.practitioner_id,
        patient_id=patient_id,
        now=ctx.now,
        actor=ctx.audit_actor,
    )
    return {"sent": f"message:{msg.id}"}


def preview_message(ctx: ToolContext, a: dict[str, Any]) -> str:
    about = f", about {_patient(ctx, a['patient_id'])}" if a.get("patient_id") else ""
    return (
        f"Send a care-team message to {_who(ctx, a['recipient_id'])}{about}. "
        f"Subject: {a['subject']}. Body: {a['body']}"
    )


@tool
def create_task(
    assignee_id: Annotated[PractitionerId, Field(description="who will do it (a practitioner id)")],
    title: Annotated[str, Field(min_length=1, max_length=200)],
    details: Annotated[str | None, Field(max_length=4000)] = None,
    patient_id: Annotated[PatientId | None, Field(description="the patient it is about")] = None,
    due_on: Annotated[str | None, Field(description="YYYY-MM-DD")] = None,
    *,
    ctx: Ctx,
) -> dict[str, Any]:
    """Create a follow-up task for someone, or yourself (needs the user's approval)."""
    task = create_task_op(
        session=ctx.session,
        data=TaskCreate(
            title=title,
            details=details,
            assignee_id=assignee_id,
            created_by_id=ctx.actor.practitioner_id,
            patient_id=patient_id,
            due_on=parse_date(due_on, what="due date") if due_on else None,
        ),
        now=ctx.now,
        actor=ctx.audit_actor,
    )
    return {"created": f"task:{task.id}"}


def preview_task(ctx: ToolContext, a: dict[str, Any]) -> str:
    due = f", due {a['due_on']}" if a.get("due_on") else ""
    about = f", about {_patient(ctx, a['patient_id'])}" if a.get("patient_id") else ""
    details = f" Details: {a['details']}" if a.get("details") else ""
    return f"Create a task for {_who(ctx, a['assignee_id'])}{about}{due}: {a['title']}.{details}"


@tool
def complete_task(task_id: TaskId, *, ctx: Ctx) -> dict[str, Any]:
    """Mark a task done (needs the user's approval)."""
    task = complete_task_op(
        session=ctx.session, task_id=task_id, now=ctx.now, actor=ctx.audit_actor
    )
    return {"done": f"task:{task.id}"}


def preview_complete(ctx: ToolContext, a: dict[str, Any]) -> str:
    t = get_task(session=ctx.session, task_id=a["task_id"])
    title = task_view(task=t, viewer=ctx.actor, scope=ctx.scope).title
    return f"Mark task {t.id} ({title}, assigned to {_who(ctx, t.assignee_id)}) as done."


# ------------------------------------------------------------------------ reviews


@tool
def acknowledge_protocol_review(review_id: ReviewId, *, ctx: Ctx) -> dict[str, Any]:
    """Close a protocol-review prompt: the protocol counts as reviewed today (approval)."""
    review = acknowledge_review(
        session=ctx.session,
        review_id=review_id,
        by_id=ctx.actor.practitioner_id,
        now=ctx.now,
        reviewed_on=ctx.today,
        actor=ctx.audit_actor,
    )
    return {"acknowledged": f"review:{review.id}"}


def preview_review(ctx: ToolContext, a: dict[str, Any]) -> str:
    review = _get(ctx.session, ProtocolReview, a["review_id"], "protocol review")
    protocol = _get(ctx.session, ClinicalProtocol, review.protocol_id, "protocol")
    return (
        f"Acknowledge protocol review {review.id} of '{protocol.title}' as reviewed by "
        f"{_who(ctx, ctx.actor.practitioner_id)} on {ctx.today.isoformat()}."
    )
