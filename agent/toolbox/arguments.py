"""A tool call's arguments, made safe to decide on: validated first, then resolved, then judged.

The order is the point. The model's raw arguments are validated against the tool's own
schema (the one the tool runs with); the records they name are looked up from the validated
values (an appointment, referral or task leads to its patient); access is decided on those;
and the tool then runs with exactly the validated values. Deciding on the raw values instead
let `{"patient_id": "104"}` pass a check that `{"patient_id": 104}` failed.

Record ids are strict: a JSON integer from 1 to the largest id the database holds. "104",
104.0, true, -1, 2**70 and (where an id is required) null are refused, never coerced.
Every id argument says which record it names (`Ref`), so a new tool's ids are checked
without anyone remembering to.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, Field, Strict
from sqlmodel import Session

from agent.toolbox.context import ToolSpec
from db.models import (
    Appointment,
    CareMessage,
    ClinicalNote,
    LabOrder,
    LabResult,
    Patient,
    Practitioner,
    ProtocolReview,
    Referral,
    SupplementItem,
    Task,
)
from tools.access import Actor, patients_in_scope, require
from tools.errors import NotFound

MAX_ID = 2**31 - 1  # ids are INTEGER columns (int4 on PostgreSQL): no record has a larger id


@dataclass(frozen=True)
class Ref:
    """Marks an argument as the id of a record of this kind (see KINDS)."""

    kind: str


def _described(text: str) -> Any:
    return Field(ge=1, le=MAX_ID, description=text)


PatientId = Annotated[int, Strict(), _described("the patient's id"), Ref("patient")]
AppointmentId = Annotated[int, Strict(), _described("the appointment's id"), Ref("appointment")]
ReferralId = Annotated[int, Strict(), _described("the referral's id"), Ref("referral")]
TaskId = Annotated[int, Strict(), _described("the task's id"), Ref("task")]
ReviewId = Annotated[int, Strict(), _described("the protocol review's id"), Ref("protocol review")]
# Who: give each use its own description, e.g. Annotated[PractitionerId, Field(description=..)]
PractitionerId = Annotated[int, Strict(), _described("a practitioner's id"), Ref("practitioner")]


# kind -> (table, whose patient the row belongs to: None for rows without one)
KINDS: dict[str, tuple[type, str | None]] = {
    "patient": (Patient, "id"),
    "appointment": (Appointment, "patient_id"),
    "referral": (Referral, "patient_id"),
    "task": (Task, "patient_id"),
    # No tool takes these ids yet; a tool that does is checked like the others.
    "care message": (CareMessage, "patient_id"),
    "clinical note": (ClinicalNote, "patient_id"),
    "supplement": (SupplementItem, "patient_id"),
    "lab order": (LabOrder, "patient_id"),
    "lab result": (LabResult, "patient_id"),
    "practitioner": (Practitioner, None),
    "protocol review": (ProtocolReview, None),
}


def _ref_in(annotation: Any) -> Ref | None:
    if typing.get_origin(annotation) is Annotated:
        found = next((m for m in annotation.__metadata__ if isinstance(m, Ref)), None)
        if found is not None:
            return found
    for arg in typing.get_args(annotation):
        found = _ref_in(arg)
        if found is not None:
            return found
    return None


def _schema(spec: ToolSpec) -> type[BaseModel]:
    """The arguments the model gives (the injected context left out), as the tool checks them."""
    schema = spec.tool.tool_call_schema
    assert isinstance(schema, type) and issubclass(schema, BaseModel)
    return schema


def id_arguments(spec: ToolSpec) -> dict[str, str]:
    """The tool's record-id arguments (name -> record kind), read from its schema."""
    schema = _schema(spec)
    out: dict[str, str] = {}
    for name, info in schema.model_fields.items():
        ref = next((m for m in info.metadata if isinstance(m, Ref)), None) or _ref_in(
            info.annotation
        )
        if ref is not None:
            out[name] = ref.kind
    return out


