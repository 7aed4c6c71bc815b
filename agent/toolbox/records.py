"""Compact, role-redacted records for tool results (what the model reads about a patient).

Each record carries its reference (`note:87`, `lab:412`, `referral:31`) so answers can cite
it. Fields a role may not see are left out, not blanked, so nothing hints at their content.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from db.models import Appointment, Article, LabOrder, Referral, Task
from tools.access import Actor
from tools.access import Category as C
from tools.programme import ProgrammeView
from tools.tasks import task_view


def local(when: datetime | None, tz: ZoneInfo) -> str | None:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M") if when else None


def appointment(a: Appointment, tz: ZoneInfo, names: dict[int, str] | None = None) -> dict:
    row: dict[str, Any] = {
        "ref": f"appointment:{a.id}",
        "patient_id": a.patient_id,
        "practitioner_id": a.practitioner_id,
        "service": a.service_type,
        "start": local(a.starts_at, tz),
        "end": local(a.ends_at, tz),
        "status": str(a.status),
    }
    if names is not None:
        row["practitioner"] = names.get(a.practitioner_id)
    if a.visit_block_id:
        row["visit_block"] = a.visit_block_id
    return row


def referral(r: Referral, actor: Actor) -> dict:
    row: dict[str, Any] = {
        "ref": f"referral:{r.id}",
        "patient_id": r.patient_id,
        "direction": str(r.direction),
        "from_practitioner_id": r.from_practitioner_id,
        "to_practitioner_id": r.to_practitioner_id,
        "status": str(r.status),
        "urgency": str(r.urgency),
        "status_changed": r.status_changed_at.date().isoformat(),
    }
    if actor.can(C.REFERRALS_CLINICAL):
        row["reason"] = r.reason
    return row


def task(t: Task, viewer: Actor | None, scope: set[int] | None) -> dict:
    """A task as `viewer` may read it (tools.tasks.task_view: clinical text for clinicians)."""
    text = task_view(task=t, viewer=viewer, scope=scope)
    return {
        "ref": f"task:{t.id}",
        "title": text.title,
        "details": text.details,
        "clinical": t.clinical,
        "withheld": text.withheld,
        "assignee_id": t.assignee_id,
        "created_by_id": t.created_by_id,
        "patient_id": t.patient_id,
        "due_on": t.due_on.isoformat() if t.due_on else None,
        "status": str(t.status),
    }


def article(a: Article, *, abstract_chars: int = 1200) -> dict:
    return {
        "ref": a.ref,
        "title": a.title,
        "journal": a.journal,
        "published": a.pub_date.isoformat() if a.pub_date else a.pub_date_text,
        "design": a.grade.label if hasattr(a.grade, "label") else str(a.grade),
        "retracted": a.is_retracted,
        "abstract": (a.abstract or "")[:abstract_chars],
    }


def programme(view: ProgrammeView, actor: Actor, tz: ZoneInfo) -> dict:
    """The consolidated programme view, keeping only what the actor's role may see."""
    out: dict[str, Any] = {}
    for part in view.render(_RecordSections(actor, tz)):
        out.update(part)
    return out


