"""Steve's own care records: programmes (CarePlan), referrals, tasks, messages, appointments.

- A care programme is a CarePlan; each programme element is a `CarePlan.activity` whose
  `detail` has `kind` ServiceRequest, the modality as `code` (`urn:steve:discipline`), the
  status, the practitioner as `performer`, the goal as `description`, and a
  `scheduledTiming` whose `code.text` is the cadence ("weekly", "every 2 weeks": words, not a
  computable schedule) and whose `repeat.boundsPeriod` holds the element's start and end
  days. The activity's element id is `programme-element-<id>`, and the Steve extension `row`
  holds the programme_element id.
- A referral is a ServiceRequest of category referral (SNOMED 3457005 "Patient referral"),
  requester = from, performer = to, `priority` from the urgency (routine, urgent = soon,
  asap = urgent), the reason as `reasonCode` text; its Steve status, direction, lifecycle
  times and outcome (rating, note) in Steve extensions.
- A task is a Task (`for` = the patient, `owner` = the assignee, `requester` = who created it;
  none: Steve created it), the due day in `restriction.period.end`.
- A care-team message is a Communication (`sender` none: Steve sent it), its kind as
  `category` (`urn:steve:message-kind`), the subject as `topic`, the body as the payload,
  `sent` when written and `received` (and `urn:steve:extension:acknowledged-at`) when the
  recipient acknowledged it: no `received` means not acknowledged yet.
- An appointment is an Appointment with the patient and the practitioner as participants.
"""

from __future__ import annotations

from typing import Any

from db.models import (
    Appointment,
    CareMessage,
    CareProgramme,
    ProgrammeElement,
    Referral,
    Task,
)
from tools.interop.fhir.conventions import (
    ACTIVITY_STATUS,
    APPOINTMENT_STATUS,
    CAREPLAN_STATUS,
    DISCIPLINE_SYSTEM,
    MESSAGE_KIND_SYSTEM,
    PRIORITY,
    REFERRAL_STATUS,
    SNOMED,
    STATUS_EXTENSION,
    TASK_STATUS,
    resource_id,
)
from tools.interop.fhir.export.elements import (
    coding,
    compact,
    extensions,
    identifiers,
    instant,
    period,
    practitioner_ref,
    ref,
    steve_code,
)

Origins = list[tuple[str, str]]
REFERRAL_CATEGORY = {"coding": [coding(SNOMED, "3457005", "Patient referral")]}


def _activity(element: ProgrammeElement) -> dict[str, Any]:
    assert element.id is not None
    return {
        "id": resource_id("programme_element", element.id),
        "extension": extensions(row=element.id),
        "detail": {
            "kind": "ServiceRequest",
            "code": steve_code(DISCIPLINE_SYSTEM, str(element.modality)),
            "status": ACTIVITY_STATUS[str(element.status)],
            "scheduledTiming": {
                "repeat": {"boundsPeriod": period(element.started_on, element.ended_on)},
                "code": {"text": element.cadence},
            },
            "performer": [practitioner_ref(element.practitioner_id)],
            "description": element.goal,
        },
    }


def careplan_resource(
    programme: CareProgramme, elements: list[ProgrammeElement], *, origins: Origins
) -> dict[str, Any]:
    assert programme.id is not None
    return compact(
        {
            "resourceType": "CarePlan",
            "id": resource_id("care_programme", programme.id),
            "identifier": identifiers("care_programme", programme.id, origins),
            "status": CAREPLAN_STATUS[str(programme.status)],
            "intent": "plan",
            "title": programme.title,
            "description": programme.goal,
            "subject": ref("patient", programme.patient_id),
            "period": period(programme.started_on, programme.ended_on),
            "author": practitioner_ref(programme.lead_practitioner_id),
            "activity": [_activity(e) for e in elements],
        }
    )


