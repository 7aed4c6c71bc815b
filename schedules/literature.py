"""The scheduled literature refresh: PubMed per topic and the journal feeds, or the saved
files of an offline directory, fetched (tools.literature.fetch, as `steve literature fetch`
does), stored and scored.

Every request has the settings' timeout, so a feed or NCBI server that accepts and never
answers costs one timeout and becomes a problem in this run's history; the run and the
scheduler go on. Sources that are not configured are left out (no NCBI contact address:
no PubMed).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from db.engine import session_scope, utcnow
from db.models import RunOutcome
from schedules.config import ServiceSettings
from schedules.history import RunResult
from tools.clock import today_in

DAYS_BACK = 7  # PubMed's window: overlaps earlier runs; deduplication makes repeats free


def refresh_literature(
    *, engine: Engine, settings: ServiceSettings, now: datetime | None = None, http: Any = None
) -> RunResult:
    from tools.literature.fetch import fetch_literature
    from tools.literature.ingest import ingest
    from tools.literature.topics import sync_protocol_topics

    sources = settings.literature
    now = now or utcnow()
    if sources.offline_dir is None and not sources.online:
        return RunResult(
            RunOutcome.SKIPPED, detail="no literature source configured (NCBI email, feeds)"
        )
    today = today_in(settings.zone, now)
    with session_scope(engine) as session:
        sync_protocol_topics(session=session)
        fetched = fetch_literature(
            session=session,
            sources=sources,
            since=today - timedelta(days=DAYS_BACK),
            until=today,
            http=http,
        )
        report = ingest(session=session, fetched=fetched, now=now)
    counts = {
        "new": report.new,
        "updated": report.updated,
        "matches": report.matches,
        "requests": report.requests,
        "problems": len(report.problems),
    }
    if report.problems:
        # Problems name a source (a feed URL or 'pubmed') and why: no patient data.
        first = str(report.problems[0])
        return RunResult(RunOutcome.PARTIAL, counts, f"{len(report.problems)} problem(s): {first}")
    return RunResult(counts=counts)
