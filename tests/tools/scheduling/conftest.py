"""Fixtures of the scheduling tests: a clinic and a team."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from db.models import Discipline
from tests.support import factories
from tools.scheduling import BlockPart


@pytest.fixture
def clinic(session: Session) -> dict[str, Any]:
    """A physician working 9-17 on weekdays and a patient with a distinctive name."""
    doc = factories.practitioner(session, name="Dr Ivy Hale")
    zelda = factories.patient(session, given="Zelda", family="Quixote")
    session.commit()
    return {"doc": doc, "patient": zelda}


@pytest.fixture
def team(session: Session) -> dict[str, Any]:
    doc = factories.practitioner(session, name="Dr A")
    acu = factories.practitioner(session, name="Acu B", discipline=Discipline.ACUPUNCTURE)
    coach = factories.practitioner(session, name="Coach C", discipline=Discipline.HEALTH_COACHING)
    pt = factories.patient(session)
    session.commit()
    parts = [BlockPart(doc.id, 60), BlockPart(acu.id, 45, "acupuncture"), BlockPart(coach.id, 30)]  # type: ignore[arg-type]
    return {"doc": doc, "acu": acu, "coach": coach, "patient": pt, "parts": parts}
