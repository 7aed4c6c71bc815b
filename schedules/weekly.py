"""The weekly research digest email (key `digest:{physician}:{iso-week}`).

It covers the last complete ISO week (Monday to Sunday) before the day it runs, so the
default Monday-morning send reports the whole of last week and a late run (after downtime)
still reports that same week under the same key. The digest includes the protocol-review
prompts that became due (agent.evidence.digest opens them as it goes).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from agent.evidence.digest import build_digest, keep_digest
from db.engine import session_scope, utcnow
from db.models import Practitioner
from schedules.config import ServiceSettings
from schedules.email import outbox
from schedules.history import RunResult, unreachable

ACTOR = "steve-service"


def digest_week(today: date) -> date:
    """The Monday of the last complete ISO week before `today`."""
    return today - timedelta(days=today.weekday() + 7)


def digest_key(physician_id: int, monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"digest:{physician_id}:{year}-W{week:02d}"


def weekly_digest(
    *,
    engine: Engine,
    settings: ServiceSettings,
    physician_id: int,
    now: datetime | None = None,
    week_of: date | None = None,
    composer: Any = None,
) -> tuple[RunResult, str | None]:
    """Queue one physician's digest; (result, outbox key or None). `composer`: the model's
    (app.wiring.composer), else None for the deterministic digest."""
    now = now or utcnow()
    monday = (
        digest_week(now.astimezone(settings.zone).date())
        if week_of is None
        else (week_of - timedelta(days=week_of.weekday()))
    )
    key = digest_key(physician_id, monday)
    with session_scope(engine) as session:
        person = session.get(Practitioner, physician_id)
        if skipped := unreachable(person, f"physician {physician_id}"):
            return skipped, None
        assert person is not None and person.email is not None
        if outbox.get_by_key(session, key) is not None:
            return RunResult(counts={"already_queued": 1}), key
        digest = build_digest(
            session=session,
            physician_id=physician_id,
            week_of=monday,
            tz=settings.zone,
            composer=composer,
            now=now,
        )
        keep_digest(session=session, digest=digest, physician_id=physician_id, actor=ACTOR)
        email = outbox.Email(
            key=key,
            kind="digest",
            recipient_id=physician_id,
            to_address=person.email,
            subject=digest.subject or f"Research digest, week of {monday}",
            text=digest.text,
            html=digest.html,
        )
        _, created = outbox.enqueue(
            session=session, email=email, mail_from=settings.email.mail_from
        )
    counts = {
        "articles": sum(len(s.items) + s.more for s in digest.sections),
        "retractions": len(digest.retractions),
        "reviews": len(digest.reviews),
        "queued": int(created),
    }
    return RunResult(counts=counts), key
