"""Which existing patient an incoming record is about: by identifier, or a person decides.

The rules (the same for FHIR, HL7 v2 and CSV imports):
1. An identifier the incoming patient carries (system and value) that one Steve patient
   already has -> that patient.
2. Identifiers pointing at two different Steve patients -> held for review (never guessed).
3. No shared identifier, but a Steve patient with the same name (accents, case and spacing
   ignored) and birth date -> held for review: a name and birth date are not an identity,
   and a silent merge would mix two people's records.
4. Otherwise a new patient.

Held records wait in `ImportReview` with the records as received, until `steve import review`
decides (merge into the candidate, create a new patient, or reject).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from sqlmodel import Session, col, or_, select

from db.engine import utcnow
from db.models import (
    ImportFormat,
    ImportReview,
    ImportReviewStatus,
    Patient,
    PatientIdentifier,
)
from tools.registry import name_key


class MatchKind(StrEnum):
    IDENTIFIER = "identifier"  # an identifier already on file: this patient
    REVIEW = "review"  # a person must decide
    NEW = "new"  # nobody like this on file


@dataclass(frozen=True)
class Identifier:
    system: str
    value: str
    kind: str | None = None


@dataclass(frozen=True)
class Identity:
    """What an incoming record says about who the patient is."""

    identifiers: Sequence[Identifier] = ()
    given_name: str | None = None
    family_name: str | None = None
    birth_date: date | None = None


@dataclass(frozen=True)
class Match:
    kind: MatchKind
    patient_id: int | None = None  # IDENTIFIER: the patient; REVIEW: the candidate
    reason: str = ""
    other_candidates: list[int] = field(default_factory=list)


def match_patient(*, session: Session, identity: Identity) -> Match:
    """The existing patient `identity` is, a candidate for review, or none (module doc)."""
    owners = _owners(session=session, identifiers=identity.identifiers)
    if len(owners) == 1:
        return Match(MatchKind.IDENTIFIER, owners[0], "shared identifier")
    if len(owners) > 1:
        return Match(
            MatchKind.REVIEW,
            owners[0],
            "identifiers belong to different patients",
            other_candidates=owners[1:],
        )
    candidates = _same_name_and_birth_date(session=session, identity=identity)
    if candidates:
        return Match(
            MatchKind.REVIEW,
            candidates[0],
            "same name and birth date, no shared identifier",
            other_candidates=candidates[1:],
        )
    return Match(MatchKind.NEW)


def _owners(*, session: Session, identifiers: Sequence[Identifier]) -> list[int]:
    pairs = {(i.system, i.value) for i in identifiers if i.system and i.value}
    if not pairs:
        return []
    conditions = [
        (col(PatientIdentifier.system) == system) & (col(PatientIdentifier.value) == value)
        for system, value in sorted(pairs)
    ]
    stmt = select(PatientIdentifier.patient_id).where(or_(*conditions))
    return sorted(set(session.exec(stmt).all()))


def _same_name_and_birth_date(*, session: Session, identity: Identity) -> list[int]:
    if not (identity.given_name and identity.family_name and identity.birth_date):
        return []
    key = name_key(f"{identity.given_name} {identity.family_name}")
    stmt = select(Patient.id).where(
        Patient.name_key == key, Patient.date_of_birth == identity.birth_date
    )
    return sorted(i for i in session.exec(stmt).all() if i is not None)


def add_identifiers(
    *, session: Session, patient_id: int, identifiers: Sequence[Identifier]
) -> list[Identifier]:
    """Record the identifiers on the patient; returns those another patient already holds
    (left where they are: the caller reports them)."""
    conflicts: list[Identifier] = []
    for identifier in identifiers:
        if not (identifier.system and identifier.value):
            continue
        held = session.exec(
            select(PatientIdentifier).where(
                PatientIdentifier.system == identifier.system,
                PatientIdentifier.value == identifier.value,
            )
        ).first()
        if held is None:
            session.add(
                PatientIdentifier(
                    patient_id=patient_id,
                    system=identifier.system,
                    value=identifier.value,
                    kind=identifier.kind,
                )
            )
        elif held.patient_id != patient_id:
            conflicts.append(identifier)
    session.flush()
    return conflicts


def hold_for_review(
    *,
    session: Session,
    format: ImportFormat,
    source_system: str,
    source_ref: str,
    match: Match,
    payload: str,
) -> ImportReview:
    """Keep the incoming records until a person decides; a record already waiting is
    replaced by the newer copy, not queued twice."""
    waiting = session.exec(
        select(ImportReview).where(
            ImportReview.source_system == source_system,
            ImportReview.source_ref == source_ref,
            ImportReview.status == ImportReviewStatus.OPEN,
        )
    ).first()
    review = waiting or ImportReview(
        format=format, source_system=source_system, source_ref=source_ref, reason="", payload=""
    )
    review.candidate_patient_id = match.patient_id
    review.reason = match.reason[:300]
    review.payload = payload
    review.created_at = utcnow()
    session.add(review)
    session.flush()
    return review


def open_reviews(*, session: Session) -> list[ImportReview]:
    stmt = (
        select(ImportReview)
        .where(ImportReview.status == ImportReviewStatus.OPEN)
        .order_by(col(ImportReview.created_at), col(ImportReview.id))
    )
    return list(session.exec(stmt).all())