class _RecordSections:
    """The programme view as the model reads it: a section only where the role may see it."""

    def __init__(self, actor: Actor, tz: ZoneInfo) -> None:
        self.actor = actor
        self.can = actor.can
        self.tz = tz

    def patient(self, view: ProgrammeView) -> dict[str, Any]:
        p = view.patient
        out: dict[str, Any] = {
            "ref": f"patient:{p.id}",
            "name": p.full_name,
            "date_of_birth": p.date_of_birth.isoformat(),
            "primary_physician": view.practitioner_name(p.primary_physician_id),
        }
        if self.can(C.CLINICAL_SUMMARY):
            out["conditions"] = [c.name for c in view.conditions]
            out["allergies"] = [
                {"substance": a.substance, "reaction": a.reaction} for a in view.allergies
            ]
            out["medications"] = [
                {
                    "ref": f"medication:{m.id}",
                    "name": m.name,
                    "dose": m.dose,
                    "frequency": m.frequency,
                }
                for m in view.medications
            ]
        return out

    def programmes(self, view: ProgrammeView) -> dict[str, Any]:
        if not self.can(C.PROGRAMME):
            return {}
        return {
            "programme": [
                {
                    "ref": f"element:{e.id}",
                    "modality": str(e.modality),
                    "practitioner": view.practitioner_name(e.practitioner_id),
                    "goal": e.goal,
                    "cadence": e.cadence,
                    "status": str(e.status),
                }
                for e in view.elements
            ]
        }

    def notes(self, view: ProgrammeView) -> dict[str, Any]:
        if not self.can(C.NOTES):
            return {}
        return {
            "recent_notes": [
                {
                    "ref": f"note:{n.id}",
                    "by": view.practitioner_name(n.practitioner_id),
                    "origin": str(n.origin),  # external reports are another practice's words
                    "written": local(n.written_at, self.tz),
                    "title": n.title,
                    "text": n.body,
                }
                for n in view.notes_in_order()
            ]
        }

    def supplements(self, view: ProgrammeView) -> dict[str, Any]:
        if not self.can(C.SUPPLEMENTS):
            return {}
        return {
            "supplements": [
                {
                    "ref": f"supplement:{s.id}",
                    "product": s.product,
                    "dose": s.dose,
                    "frequency": s.frequency,
                    "reorder_on": s.reorder_on,
                }
                for s in view.supplements
            ]
        }

    def labs(self, view: ProgrammeView) -> dict[str, Any]:
        if not self.can(C.LAB_ORDERS):
            return {}
        return {
            "pending_labs": [
                {
                    "ref": f"lab_order:{o.id}",
                    "panel": o.panel,
                    "lab": o.lab,
                    "ordered_on": o.ordered_on,
                    "expected_on": o.expected_on,
                }
                for o in view.pending_labs
            ],
            "recent_labs": [self._recent_lab(view, o) for o in view.recent_labs],
        }

    def _recent_lab(self, view: ProgrammeView, o: LabOrder) -> dict[str, Any]:
        row: dict[str, Any] = {
            "ref": f"lab_order:{o.id}",
            "panel": o.panel,
            "received_on": o.received_on,
        }
        if self.can(C.LAB_VALUES):
            row["results"] = [
                {
                    "ref": f"lab:{r.id}",
                    "analyte": r.analyte,
                    "value": r.value if r.value is not None else r.value_text,
                    "unit": r.unit,
                    "flag": str(r.flag),
                }
                for r in view.results_of(o)
            ]
        return row

    def referrals(self, view: ProgrammeView) -> dict[str, Any]:
        if not self.can(C.REFERRALS_ADMIN):
            return {}
        return {"open_referrals": [referral(r, self.actor) for r in view.open_referrals]}

    def tasks(self, view: ProgrammeView) -> dict[str, Any]:
        if not self.can(C.TASKS):
            return {}
        # The caller checked this patient is in the actor's scope.
        return {"open_tasks": [task(t, self.actor, None) for t in view.open_tasks]}

    def messages(self, view: ProgrammeView) -> dict[str, Any]:
        if not self.can(C.MESSAGES):
            return {}
        return {
            "unacknowledged_messages": [
                {
                    "ref": f"message:{m.id}",
                    "from": view.practitioner_name(m.sender_id),
                    "to": view.practitioner_name(m.recipient_id),
                    "subject": m.subject,
                    "text": m.body,
                }
                for m in view.unacknowledged_messages
            ]
        }

    def appointments(self, view: ProgrammeView) -> dict[str, Any]:
        if not self.can(C.SCHEDULING):
            return {}
        return {"next_appointments": [appointment(a, self.tz) for a in view.next_appointments]}

    def intake(self, view: ProgrammeView) -> dict[str, Any]:
        if not self.can(C.INTAKE):
            return {}
        return {
            "intake_forms": [
                {
                    "type": f.form_type,
                    "sent": local(f.sent_at, self.tz),
                    "received": local(f.received_at, self.tz),
                    "reviewed": local(f.reviewed_at, self.tz),
                }
                for f in view.intake_forms
            ]
        }
