"""Facts from records: each a sentence (or a quoted note) with the reference it is cited by.

Fact texts are written so that they can be cited as they stand: one sentence each (notes and
abstracts excepted, which the composers cite sentence by sentence), every date, dose and
value spelled out, so that whatever a composer says about them can be checked against them.
Dates are the practice's local dates in ISO form.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from agent.documents.facts import Fact
from db.models import (
    Appointment,
    CareMessage,
    ClinicalNote,
    IntakeForm,
    LabFlag,
    LabOrder,
    LabResult,
    NoteOrigin,
    PatientAllergy,
    PatientMedication,
    ProgrammeElement,
    Referral,
    ReferralEvent,
    SupplementItem,
    SupplementStatus,
    Task,
)
from tools.guidance import Conflict
from tools.interactions import InteractionFlag

Names = Callable[[int | None], str]

_CONFLICT_WORDS = {
    "stopped_but_continued": ("stopped", "says it continues"),
    "stopped_but_active": ("stopped", "still lists it as active"),
    "note_stop_vs_active": ("says to stop it", "still lists it as active"),
    "notes_disagree": ("says to stop it", "says to continue it"),
}


def _words(value: object) -> str:
    """An enum value as words: 'report_received' -> 'report received'."""
    return str(value).replace("_", " ")


def _clause(text: str) -> str:
    """Free text placed inside a sentence: without its closing full stop."""
    return text.strip().rstrip(".").rstrip()


class FactWriter:
    """Turns records into facts; knows the practice's zone and practitioners' names."""

    def __init__(self, *, tz: ZoneInfo, names: Names, today: date) -> None:
        self.tz = tz
        self.names = names
        self.today = today

    def day(self, value: datetime | date | None) -> str:
        if value is None:
            return "an unrecorded date"
        if isinstance(value, datetime):
            return value.astimezone(self.tz).date().isoformat()
        return value.isoformat()

    # ------------------------------------------------------------------ decision

    @staticmethod
    def value(result: LabResult) -> str:
        if result.value is None:
            return result.value_text or "no value"
        shown = f"{result.value:g}"
        return f"{shown} {result.unit}" if result.unit else shown

    def result(self, result: LabResult, order: LabOrder) -> Fact:
        flag = "CRITICAL" if result.flag == LabFlag.CRITICAL else str(result.flag)
        ref_range = f"; reference {result.ref_text}" if result.ref_text else ""
        text = (
            f"{result.analyte} {self.value(result)} ({flag}{ref_range}) on the {order.panel} "
            f"from {order.lab}, resulted {self.day(result.resulted_on or order.received_on)}"
        )
        return Fact(f"result:{result.id}", text, "decision")

    def unreviewed(self, order: LabOrder, abnormal: int) -> Fact:
        flagged = f", {abnormal} flagged abnormal" if abnormal else ", none flagged abnormal"
        text = (
            f"The {order.panel} from {order.lab} came back {self.day(order.received_on)} and "
            f"has not been reviewed yet{flagged}"
        )
        return Fact(f"lab:{order.id}", text, "decision")

    def normal_results(self, order: LabOrder, results: list[LabResult]) -> Fact:
        values = ", ".join(f"{r.analyte} {self.value(r)}" for r in results)
        text = (
            f"Within range on the {order.panel} from {order.lab} "
            f"(resulted {self.day(order.received_on)}): {values}"
        )
        return Fact(f"lab:{order.id}", text, "changes")

    def overdue_lab(self, order: LabOrder, days_late: int) -> Fact:
        text = (
            f"Overdue: the {order.panel} from {order.lab}, ordered {self.day(order.ordered_on)} "
            f"by {self.names(order.ordered_by_id)}, was expected {self.day(order.expected_on)} "
            f"and is {days_late} days late"
        )
        return Fact(f"lab:{order.id}", text, "decision")

    def conflict(self, c: Conflict) -> Fact:
        first_says, second_says = _CONFLICT_WORDS[c.kind]
        first_is_note = c.first_ref.startswith("note:")
        second_is_note = c.second_ref.startswith("note:")
        first = (
            f"{self.names(c.first_by)}'s note of {self.day(c.first_on)} {first_says}"
            if first_is_note
            else f"the supplement list has it {first_says} on {self.day(c.first_on)}"
            + (f" by {self.names(c.first_by)}" if c.first_by is not None else "")
        )
        second = (
            f"{self.names(c.second_by)}'s note of {self.day(c.second_on)} {second_says}"
            if second_is_note
            else f"the supplement list {second_says} (prescribed by "
            f"{self.names(c.second_by)}, started {self.day(c.second_on)})"
        )
        text = f"Conflicting guidance on {c.product}: {first}, but {second}"
        return Fact(c.first_ref, text, "decision", also=(c.second_ref,))

    def interaction(self, flag: InteractionFlag) -> Fact:
        i = flag.interaction
        text = (
            f"Possible interaction ({i.severity}) between {flag.medication_name} and "
            f"{flag.supplement_name}: {i.effect}; {i.advice}"
        )
        return Fact(i.ref, text, "decision", also=(flag.medication_ref, flag.supplement_ref))

    def overdue_task(self, task: Task) -> Fact:
        text = (
            f"Overdue task: {task.title}, for {self.names(task.assignee_id)}, "
            f"due {self.day(task.due_on)}"
        )
        return Fact(f"task:{task.id}", text, "decision")

    def overdue_referral(self, referral: Referral, days: int, limit: int) -> Fact:
        text = (
            f"Overdue referral to {self.names(referral.to_practitioner_id)}: "
            f"{days} days in '{_words(referral.status)}' against a limit of {limit} days "
            f"({referral.urgency}; reason: {_clause(referral.reason)})"
        )
        return Fact(f"referral:{referral.id}", text, "decision")

    # ------------------------------------------------------------------- changes

    def last_visit(self, visit: Appointment | None, patient_id: int, lookback: int) -> Fact:
        if visit is None:
            return Fact(
                f"patient:{patient_id}",
                f"This is the first visit with you; changes cover the last {lookback} days",
                "changes",
            )
        return Fact(
            f"appointment:{visit.id}",
            f"Last visit with you: {self.day(visit.starts_at)} ({visit.service_type})",
            "changes",
        )

    def note(self, note: ClinicalNote) -> Fact:
        author = self.names(note.practitioner_id)
        modality = str(note.modality).replace("_", " ")
        external = note.origin == NoteOrigin.EXTERNAL
        title = f" '{note.title}'" if note.title else ""
        if external:
            lead = f"External {modality} letter{title} from {author}, {self.day(note.written_at)}"
        else:
            lead = f"{modality.capitalize()} note by {author}, {self.day(note.written_at)}"
        return Fact(f"note:{note.id}", f"{lead}: {note.body.strip()}", "changes", external)

    def supplement_change(self, item: SupplementItem, since: date) -> Fact | None:
        what = f"{item.product}, {item.dose} {item.frequency}"
        by = f", by {self.names(item.prescriber_id)}" if item.prescriber_id else ""
        if item.status == SupplementStatus.STOPPED and item.stopped_on and item.stopped_on >= since:
            text = f"Supplement stopped {self.day(item.stopped_on)}: {what}"
        elif item.started_on >= since:
            text = f"Supplement started {self.day(item.started_on)}: {what}{by}"
        else:
            return None  # dose changes arrive as care-team messages, reported with them
        return Fact(f"supplement:{item.id}", text, "changes")

    def medication_change(self, med: PatientMedication, since: date) -> Fact | None:
        what = " ".join(p for p in (med.name, med.dose, med.frequency) if p)
        if med.stopped_on and med.stopped_on >= since:
            text = f"Medication stopped {self.day(med.stopped_on)}: {what}"
        elif med.started_on and med.started_on >= since:
            by = f" (prescriber: {med.prescriber})" if med.prescriber else ""
            text = f"Medication started {self.day(med.started_on)}: {what}{by}"
        else:
            return None
        return Fact(f"medication:{med.id}", text, "changes")

    def message(self, m: CareMessage) -> Fact:
        sender = self.names(m.sender_id)
        text = (
            f"Care-team message from {sender} to {self.names(m.recipient_id)}, "
            f"{self.day(m.created_at)}, '{m.subject}': {m.body.strip()}"
        )
        return Fact(f"message:{m.id}", text, "changes")

    def referral_move(self, event: ReferralEvent, referral: Referral) -> Fact:
        where = (
            f"to {self.names(referral.to_practitioner_id)}"
            if str(referral.direction) == "outbound"
            else f"from {self.names(referral.from_practitioner_id)}"
        )
        step = (
            f"moved from {_words(event.from_status)} to {_words(event.to_status)}"
            if event.from_status
            else f"created as {_words(event.to_status)}"
        )
        return Fact(
            f"referral:{referral.id}",
            f"Referral {where} {step} on {self.day(event.at)}",
            "changes",
        )

    # ----------------------------------------------------------------- programme

    def allergy(self, a: PatientAllergy) -> Fact:
        details = ", ".join(p for p in (a.reaction, a.severity) if p)
        text = f"Allergy: {a.substance}" + (f" ({details})" if details else "")
        return Fact(f"allergy:{a.id}", text, "programme")

    def medication(self, med: PatientMedication) -> Fact:
        what = " ".join(p for p in (med.name, med.dose, med.frequency) if p)
        by = f" (prescriber: {med.prescriber})" if med.prescriber else ""
        return Fact(f"medication:{med.id}", f"Current medication: {what}{by}", "programme")

    def supplement(self, item: SupplementItem) -> Fact:
        by = f", prescribed by {self.names(item.prescriber_id)}" if item.prescriber_id else ""
        text = (
            f"Current supplement: {item.product}, {item.dose} {item.frequency}, "
            f"since {self.day(item.started_on)}{by}"
        )
        return Fact(f"supplement:{item.id}", text, "programme")

    def element(self, e: ProgrammeElement) -> Fact:
        modality = str(e.modality).replace("_", " ")
        text = (
            f"Programme: {modality} with {self.names(e.practitioner_id)}, {e.cadence}, "
            f"{e.status} since {self.day(e.started_on)}; goal: {e.goal}"
        )
        return Fact(f"element:{e.id}", text, "programme")

    # --------------------------------------------------------------------- open

    def pending_lab(self, order: LabOrder) -> Fact:
        expected = f", expected {self.day(order.expected_on)}" if order.expected_on else ""
        text = (
            f"Awaiting the {order.panel} from {order.lab} ({order.status}), "
            f"ordered {self.day(order.ordered_on)}{expected}"
        )
        return Fact(f"lab:{order.id}", text, "open")

    def open_referral(self, r: Referral) -> Fact:
        where = (
            f"to {self.names(r.to_practitioner_id)}"
            if str(r.direction) == "outbound"
            else f"from {self.names(r.from_practitioner_id)}"
        )
        text = (
            f"Open referral {where}: {_words(r.status)} since {self.day(r.status_changed_at)} "
            f"({r.urgency}; reason: {_clause(r.reason)})"
        )
        return Fact(f"referral:{r.id}", text, "open")

    def task(self, t: Task) -> Fact:
        due = f", due {self.day(t.due_on)}" if t.due_on else ""
        return Fact(
            f"task:{t.id}", f"Open task: {t.title}, for {self.names(t.assignee_id)}{due}", "open"
        )

    def intake(self, form: IntakeForm) -> Fact | None:
        kind = form.form_type.replace("_", " ")
        if form.received_at is None and form.sent_at is not None:
            text = f"Intake form ({kind}) sent {self.day(form.sent_at)}, not returned yet"
        elif form.received_at is not None and form.reviewed_at is None:
            text = f"Intake form ({kind}) returned {self.day(form.received_at)}, not reviewed yet"
        else:
            return None
        return Fact(f"intake:{form.id}", text, "open")

    def upcoming(self, a: Appointment) -> Fact:
        when = a.starts_at.astimezone(self.tz)
        return Fact(
            f"appointment:{a.id}",
            f"Booked: {a.service_type} with {self.names(a.practitioner_id)} on "
            f"{when.date().isoformat()} at {when:%H:%M}",
            "open",
        )
