"""The demo practice's reading: saved PubMed and journal-feed files, ingested like a week's fetch.

The files ship with the package (demo/literature/), so the demo's digest, summaries and
protocol reviews work with no network.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlmodel import Session, select

from db.models import Discipline, Practitioner, TopicKind, WatchTopic
from tools.literature.ingest import IngestReport, ingest
from tools.literature.sources.offline import read_directory
from tools.literature.topics import add_interest, sync_protocol_topics

LITERATURE_DIR = Path(__file__).parent / "literature"

# One standing interest per demo physician, beyond the practice's protocols.
INTERESTS = (
    ("Gut-brain axis", "gut-brain axis", ("mind-body", "probiotics", "psychobiotics")),
    ("Omega-3 and mood", "depressive symptoms", ("omega-3", "fish oil", "EPA")),
)


def ingest_demo_literature(*, session: Session, now: datetime | None = None) -> IngestReport:
    """Topics from the demo protocols and interests, then the saved literature, scored."""
    sync_protocol_topics(session=session)
    physicians = session.exec(
        select(Practitioner)
        .where(Practitioner.discipline == Discipline.PHYSICIAN)
        .order_by(Practitioner.id)  # type: ignore[arg-type]
    ).all()
    has_interests = session.exec(
        select(WatchTopic).where(WatchTopic.kind == TopicKind.INTEREST)
    ).first()
    if has_interests is None:
        for person, (name, condition, keywords) in zip(physicians, INTERESTS, strict=False):
            assert person.id is not None
            add_interest(
                session=session,
                physician_id=person.id,
                name=name,
                condition=condition,
                keywords=keywords,
            )
    return ingest(session=session, fetched=read_directory(LITERATURE_DIR), now=now)