def validate(spec: ToolSpec, args: dict[str, Any]) -> dict[str, Any]:
    """The arguments as the tool's schema reads them (ValidationError if they do not fit).

    Only what the caller gave is returned (defaults stay the tool's); keys the schema does
    not know are dropped, so nothing unchecked reaches the tool.
    """
    model = _schema(spec).model_validate(args)
    return {name: getattr(model, name) for name in model.model_fields_set}


@dataclass(frozen=True)
class Checked:
    """Validated arguments and the patients whose records they touch."""

    values: dict[str, Any]
    patient_ids: tuple[int, ...]

    @property
    def patient_id(self) -> int | None:
        return self.patient_ids[0] if self.patient_ids else None


def _patient_of(session: Session, kind: str, ident: int) -> int | None:
    model, column = KINDS[kind]
    if column is None:
        return None
    if kind == "patient":
        return ident  # scope is decided on the id; whether it exists, after (see ensure_exist)
    row = session.get(model, ident)
    if row is None:
        raise NotFound(kind, ident)
    value = getattr(row, column)
    return int(value) if value is not None else None


def resolve(*, session: Session, spec: ToolSpec, args: dict[str, Any]) -> Checked:
    """Validate, then find the patients the validated ids lead to (NotFound for an unknown
    appointment, referral or task)."""
    values = validate(spec, args)
    patients: list[int] = []
    for name, kind in id_arguments(spec).items():
        ident = values.get(name)
        if ident is None:
            continue
        pid = _patient_of(session, kind, ident)
        if pid is not None and pid not in patients:
            patients.append(pid)
    return Checked(values=values, patient_ids=tuple(patients))


def ensure_exist(*, session: Session, spec: ToolSpec, values: dict[str, Any]) -> None:
    """NotFound for any id that names no record (after access was decided)."""
    for name, kind in id_arguments(spec).items():
        ident = values.get(name)
        if ident is not None and session.get(KINDS[kind][0], ident) is None:
            raise NotFound(kind, ident)


def authorise(
    *, session: Session, actor: Actor, spec: ToolSpec, checked: Checked, entity: str
) -> None:
    """The access policy on the validated call: the role's categories and every patient it
    touches (each denial audited by tools.access), then every named record must exist."""
    for patient_id in checked.patient_ids or (None,):
        require(
            session=session, actor=actor, needs=spec.needs, patient_id=patient_id, entity=entity
        )
    ensure_exist(session=session, spec=spec, values=checked.values)


def _lenient_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and 1 <= value <= MAX_ID:
        return value
    return None


def attempted_patient(*, session: Session, spec: ToolSpec, args: dict[str, Any]) -> int | None:
    """For the audit of a refused, ill-typed call only: the patient the raw arguments would
    have named had they been coerced ("104" -> 104), so the attempt is on that patient's
    record. Never used to decide anything."""
    for name, kind in id_arguments(spec).items():
        ident = _lenient_id(args.get(name))
        if ident is None:
            continue
        try:
            pid = _patient_of(session, kind, ident)
        except NotFound:
            continue
        if pid is not None:
            return pid
    return None


def refused_patient(*, session: Session, actor: Actor, checked: Checked) -> int | None:
    """After a denial: the patient it was for (the first outside the actor's scope), for the
    audit row; the call's first patient when the role itself was refused."""
    scope = patients_in_scope(session=session, actor=actor)
    outside = [p for p in checked.patient_ids if scope is not None and p not in scope]
    return outside[0] if outside else checked.patient_id


__all__ = [
    "MAX_ID",
    "AppointmentId",
    "Checked",
    "PatientId",
    "PractitionerId",
    "Ref",
    "ReferralId",
    "ReviewId",
    "TaskId",
    "attempted_patient",
    "authorise",
    "ensure_exist",
    "id_arguments",
    "refused_patient",
    "resolve",
    "validate",
]
