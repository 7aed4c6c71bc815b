"""Morning emails: each physician's agenda with the pre-appointment briefings and their open
tasks (key `briefing:{physician}:{date}`); for everyone else with open tasks, a task summary
(key `tasks:{practitioner}:{date}`).

Misfire policy: a run within MISFIRE_GRACE of the send time always sends. A later run (the
service was down, a new leader took over, or a run killed mid-way was resumed) sends only
while it is still before the physician's first appointment of the day; after that the run is
recorded as missed, with the reason, and the practice team gets one task per physician and
day saying the briefing was not sent, because a briefing read after the patient has been
seen is noise but its absence must not go unnoticed. The key makes a late run and an on-time
run one email.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from db.engine import session_scope, utcnow
from db.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Affiliation,
    Appointment,
    Discipline,
    Patient,
    Practitioner,
    PractitionerStatus,
    RunOutcome,
    Task,
    TaskCreate,
)
from schedules.config import ServiceConfig
from schedules.email import outbox
from schedules.email.mime import render_email
from schedules.email.smtp_faults import fault
from schedules.history import RunResult, safe_error, unreachable
from tools import audit
from tools.clock import at_local, local_day_bounds
from tools.scheduling.agenda import day_appointments
from tools.tasks import create_task, tasks_for

log = logging.getLogger(__name__)
MISFIRE_GRACE = timedelta(minutes=10)
ACTOR = "steve-service"

# The seam to the briefing graph: (session, physician_id, day) -> [(title, markdown, html)].
BriefingsForDay = Callable[..., Sequence[tuple[str, str, str]]]


def briefing_source(config: ServiceConfig) -> BriefingsForDay | None:
    """Briefings from agent.briefing's graph (the configured model, else deterministic);
    None when the graph cannot be imported (the email then carries the agenda, and says so).

    Each briefing is also kept as a generated document, so memory holds what was sent.
    """
    try:
        from agent.briefing.gather import DatabasePreferences
        from agent.briefing.graph import brief_day
        from agent.briefing.keep import keep_briefing
        from agent.briefing.state import BriefingContext
        from agent.documents.render import html_fragment
        from agent.llm import make_chat_model
    except ImportError as exc:
        log.warning("briefing graph unavailable (%s): agenda only", type(exc).__name__)
        return None

    def for_day(*, session: Session, physician_id: int, day: date) -> list[tuple[str, str, str]]:
        context = BriefingContext(
            session=session,
            tz=config.zone,
            model=make_chat_model(config.model_config) if config.model_config else None,
            memory=DatabasePreferences(session),
            lab_grace_days=config.lab_grace_days,
            lookback_days=config.briefing_lookback_days,
            evidence_days=config.briefing_evidence_days,
            referral_overdue_days=dict(config.referral_limits),
            actor=ACTOR,
        )
        made = []
        for b in brief_day(context=context, physician_id=physician_id, day=day, now=utcnow()):
            keep_briefing(session=session, briefing=b, day=day, actor=ACTOR)
            patient = session.get(Patient, b.patient_id)
            title = patient.full_name if patient else f"Patient {b.patient_id}"
            made.append((title, b.markdown, html_fragment(b.markdown)))
        return made

    return for_day


@dataclass
class Prepared:
    """What the read phase found: enough to decide, and to write the email."""

    key: str
    kind: str
    person: Practitioner
    appointments: list[Appointment]
    tasks: list[Task]
    names: dict[int, str]
    first_visits: set[int]
    queued: bool  # the key is in the outbox already


def _day_label(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _hm(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%H:%M")


def _prepare(
    session: Session, person: Practitioner, day: date, zone: ZoneInfo, physician: bool
) -> Prepared:
    start, _ = local_day_bounds(day, zone)  # earlier visits are before the day starts
    appts: list[Appointment] = []
    if physician:
        assert person.id is not None
        appts = day_appointments(session=session, day=day, tz=zone, practitioner_id=person.id)
    assert person.id is not None
    tasks = tasks_for(session=session, assignee_id=person.id)
    patient_ids = sorted({a.patient_id for a in appts})
    names = {
        p.id: p.full_name
        for p in session.exec(select(Patient).where(col(Patient.id).in_(patient_ids))).all()
        if p.id is not None
    }
    creators = sorted({t.created_by_id for t in tasks if t.created_by_id is not None})
    names.update(
        {
            -(p.id or 0): p.name  # negative ids: practitioners, kept apart from patients
            for p in session.exec(
                select(Practitioner).where(col(Practitioner.id).in_(creators))
            ).all()
        }
    )
    earlier = set(
        session.exec(
            select(Appointment.patient_id).where(
                col(Appointment.patient_id).in_(patient_ids),
                col(Appointment.starts_at) < start,
                col(Appointment.status).in_(ACTIVE_APPOINTMENT_STATUSES),
            )
        ).all()
    )
    kind = "briefing" if appts else "tasks"
    key = f"{kind}:{person.id}:{day.isoformat()}"
    return Prepared(
        key=key,
        kind=kind,
        person=person,
        appointments=appts,
        tasks=tasks,
        names=names,
        first_visits={pid for pid in patient_ids if pid not in earlier},
        queued=outbox.get_by_key(session, key) is not None,
    )


def _missed(now: datetime, day: date, prepared: Prepared, config: ServiceConfig) -> str | None:
    """Why a late run must not send, or None when it may."""
    assert prepared.person.id is not None
    send_time, zone = config.send_time_for(prepared.person.id)
    if now <= at_local(day, send_time, zone) + MISFIRE_GRACE:
        return None
    if not prepared.appointments:  # a task summary: late is fine, the next day is not
        over = now.astimezone(zone).date() > day
        return f"missed: the day {day.isoformat()} is over; not sent" if over else None
    first = prepared.appointments[0].starts_at
    if now < first:
        return None
    return (
        f"missed: ran at {_hm(now, zone)}, after the first appointment at {_hm(first, zone)} "
        f"({zone.key}); not sent"
    )


def _team_member(session: Session, physician_id: int) -> int:
    """Who hears of a missed briefing: the practice's first active in-house admin (the front
    desk can print the agenda), else the physician."""
    admin = session.exec(
        select(Practitioner.id)
        .where(
            Practitioner.affiliation == Affiliation.IN_HOUSE,
            Practitioner.status == PractitionerStatus.ACTIVE,
            Practitioner.discipline == Discipline.ADMIN,
        )
        .order_by(col(Practitioner.id))
    ).first()
    return admin if admin is not None else physician_id


def _missed_task(engine: Engine, prepared: Prepared, day: date, reason: str) -> int:
    """One task per physician and day (`source_ref` missed-briefing:{id}:{date}) saying the
    morning briefing was not sent; 1 if it was created now. No patient data: ids and times."""
    person = prepared.person
    assert person.id is not None
    ref = f"missed-briefing:{person.id}:{day.isoformat()}"
    with session_scope(engine) as session:
        if session.exec(select(Task.id).where(col(Task.source_ref) == ref)).first() is not None:
            return 0
        name = f"{person.title} {person.name}" if person.title else person.name
        create_task(
            session=session,
            data=TaskCreate(
                title=f"Morning briefing for {name} on {day.isoformat()} was not sent",
                details=(
                    f"The service was not running in time ({reason}). The day's agenda and "
                    "the pre-appointment briefings are on the schedule page of the web app "
                    "(or `steve brief`)."
                ),
                assignee_id=_team_member(session, person.id),
                due_on=day,
            ),
            source_ref=ref,
            actor=ACTOR,
        )
    log.warning("morning briefing for practitioner %s on %s missed: task created", person.id, day)
    return 1


def _briefings(
    engine: Engine, source: BriefingsForDay | None, physician_id: int, day: date
) -> tuple[list[dict[str, Any]], list[str], bool]:
    """(briefings, notes for the email, whether preparing them failed)."""
    if source is None:
        return [], ["Pre-appointment briefings are not available yet; the agenda follows."], False
    try:
        with session_scope(engine) as session:
            made = list(source(session=session, physician_id=physician_id, day=day))
    except Exception as exc:  # a hung or failing model fails the briefings, not the agenda
        log.warning("briefings for physician %s failed: %s", physician_id, safe_error(exc))
        note = f"The pre-appointment briefings could not be prepared ({safe_error(exc)})."
        return [], [note], True
    return (
        [
            {"title": title, "text": markdown, "html": Markup(html)}
            for title, markdown, html in made
        ],
        [],
        False,
    )


def _email(
    prepared: Prepared, day: date, zone: ZoneInfo, briefings: list[dict[str, Any]], notes: list[str]
) -> outbox.Email:
    person = prepared.person
    name = f"{person.title} {person.name}" if person.title else person.name
    appts = prepared.appointments
    if appts:
        heading = "Morning briefing"
        subject = f"Morning briefing, {day:%a} {day.isoformat()}: {len(appts)} appointment(s)"
    else:
        heading = "Your tasks today"
        subject = f"Your tasks, {day:%a} {day.isoformat()}: {len(prepared.tasks)} open"
    agenda = [
        {
            "start": _hm(a.starts_at, zone),
            "end": _hm(a.ends_at, zone),
            "patient": prepared.names.get(a.patient_id, f"patient {a.patient_id}"),
            "service": a.service_type,
            "block": a.visit_block_id is not None,
            "first_visit": a.patient_id in prepared.first_visits,
        }
        for a in appts
    ]
    tasks = [
        {
            "id": t.id,
            "title": t.title,
            "due": t.due_on.isoformat() if t.due_on else None,
            "overdue": bool(t.due_on and t.due_on < day),
            "by": prepared.names.get(-(t.created_by_id or 0)) if t.created_by_id else None,
        }
        for t in prepared.tasks
    ]
    ctx = {
        "subject": subject,
        "heading": heading,
        "name": name,
        "day_label": _day_label(day),
        "agenda": agenda,
        "briefings": briefings,
        "tasks": tasks,
        "notes": notes,
    }
    text, html = render_email("morning", **ctx)
    assert person.id is not None and person.email
    return outbox.Email(
        key=prepared.key,
        kind=prepared.kind,
        recipient_id=person.id,
        to_address=person.email,
        subject=subject,
        text=text,
        html=html,
    )


def morning_email(
    *,
    engine: Engine,
    config: ServiceConfig,
    practitioner_id: int,
    now: datetime | None = None,
    day: date | None = None,
    force: bool = False,
    briefings: BriefingsForDay | None = None,
    use_briefing_graph: bool = True,
) -> tuple[RunResult, str | None]:
    """Queue one practitioner's morning email; (result, outbox key or None). Delivery is the
    caller's next step."""
    now = now or utcnow()
    _, zone = config.send_time_for(practitioner_id)
    day = day or now.astimezone(zone).date()
    with Session(engine, expire_on_commit=False) as session:
        person = session.get(Practitioner, practitioner_id)
        if skipped := unreachable(person, f"practitioner {practitioner_id}"):
            return skipped, None
        assert person is not None
        physician = person.discipline == Discipline.PHYSICIAN
        prepared = _prepare(session, person, day, zone, physician)
    counts: dict[str, Any] = {
        "appointments": len(prepared.appointments),
        "tasks": len(prepared.tasks),
    }
    if prepared.queued:
        return RunResult(counts={**counts, "already_queued": 1}), prepared.key
    if not prepared.appointments and not prepared.tasks:
        return RunResult(RunOutcome.SKIPPED, counts, "no appointments and no open tasks"), None
    if not force and (reason := _missed(now, day, prepared, config)):
        if prepared.appointments:  # a physician's day went without its briefing
            counts["team_task"] = _missed_task(engine, prepared, day, reason)
        return RunResult(RunOutcome.MISSED, counts, reason), None
    notes: list[str] = []
    made: list[dict[str, Any]] = []
    failed = False
    if prepared.appointments:
        source = briefings or (briefing_source(config) if use_briefing_graph else None)
        made, notes, failed = _briefings(engine, source, practitioner_id, day)
    email = _email(prepared, day, zone, made, notes)
    fault("before_enqueue")
    with session_scope(engine) as session:
        _, created = outbox.enqueue(session=session, email=email, mail_from=config.mail_from)
        for appt in prepared.appointments:  # the agenda read patients' records
            audit.record(
                session=session,
                actor=ACTOR,
                action="email",
                entity="appointment",
                entity_id=appt.id,
                patient_id=appt.patient_id,
                origin="service",
            )
    counts.update(briefings=len(made), queued=int(created))
    outcome = RunOutcome.PARTIAL if failed else RunOutcome.OK
    return RunResult(
        outcome, counts, notes[0] if outcome == RunOutcome.PARTIAL else None
    ), email.key


def staff_for_task_summaries(*, session: Session) -> list[int]:
    """Active in-house staff who are not physicians and hold open tasks (physicians get
    theirs in the morning briefing)."""
    from db.models.enums import OPEN_TASK_STATUSES

    rows = session.exec(
        select(Practitioner.id)
        .join(Task, col(Task.assignee_id) == col(Practitioner.id))
        .where(
            Practitioner.affiliation == Affiliation.IN_HOUSE,
            Practitioner.status == PractitionerStatus.ACTIVE,
            Practitioner.discipline != Discipline.PHYSICIAN,
            col(Task.status).in_(OPEN_TASK_STATUSES),
        )
        .distinct()
    ).all()
    return sorted(i for i in rows if i is not None)


def physicians(*, session: Session) -> list[int]:
    """In-house, active physicians: each gets a morning-briefing and a digest job."""
    rows = session.exec(
        select(Practitioner.id).where(
            Practitioner.affiliation == Affiliation.IN_HOUSE,
            Practitioner.status == PractitionerStatus.ACTIVE,
            Practitioner.discipline == Discipline.PHYSICIAN,
        )
    ).all()
    return sorted(i for i in rows if i is not None)