def referral_resource(referral: Referral, *, origins: Origins) -> dict[str, Any]:
    assert referral.id is not None
    return compact(
        {
            "resourceType": "ServiceRequest",
            "id": resource_id("referral", referral.id),
            "extension": [
                {"url": STATUS_EXTENSION, "valueCode": str(referral.status)},
                *extensions(
                    direction=str(referral.direction),
                    status_changed_at=referral.status_changed_at,
                    sent_at=referral.sent_at,
                    accepted_at=referral.accepted_at,
                    scheduled_at=referral.scheduled_at,
                    seen_at=referral.seen_at,
                    report_received_at=referral.report_received_at,
                    closed_at=referral.closed_at,
                    declined_at=referral.declined_at,
                    outcome_rating=referral.outcome_rating,
                    outcome_note=referral.outcome_note,
                ),
            ],
            "identifier": identifiers("referral", referral.id, origins),
            "status": REFERRAL_STATUS[str(referral.status)],
            "intent": "order",
            "category": [REFERRAL_CATEGORY],
            "priority": PRIORITY[str(referral.urgency)],
            "code": {"text": "Referral"},
            "subject": ref("patient", referral.patient_id),
            "authoredOn": instant(referral.created_at),
            "requester": practitioner_ref(referral.from_practitioner_id),
            "performer": [practitioner_ref(referral.to_practitioner_id)],
            "reasonCode": [{"text": referral.reason}],
        }
    )


def task_resource(task: Task, *, origins: Origins) -> dict[str, Any]:
    assert task.id is not None
    return compact(
        {
            "resourceType": "Task",
            "id": resource_id("task", task.id),
            "extension": extensions(clinical=task.clinical, source_ref=task.source_ref),
            "identifier": identifiers("task", task.id, origins),
            "status": TASK_STATUS[str(task.status)],
            "intent": "order",
            "description": task.title,
            "for": ref("patient", task.patient_id) if task.patient_id else None,
            "authoredOn": instant(task.created_at),
            "executionPeriod": period(None, task.completed_at),
            "requester": practitioner_ref(task.created_by_id),
            "owner": practitioner_ref(task.assignee_id),
            "restriction": {"period": period(None, task.due_on)} if task.due_on else None,
            "note": [{"text": task.details}] if task.details else [],
        }
    )


def communication_resource(message: CareMessage, *, origins: Origins) -> dict[str, Any]:
    assert message.id is not None
    return compact(
        {
            "resourceType": "Communication",
            "id": resource_id("care_message", message.id),
            "extension": extensions(
                acknowledged_at=message.acknowledged_at, source_ref=message.source_ref
            ),
            "identifier": identifiers("care_message", message.id, origins),
            "status": "completed",
            "category": [steve_code(MESSAGE_KIND_SYSTEM, str(message.kind))],
            "subject": ref("patient", message.patient_id) if message.patient_id else None,
            "topic": {"text": message.subject},
            "sent": instant(message.created_at),
            "received": instant(message.acknowledged_at) if message.acknowledged_at else None,
            "recipient": [practitioner_ref(message.recipient_id)],
            "sender": practitioner_ref(message.sender_id),
            "payload": [{"contentString": message.body}],
        }
    )


def appointment_resource(appointment: Appointment, *, origins: Origins) -> dict[str, Any]:
    assert appointment.id is not None
    return compact(
        {
            "resourceType": "Appointment",
            "id": resource_id("appointment", appointment.id),
            "extension": extensions(
                billing_track=str(appointment.billing_track),
                visit_block=appointment.visit_block_id,
                updated_at=appointment.updated_at,
            ),
            "identifier": identifiers("appointment", appointment.id, origins),
            "status": APPOINTMENT_STATUS[str(appointment.status)],
            "cancelationReason": (
                {"text": appointment.cancel_reason} if appointment.cancel_reason else None
            ),
            "serviceType": [{"text": appointment.service_type}],
            "start": instant(appointment.starts_at),
            "end": instant(appointment.ends_at),
            "created": instant(appointment.created_at),
            "participant": [
                {"actor": ref("patient", appointment.patient_id), "status": "accepted"},
                {"actor": practitioner_ref(appointment.practitioner_id), "status": "accepted"},
            ],
        }
    )
