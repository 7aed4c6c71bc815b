"""FHIR Task -> a follow-up task for the team.

A Task about a patient (`for`) becomes a task: `description` its title, the first note its
details, `owner` the assignee and `requester` who created it (practitioners; an owner the
import cannot name is the patient's physician, else the unnamed clinician), the end of
`restriction.period` its due date, `status` requested/received/accepted/ready -> open,
in-progress -> in progress, completed -> done (completed at `executionPeriod.end`),
cancelled/rejected/failed -> cancelled; draft and entered-in-error are skipped. Steve's own
export adds `clinical` and `source-ref` (what the task is about, so the follow-up sweep does
not make it again) as extensions, read back here.
"""

from __future__ import annotations

from typing import Any

from db.models import Task, TaskStatus
from tools.interop.fhir.conventions import extension_value
from tools.interop.fhir.mapping.context import Item, MapContext, Mapper
from tools.interop.fhir.mapping.values import fhir_date, fhir_instant, notes_text

STATUSES = {
    "requested": TaskStatus.OPEN,
    "received": TaskStatus.OPEN,
    "accepted": TaskStatus.OPEN,
    "ready": TaskStatus.OPEN,
    "on-hold": TaskStatus.OPEN,
    "in-progress": TaskStatus.IN_PROGRESS,
    "completed": TaskStatus.DONE,
    "cancelled": TaskStatus.CANCELLED,
    "rejected": TaskStatus.CANCELLED,
    "failed": TaskStatus.CANCELLED,
}


def map_task(*, item: Item, ctx: MapContext) -> None:
    raw = item.raw
    status = STATUSES.get(str(raw.get("status")))
    if status is None:
        ctx.skip(item=item, field="status", message="a draft or erroneous task; skipped")
        return
    title = raw.get("description") or (raw.get("code") or {}).get("text")
    if not isinstance(title, str) or not title.strip():
        ctx.skip(item=item, field="description", message="a task without a description")
        return
    values: dict[str, Any] = {
        "title": " ".join(title.split())[:200],
        "details": (notes_text(raw.get("note")) or None),
        "patient_id": ctx.patient_id,
        "assignee_id": ctx.practitioner_or_fallback(item=item, references=[raw.get("owner")]),
        "created_by_id": ctx.practitioner_id(item=item, reference=raw.get("requester")),
        "due_on": fhir_date(((raw.get("restriction") or {}).get("period") or {}).get("end")),
        "status": status,
        "source_ref": _short(extension_value(raw, "source-ref"), 60),
        "clinical": extension_value(raw, "clinical") is True,
    }
    if values["details"]:
        values["details"] = values["details"][:4000]
    authored = fhir_instant(raw.get("authoredOn"))
    if authored is not None:
        values["created_at"] = authored
    if status == TaskStatus.DONE:
        values["completed_at"] = fhir_instant((raw.get("executionPeriod") or {}).get("end"))
    ctx.write(item=item, model=Task, values=values, flush=False)


def _short(value: Any, limit: int) -> str | None:
    return str(value)[:limit] if isinstance(value, str) and value else None


MAPPERS: dict[str, Mapper] = {"Task": map_task}
