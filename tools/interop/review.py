"""The import review queue: incoming patients that may be existing ones, decided by a person.

A held review keeps the records as they came (`ImportReview.payload`). Deciding it:
- `merge`: the records are the candidate patient's; they are imported onto that patient (who
  gains the incoming identifiers, so the next import matches without asking);
- `create`: a different person; they are imported as a new patient;
- `reject`: nothing is imported; the review is closed.
Each format registers how its held payload is imported again (`REPLAYERS`): FHIR here, HL7
v2 and CSV lab files in their own packages.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from db.engine import utcnow
from db.models import ImportFormat, ImportReview, ImportReviewStatus, Patient
from tools import audit
from tools.errors import InvalidInput, NotFound


class Decision(StrEnum):
    MERGE = "merge"
    CREATE = "create"
    REJECT = "reject"


@dataclass(frozen=True)
class Replay:
    """What a decided review's records need to be imported again."""

    engine: Engine
    review: ImportReview
    patient_id: int | None  # merge: the candidate; create: None (a new patient)
    actor: str
    data_dir: Path | None


# format -> imports a held payload with the decision; returns a summary of counts.
Replayer = Callable[[Replay], dict[str, Any]]
REPLAYERS: dict[ImportFormat, Replayer] = {}


def replay_fhir(replay: Replay) -> dict[str, Any]:
    from tools.interop.fhir.importing import import_resources

    bundle = json.loads(replay.review.payload)
    report = import_resources(
        engine=replay.engine,
        resources=bundle,
        source_system=replay.review.source_system,
        actor=replay.actor,
        origin="review",
        data_dir=replay.data_dir,
        decisions={replay.review.source_ref: replay.patient_id},
    )
    return report.summary()


REPLAYERS[ImportFormat.FHIR] = replay_fhir


def get_review(*, session: Session, review_id: int) -> ImportReview:
    review = session.get(ImportReview, review_id)
    if review is None:
        raise NotFound("import review", review_id)
    return review


def decide(
    *,
    engine: Engine,
    review_id: int,
    decision: Decision,
    actor: str,
    user_id: int | None = None,
    data_dir: Path | None = None,
) -> dict[str, Any]:
    """Carry out a person's decision on a held review; returns the import's counts."""
    with Session(engine, expire_on_commit=False) as session:
        review = get_review(session=session, review_id=review_id)
        if review.status != ImportReviewStatus.OPEN:
            raise InvalidInput(f"import review {review_id} was already decided ({review.status})")
        if decision == Decision.MERGE:
            if review.candidate_patient_id is None:
                raise InvalidInput(f"import review {review_id} has no candidate to merge into")
            if session.get(Patient, review.candidate_patient_id) is None:
                raise InvalidInput(f"import review {review_id}: the candidate patient is gone")
    summary: dict[str, Any] = {}
    if decision != Decision.REJECT:
        replayer = REPLAYERS.get(ImportFormat(review.format))
        if replayer is None:
            raise InvalidInput(f"held {review.format} records cannot be imported here")
        target = review.candidate_patient_id if decision == Decision.MERGE else None
        summary = replayer(
            Replay(engine=engine, review=review, patient_id=target, actor=actor, data_dir=data_dir)
        )
    with Session(engine) as session:
        review = get_review(session=session, review_id=review_id)
        review.status = {
            Decision.MERGE: ImportReviewStatus.MERGED,
            Decision.CREATE: ImportReviewStatus.CREATED,
            Decision.REJECT: ImportReviewStatus.REJECTED,
        }[decision]
        review.resolved_at = utcnow()
        review.resolved_by_id = user_id
        session.add(review)
        audit.record(
            session=session,
            actor=actor,
            action=f"import_review_{decision.value}",
            entity="import_review",
            entity_id=review_id,
            patient_id=review.candidate_patient_id,
            origin="review",
        )
        session.commit()
    return summary
