"""Read-only look-ups the chat uses: article search and references, reviews, a day's diary."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from db.models import Discipline
from tests.support import factories as f
from tests.support.literature_factories import article
from tools.errors import InvalidInput, NotFound
from tools.literature.articles import articles_by_ref, search_articles
from tools.scheduling.agenda import day_appointments
from tools.scheduling.booking import book

LONDON = ZoneInfo("Europe/London")
SERVICE = "consultation"


def test_search_needs_every_word_newest_first(session: Session) -> None:
    old = article(session, title="Magnesium for migraine", pub_date=date(2020, 1, 1))
    new = article(session, title="Magnesium and migraine in adolescents", pub_date=date(2025, 1, 1))
    article(session, title="Omega-3 for low mood", abstract="Fish oil and depression.")
    found = search_articles(session=session, text="MAGNESIUM migraine")
    assert [a.id for a in found] == [new.id, old.id]
    assert [a.id for a in search_articles(session=session, text="fish depression")] != []
    assert search_articles(session=session, text="magnesium migraine", limit=1)[0].id == new.id
    with pytest.raises(InvalidInput, match="give some words"):
        search_articles(session=session, text="  a ")


def test_articles_by_each_kind_of_reference(session: Session) -> None:
    by_pmid = article(session, pmid="39100123")
    by_doi = article(session, no_pmid=True, doi="10.1000/abc.1", title="DOI only paper")
    bare = article(session, no_pmid=True, title="Feed item without identifiers")
    refs = ["pmid:39100123", "doi:10.1000/ABC.1", f"article:{bare.id}", "pmid:1"]
    assert {a.id for a in articles_by_ref(session=session, refs=refs)} == {
        by_pmid.id,
        by_doi.id,
        bare.id,
    }
    assert articles_by_ref(session=session, refs=[]) == []
    with pytest.raises(InvalidInput, match="not an article reference"):
        articles_by_ref(session=session, refs=["note:4"])


def test_day_appointments_are_the_local_day_by_practitioner(session: Session) -> None:
    doc = f.practitioner(session)
    other = f.practitioner(session, discipline=Discipline.ACUPUNCTURE)

    def booked(who: int, hour: int) -> int:
        appt = book(
            session=session,
            practitioner_id=who,
            patient_id=f.patient(session, physician=doc).id,  # one each: no visit blocks
            service_type=SERVICE,
            starts_at=datetime(2026, 3, 31, hour, tzinfo=UTC),
            duration_minutes=30,
            tz=LONDON,
        )
        assert appt.id is not None
        return appt.id

    # 31 March is summer time in London: 08:00 UTC is 09:00 local.
    acupuncture, physician_late, physician_early = (
        booked(other.id, 8),
        booked(doc.id, 14),
        booked(doc.id, 8),
    )
    day = date(2026, 3, 31)
    assert [a.id for a in day_appointments(session=session, day=day, tz=LONDON)] == [
        physician_early,
        physician_late,
        acupuncture,
    ]
    mine = day_appointments(session=session, day=day, tz=LONDON, practitioner_id=doc.id)
    assert [a.id for a in mine] == [physician_early, physician_late]
    assert day_appointments(session=session, day=date(2026, 3, 30), tz=LONDON) == []
    with pytest.raises(NotFound):
        day_appointments(session=session, day=day, tz=LONDON, practitioner_id=9999)
