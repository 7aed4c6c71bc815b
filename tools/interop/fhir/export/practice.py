"""The practice's own id: made once, kept in `practice_meta`, named in every export.

Exports from two Steve practices must not be mistaken for each other: their patient ids and
resource ids overlap. The id is random (uuid4) and written the first time the practice is
exported, in the export's transaction.
"""

from __future__ import annotations

import uuid

from sqlmodel import Session

from db.models import PracticeMeta

KEY = "practice_id"


def practice_id(*, session: Session) -> str:
    """This practice's id, made and added to the session the first time it is asked for."""
    found = session.get(PracticeMeta, KEY)
    if found is not None:
        return found.value
    made = PracticeMeta(key=KEY, value=str(uuid.uuid4()))
    session.add(made)
    session.flush()
    return made.value
