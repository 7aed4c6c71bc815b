"""Care-team messages, tasks, clinical protocols and intake forms."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from db.models import Discipline, TaskStatus
from demo.build_state import Context, PatientInfo, weighted
from demo.vocab_clinical import CONDITIONS
from demo.vocab_text import MESSAGES, PATIENT_TASKS, PRACTICE_TASKS

PENDING_LABS = ("ordered", "collected")
MESSAGE_SHARE, TASK_SHARE = 0.3, 0.3


# ------------------------------------------------------------------------ intake


def generate_intake(ctx: Context) -> None:
    """New patients' forms in every state; older patients' reviewed ones and questionnaires."""
    rng = ctx.rng("intake")
    new_seen = 0
    for patient in ctx.patients:
        registered: datetime = ctx.rows["patient"][patient.id - 1]["created_at"]
        if patient.is_new:
            state = (
                ("sent", "received", "reviewed")[new_seen]
                if new_seen < 3
                else weighted(rng, {"sent": 40, "received": 35, "reviewed": 25})
            )
            new_seen += 1
            sent = min(ctx.now, registered + timedelta(minutes=rng.randrange(10, 240)))
            _form(ctx, rng, patient, "new_patient", sent, state)
        elif rng.random() < 0.7:
            _form(ctx, rng, patient, "new_patient", registered, "reviewed")
        if not patient.is_new and rng.random() < 0.12:
            sent = ctx.now - timedelta(hours=rng.randrange(4, 24 * 14))
            state = "sent" if rng.random() < 0.5 else "received"
            _form(ctx, rng, patient, "symptom_questionnaire", sent, state)
    ctx.report("intake", 1, 1)


def _form(
    ctx: Context,
    rng: random.Random,
    patient: PatientInfo,
    form_type: str,
    sent: datetime,
    state: str,
) -> None:
    received = reviewed = None
    if state in ("received", "reviewed"):
        received = min(ctx.now, sent + timedelta(hours=rng.randrange(2, 96)))
    if state == "reviewed" and received is not None:
        reviewed = ctx.later(rng, received, 60, 48 * 60)
    form_id = ctx.add(
        "intake_form",
        {
            "patient_id": patient.id,
            "form_type": form_type,
            "sent_at": sent,
            "received_at": received,
            "reviewed_at": reviewed,
            "reviewed_by_id": patient.physician_id if reviewed else None,
        },
    )
    patient.intake.append((form_id, received is not None))


# ---------------------------------------------------------------------- messages


def _team(patient: PatientInfo) -> list[int]:
    return list(
        dict.fromkeys([patient.physician_id, *(e.practitioner_id for e in patient.elements)])
    )


def generate_messages(ctx: Context) -> None:
    rng = ctx.rng("messages")
    staff = ctx.get_staff()
    total = max(8, round(len(ctx.patients) * MESSAGE_SHARE))
    for n in range(total):
        patient = rng.choice(ctx.patients)
        team = staff.team(patient)
        nutrition = team.by_discipline[Discipline.NUTRITIONAL_THERAPY]
        kind, subject, body = rng.choice(MESSAGES)
        fill = {
            "goal": patient.elements[0].goal.lower(),
            "supplement": "",
            "medication": "",
            "condition": patient.conditions[0].name.lower(),
        }
        source: str | None = None
        sender: int | None = patient.physician_id
        if kind == "medication_change" and patient.medications:
            med_id, fill["medication"] = rng.choice(patient.medications)
            source = f"medication:{med_id}"
        elif kind == "supplement_change" and patient.supplements:
            item_id, fill["supplement"] = rng.choice(patient.supplements)
            source, sender = f"supplement:{item_id}", rng.choice([patient.physician_id, *nutrition])
        elif kind == "results" and any(s == "received" for _, s in patient.labs):
            lab_id = rng.choice([i for i, s in patient.labs if s == "received"])
            source, kind = f"lab:{lab_id}", "general"
        else:  # nothing of that kind to tell: a general update instead
            kind, subject, body = rng.choice([m for m in MESSAGES if m[0] == "general"])
            sender = rng.choice(_team(patient))
        if rng.random() < 0.25:
            sender = None  # relayed by the assistant
        recipients = [p for p in _team(patient) if p != sender] or team.physicians
        created = ctx.moment(rng, ctx.today - timedelta(days=rng.randrange(0, 30)))
        acknowledged = None
        # The first few stay unread; older messages are more likely to have been seen.
        odds = 0.0 if n < 3 else 0.75 if ctx.now - created > timedelta(days=2) else 0.3
        if rng.random() < odds:
            acknowledged = ctx.later(rng, created, 20, 48 * 60)
        ctx.add(
            "care_message",
            {
                "patient_id": patient.id,
                "sender_id": sender,
                "recipient_id": rng.choice(recipients),
                "kind": kind,
                "subject": subject.format(**fill),
                "body": body.format(**fill),
                "source_ref": source,
                "created_at": created,
                "acknowledged_at": acknowledged,
            },
        )
    ctx.report("messages", total, total)


# ------------------------------------------------------------------------- tasks


def _task_source(rng: random.Random, patient: PatientInfo, title: str) -> str | bool | None:
    """The record a task is about; False when the patient has nothing it could be about."""
    pending = [i for i, s in patient.labs if s in PENDING_LABS]
    received = [i for i, s in patient.labs if s == "received"]
    unreturned = [i for i, got in patient.intake if not got]
    options: dict[str, list[str]] = {
        "Chase lab results": [f"lab:{i}" for i in pending],
        "Review new results": [f"lab:{i}" for i in received],
        "Send intake reminder": [f"intake:{i}" for i in unreturned],
        "Call about supplement reorder": [f"supplement:{i}" for i, _ in patient.supplements],
        "Request referral report": [f"referral:{i}" for i in patient.referrals],
    }
    if title not in options:
        return None
    return rng.choice(options[title]) if options[title] else False


def generate_tasks(ctx: Context) -> None:
    rng = ctx.rng("tasks")
    staff = ctx.get_staff()
    today = ctx.today
    total = max(10, round(len(ctx.patients) * TASK_SHARE))
    # Every state early on: overdue, in progress, done, and one from the assistant.
    coverage = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS, TaskStatus.DONE, TaskStatus.OPEN)
    for n in range(total + len(PRACTICE_TASKS)):
        patient: PatientInfo | None = None
        if n < total:
            patient = rng.choice(ctx.patients)
            title, details = rng.choice(PATIENT_TASKS)
            source = _task_source(rng, patient, title)
            if source is False:
                title, details = PATIENT_TASKS[1]  # "Book follow-up"
                source = None
        else:
            title, details = PRACTICE_TASKS[n - total]
            source = None
        # The patient's care team, or the teams in turn for practice-wide tasks.
        team = staff.team(patient) if patient else staff.teams[n % len(staff.teams)]
        clinical = title in ("Review new results", "Prepare programme review")
        assignee = patient.physician_id if patient and clinical else rng.choice(team.admins)
        by_assistant = (
            (n == 3) or (source is not None and rng.random() < 0.6) or (rng.random() < 0.1)
        )
        creator = None if by_assistant else rng.choice(team.physicians + team.admins)
        status = (
            coverage[n]
            if n < len(coverage)
            else weighted(
                rng,
                {
                    TaskStatus.OPEN: 45,
                    TaskStatus.IN_PROGRESS: 15,
                    TaskStatus.DONE: 30,
                    TaskStatus.CANCELLED: 10,
                },
            )
        )
        created = ctx.moment(
            rng, ctx.today - timedelta(days=15 if n == 0 else rng.randrange(0, 40))
        )
        created_day = created.astimezone(ctx.tz).date()
        completed = None
        if n == 0:  # overdue for sure
            due = today - timedelta(days=rng.randint(2, 10))
        elif status in (TaskStatus.OPEN, TaskStatus.IN_PROGRESS):
            due = today + timedelta(days=rng.randint(-14, 21))
        else:
            due = created_day + timedelta(days=rng.randint(1, 14))
        if status == TaskStatus.DONE:
            completed = ctx.later(rng, created, 60, 10 * 24 * 60)
        ctx.add(
            "task",
            {
                "title": title,
                "details": details,
                "assignee_id": assignee,
                "created_by_id": creator,
                "patient_id": patient.id if patient else None,
                "due_on": max(due, created_day),
                "status": status.value,
                "clinical": clinical,
                "source_ref": source if isinstance(source, str) else None,
                "created_at": created,
                "completed_at": completed,
            },
        )
    ctx.report("tasks", total, total)


# --------------------------------------------------------------------- protocols

DUE_FOR_REVIEW = (1, 4, 8)  # protocol positions whose review date has passed
SHORT_REVIEW = (2, 6)  # positions reviewed every six months


def generate_protocols(ctx: Context) -> None:
    rng = ctx.rng("protocols")
    physicians = ctx.get_staff().physicians
    for i, condition in enumerate(CONDITIONS):
        interval = 180 if i in SHORT_REVIEW else 365
        back = (
            interval + rng.randint(5, 120)
            if i in DUE_FOR_REVIEW
            else rng.randint(10, interval - 20)
        )
        ctx.add(
            "clinical_protocol",
            {
                "title": condition.protocol,
                "condition": condition.name,
                "keywords": list(condition.keywords),
                "mesh_terms": list(condition.mesh),
                "summary": condition.summary,
                "owner_id": physicians[i % len(physicians)],
                "last_reviewed_on": ctx.today - timedelta(days=back),
                "review_interval_days": interval,
            },
        )
    ctx.report("protocols", len(CONDITIONS), len(CONDITIONS))
