"""Gather: everything a briefing may say about one patient for one physician, as facts.

The consolidated programme view, what changed since the last visit with this physician
(tools.clinical_changes), conflicting guidance and interaction flags, new evidence for the
patient's protocols, and the physician's standing preferences (from memory, when given).
A fixed number of indexed queries, whatever the size of the practice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from agent.briefing.record_facts import FactWriter, Names
from agent.briefing.state import BriefingContext, PreferenceHit, PreferenceSource
from agent.documents.facts import Fact
from db.engine import as_utc
from db.models import (
    Appointment,
    Article,
    ArticleMatch,
    ClinicalProtocol,
    EvidenceGrade,
    LabFlag,
    LabStatus,
    Practitioner,
    SupplementItem,
    SupplementStatus,
    TopicKind,
    WatchTopic,
)
from tools.citations import neutralise_citations
from tools.clinical_changes import Changes, changes_since
from tools.guidance import find_conflicts
from tools.interactions import find_interactions, load_interactions
from tools.literature.abstracts import article_link, key_sentences, publication_line
from tools.literature.reviews import STRONG_GRADES, weighted
from tools.programme import ProgrammeView, programme_view
from tools.referrals import referral_overdue
from tools.registry import get_practitioner

MAX_EVIDENCE = 3
MAX_UPCOMING = 3
MIN_RELEVANCE = 0.5


@dataclass
class Gathered:
    facts: list[Fact]
    sources: dict[str, str]  # reference -> what it is
    links: dict[str, str]  # reference -> URL, for articles and interaction monographs
    header: dict[str, Any]


class DatabasePreferences:
    """Preferences read from the practice database (memory's source of truth), for callers
    that have no memory store open."""

    @dataclass(frozen=True)
    class _Hit:
        ref: str
        text: str

    def __init__(self, session: Session) -> None:
        self.session = session

    def preferences_for(self, physician_id: int) -> Sequence[PreferenceHit]:
        from tools.preferences import list_preferences

        return [
            self._Hit(f"preference:{p.id}", p.text)
            for p in list_preferences(session=self.session, practitioner_id=physician_id)
        ]


_TITLES_BEFORE = {"dr", "dr.", "prof", "prof.", "mr", "mrs", "ms", "mx"}


def display_name(p: Practitioner) -> str:
    """'Dr Helena Marsh', 'Mei-Lin Zhou (Lic.Ac.)': post-nominals go after the name, so their
    full stops cannot end a sentence early."""
    if not p.title:
        return p.name
    if p.title.lower() in _TITLES_BEFORE:
        return f"{p.title} {p.name}"
    return f"{p.name} ({p.title})"


def _by_id(record: Any) -> int:
    # Every list in a briefing has an explicit order, the same on SQLite and PostgreSQL
    # (collations differ; rows without ORDER BY come back in any order).
    return int(record.id or 0)


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _evidence(
    session: Session, condition_names: list[str], since: datetime
) -> list[tuple[Article, ClinicalProtocol, float]]:
    """Strong, relevant articles matched since `since` to the protocols for these conditions."""
    if not condition_names:
        return []
    rows = session.exec(
        select(Article, ClinicalProtocol, ArticleMatch.score)
        .join(ArticleMatch, col(ArticleMatch.article_id) == Article.id)
        .join(WatchTopic, col(WatchTopic.id) == ArticleMatch.topic_id)
        .join(ClinicalProtocol, col(ClinicalProtocol.id) == WatchTopic.protocol_id)
        .where(
            WatchTopic.kind == TopicKind.PROTOCOL,
            col(WatchTopic.active).is_(True),
            func.lower(ClinicalProtocol.condition).in_([c.lower() for c in condition_names]),
            ArticleMatch.score >= MIN_RELEVANCE,
            col(ArticleMatch.matched_at) >= since,
            col(Article.is_retracted).is_(False),
            col(Article.grade).in_([*STRONG_GRADES, EvidenceGrade.OBSERVATIONAL]),
        )
    ).all()
    best: dict[int, tuple[Article, ClinicalProtocol, float]] = {}
    for article, protocol, score in rows:
        assert article.id is not None
        if article.id not in best or score > best[article.id][2]:
            best[article.id] = (article, protocol, score)
    ranked = sorted(best.values(), key=lambda t: (-weighted(t[2], t[0].grade), t[0].id or 0))
    return ranked[:MAX_EVIDENCE]


def gather_facts(
    *,
    context: BriefingContext,
    patient_id: int,
    physician_id: int,
    now: datetime,
    appointment_id: int | None = None,
) -> Gathered:
    """The facts of one briefing (raises NotFound for an unknown patient or physician)."""
    session, tz = context.session, context.tz
    now = as_utc(now)
    today = now.astimezone(tz).date()
    physician = get_practitioner(session=session, practitioner_id=physician_id)
    appointment = session.get(Appointment, appointment_id) if appointment_id else None
    view = programme_view(session=session, patient_id=patient_id, now=now, actor=context.actor)
    changes = changes_since(
        session=session,
        patient_id=patient_id,
        physician_id=physician_id,
        now=now,
        today=today,
        before=appointment.starts_at if appointment else None,
        lookback_days=context.limits.briefing_lookback_days,
        lab_grace_days=context.limits.lab_overdue_grace_days,
    )
    names = _namer(session, view, changes, physician)
    w = FactWriter(tz=tz, names=names, today=today)
    active = sorted(view.supplements, key=_by_id)
    out = _Sorted(
        changed=[
            w.last_visit(changes.last_visit, patient_id, context.limits.briefing_lookback_days)
        ]
    )
    _add_labs(out, w, changes)
    _add_guidance(out, w, view, changes, active)
    _add_tasks_and_referrals(out, w, view, today, now, context.limits.referral_overdue_days)
    _add_changes(out, w, changes)
    _add_programme(out, w, view, active, patient_id, today)
    _add_open(out, w, view, appointment_id, physician_id)
    sources: dict[str, str] = {}
    links: dict[str, str] = {}
    evidence_since = min(changes.since, now - timedelta(days=context.limits.briefing_evidence_days))
    evidence = _evidence_facts(session, view, evidence_since, sources, links)
    prefs = _preference_facts(context.memory, physician_id, names, sources)
    facts = out.decision + out.changed + out.programme + out.open_items + evidence + prefs
    _label_sources(sources, links, facts)
    header = {
        "patient_id": patient_id,
        "patient_name": view.patient.full_name,
        "date_of_birth": view.patient.date_of_birth.isoformat(),
        "age": _age(view.patient.date_of_birth, today),
        "physician_id": physician_id,
        "physician_name": names(physician_id),
        "appointment": (
            {
                "id": appointment.id,
                "service": appointment.service_type,
                "starts": appointment.starts_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            }
            if appointment
            else None
        ),
        "since": changes.since.astimezone(tz).date().isoformat(),
        "first_visit": changes.first_visit,
        "for_date": today.isoformat(),
    }
    return Gathered(facts=facts, sources=sources, links=links, header=header)


@dataclass
class _Sorted:
    """A briefing's facts by section, in the order they are found."""

    decision: list[Fact] = field(default_factory=list)
    changed: list[Fact] = field(default_factory=list)
    programme: list[Fact] = field(default_factory=list)
    open_items: list[Fact] = field(default_factory=list)


def _namer(
    session: Session, view: ProgrammeView, changes: Changes, physician: Practitioner
) -> Names:
    """Practitioners' display names, for everyone the facts will name (one query at most)."""
    assert physician.id is not None
    people: dict[int, Practitioner] = {**view.practitioners, physician.id: physician}
    wanted = {n.practitioner_id for n in changes.notes}
    wanted |= {m.sender_id for m in changes.messages if m.sender_id} | {
        m.recipient_id for m in changes.messages
    }
    wanted |= {s.prescriber_id for s in changes.supplements if s.prescriber_id}
    wanted |= {r.to_practitioner_id for _, r in changes.referral_moves}
    wanted |= {r.from_practitioner_id for _, r in changes.referral_moves}
    missing = wanted - set(people)
    if missing:
        for p in session.exec(select(Practitioner).where(col(Practitioner.id).in_(missing))):
            assert p.id is not None
            people[p.id] = p

    def names(pid: int | None) -> str:
        if pid is None:
            return "Steve (assistant)"
        p = people.get(pid)
        if p is None:
            return f"practitioner {pid}"
        return display_name(p)

    return names


def _add_labs(out: _Sorted, w: FactWriter, changes: Changes) -> None:
    """Abnormal new results and unreviewed panels need a decision; the rest is news."""
    for order in changes.new_labs:
        results = changes.results.get(order.id or 0, [])
        abnormal = [r for r in results if r.flag != LabFlag.NORMAL]
        out.decision += [w.result(r, order) for r in abnormal]
        if order.status == LabStatus.RECEIVED:
            out.decision.append(w.unreviewed(order, len(abnormal)))
        normal = [r for r in results if r.flag == LabFlag.NORMAL]
        if normal:
            out.changed.append(w.normal_results(order, normal))
    overdue_ids = {o.order.id for o in changes.overdue_labs}
    out.decision += [w.overdue_lab(o.order, o.days_late) for o in changes.overdue_labs]
    out.open_items += [w.pending_lab(o) for o in changes.pending_labs if o.id not in overdue_ids]


def _add_guidance(
    out: _Sorted,
    w: FactWriter,
    view: ProgrammeView,
    changes: Changes,
    active: list[SupplementItem],
) -> None:
    """Conflicting guidance and interactions, over the supplement list and recent notes."""
    active_ids = {s.id for s in active}
    conflicts = find_conflicts(
        supplements=active + [s for s in changes.supplements if s.id not in active_ids],
        notes=changes.notes,
        messages=changes.messages,
        tz=w.tz,
    )
    out.decision += [w.conflict(c) for c in conflicts]
    flags = find_interactions(
        medications=[(f"medication:{m.id}", m.name) for m in sorted(view.medications, key=_by_id)],
        supplements=[
            (f"supplement:{s.id}", s.product) for s in active if s.status == SupplementStatus.ACTIVE
        ],
    )
    out.decision += [w.interaction(f) for f in flags]


def _add_tasks_and_referrals(
    out: _Sorted,
    w: FactWriter,
    view: ProgrammeView,
    today: date,
    now: datetime,
    overdue_days: dict[str, int],
) -> None:
    """Overdue tasks and referrals need a decision; the others are open items."""
    tasks = sorted(view.open_tasks, key=lambda t: (t.due_on is None, t.due_on, t.id or 0))
    for task in tasks:
        if task.due_on is not None and task.due_on < today:
            out.decision.append(w.overdue_task(task))
        else:
            out.open_items.append(w.task(task))
    for r in sorted(view.open_referrals, key=_by_id):
        late = referral_overdue(r, overdue_days, now)
        if late is not None:
            out.decision.append(w.overdue_referral(r, late.days_in_state, late.limit_days))
        else:
            out.open_items.append(w.open_referral(r))


def _add_changes(out: _Sorted, w: FactWriter, changes: Changes) -> None:
    """Since the last visit: others' notes, supplement and medication changes, referral
    moves and care-team messages."""
    since_day = changes.since.astimezone(w.tz).date()
    out.changed += [w.note(n) for n in changes.notes_by_others()]
    out.changed += [
        f for s in changes.supplements if (f := w.supplement_change(s, since_day)) is not None
    ]
    out.changed += [
        f for m in changes.medications if (f := w.medication_change(m, since_day)) is not None
    ]
    out.changed += [w.referral_move(e, r) for e, r in changes.referral_moves]
    out.changed += [w.message(m) for m in changes.messages_since()]


def _add_programme(
    out: _Sorted,
    w: FactWriter,
    view: ProgrammeView,
    active: list[SupplementItem],
    patient_id: int,
    today: date,
) -> None:
    """Who the patient is, and the current programme and treatment."""
    patient = view.patient
    conditions = ", ".join(c.name for c in sorted(view.conditions, key=_by_id))
    conditions = conditions or "none recorded"
    out.programme.append(
        Fact(
            f"patient:{patient_id}",
            f"{_age(patient.date_of_birth, today)}-year-old, sex {patient.sex}; "
            f"active conditions: {conditions}",
            "programme",
        )
    )
    out.programme += [w.allergy(a) for a in sorted(view.allergies, key=_by_id)]
    out.programme += [w.medication(m) for m in sorted(view.medications, key=_by_id)]
    out.programme += [w.supplement(s) for s in active]
    out.programme += [
        w.element(e) for e in sorted(view.elements, key=lambda e: (e.started_on, e.id or 0))
    ]


def _add_open(
    out: _Sorted,
    w: FactWriter,
    view: ProgrammeView,
    appointment_id: int | None,
    physician_id: int,
) -> None:
    """Intake forms outstanding, and the next few visits with other practitioners."""
    forms = sorted(view.intake_forms, key=_by_id)
    out.open_items += [f for form in forms if (f := w.intake(form)) is not None]
    out.open_items += [
        w.upcoming(a)
        for a in sorted(view.next_appointments, key=lambda a: (a.starts_at, a.id or 0))
        if a.id != appointment_id and a.practitioner_id != physician_id
    ][:MAX_UPCOMING]


def _evidence_facts(
    session: Session,
    view: ProgrammeView,
    since: datetime,
    sources: dict[str, str],
    links: dict[str, str],
) -> list[Fact]:
    """New evidence for the patient's protocols: quoted, each article listed as a source."""
    evidence: list[Fact] = []
    for article, protocol, score in _evidence(session, [c.name for c in view.conditions], since):
        title = neutralise_citations(article.title).strip().rstrip(".")
        pub = neutralise_citations(publication_line(article))
        lead = (
            f"New for the protocol '{protocol.title}' (relevance {score:.2f}): {title} "
            f"({article.grade.label}{', ' + pub if pub else ''})."
        )
        text = " ".join([lead, *key_sentences(article, limit=2)])
        evidence.append(Fact(article.ref, text, "evidence", external=True))
        sources[article.ref] = f"{title} ({pub})" if pub else title
        if (url := article_link(article)) is not None:
            links[article.ref] = url
    return evidence


def _preference_facts(
    memory: PreferenceSource | None, physician_id: int, names: Names, sources: dict[str, str]
) -> list[Fact]:
    """The physician's standing preferences (none without a memory)."""
    prefs: list[Fact] = []
    if memory is not None:
        for hit in memory.preferences_for(physician_id):
            prefs.append(Fact(hit.ref, f"Standing preference: {hit.text}", "preferences"))
            sources[hit.ref] = f"Standing preference of {names(physician_id)}"
    return prefs


_QUOTING = {"note", "message"}  # their facts quote a text after the first ': '
_KIND_LABELS = {
    "result": "lab result",
    "lab": "lab order",
    "note": "clinical note",
    "message": "care-team message",
    "supplement": "supplement record",
    "medication": "medication record",
    "referral": "referral",
    "task": "task",
    "intake": "intake form",
    "appointment": "appointment",
    "allergy": "allergy record",
    "element": "programme element",
    "patient": "patient record",
}


_LABEL_CHARS = 90


def _label_sources(sources: dict[str, str], links: dict[str, str], facts: list[Fact]) -> None:
    """What each reference is, for the list of sources that ends a briefing: its kind and
    the opening of the first fact that names it (a note's author and date, a result)."""
    table = {i.ref: i for i in load_interactions()}
    # Facts about one record first; a conflict or interaction fact, which joins several
    # records, names them by their kind only.
    pairs: list[tuple[str, Fact | None]] = [(f.ref, f) for f in facts if not f.also]
    pairs += [(ref, None) for f in facts if f.also for ref in f.refs]
    for ref, fact in pairs:
        if ref in sources:
            continue
        if ref in table:
            i = table[ref]
            sources[ref] = f"{i.medication} with {i.supplement}: {i.source}"
            links[ref] = i.url
            continue
        kind = ref.partition(":")[0]
        label = _KIND_LABELS.get(kind, kind)
        if fact is not None:
            opening = fact.text.split(": ", 1)[0] if kind in _QUOTING else fact.text
            if len(opening) > _LABEL_CHARS:
                opening = opening[: _LABEL_CHARS - 1].rstrip() + "\u2026"
            label = f"{label}: {opening}"
        sources[ref] = label
