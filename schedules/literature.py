"""The scheduled literature refresh: PubMed per topic and the journal feeds, or the saved
files of an offline directory, stored and scored as `steve literature fetch` does.

Every request has the settings' timeout, so a feed or NCBI server that accepts and never
answers costs one timeout and becomes a problem in this run's history; the run and the
scheduler go on. Sources that are not configured are left out (no NCBI contact address:
no PubMed).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from db.engine import session_scope, utcnow
from db.models import RunOutcome
from schedules.config import ServiceConfig
from schedules.history import RunResult
from tools.clock import today_in

DAYS_BACK = 7  # PubMed's window: overlaps earlier runs; deduplication makes repeats free


def refresh_literature(
    *, engine: Engine, config: ServiceConfig, now: datetime | None = None, http: Any = None
) -> RunResult:
    from tools.literature.ingest import ingest
    from tools.literature.sources.harvest import FetchResult
    from tools.literature.sources.http import UrllibClient
    from tools.literature.topics import active_topics, sync_protocol_topics

    lit = config.literature
    now = now or utcnow()
    offline: Path | None = lit.get("offline_dir")
    if offline is None and not lit.get("ncbi_email") and not lit.get("feed_urls"):
        return RunResult(
            RunOutcome.SKIPPED, detail="no literature source configured (NCBI email, feeds)"
        )
    timeout = float(lit.get("timeout") or 20.0)
    with session_scope(engine) as session:
        sync_protocol_topics(session=session)
        fetched = FetchResult()
        if offline is not None:
            from tools.literature.sources.offline import iter_directory

            for _name, part in iter_directory(Path(offline)):
                fetched.extend(part)
        else:
            http = http or UrllibClient()
            if lit.get("ncbi_email"):
                from tools.literature.sources.pubmed import PubMedClient

                client = PubMedClient(
                    http=http,
                    email=lit["ncbi_email"],
                    tool=lit.get("ncbi_tool") or "steve",
                    api_key=lit.get("ncbi_api_key"),
                    timeout=timeout,
                )
                today = today_in(config.zone, now)
                queries = [t.query for t in active_topics(session=session)]
                fetched.extend(
                    client.weekly_refresh(
                        queries, since=today - timedelta(days=DAYS_BACK), until=today
                    )
                )
            if lit.get("feed_urls"):
                from tools.literature.sources.feeds import fetch_feeds

                fetched.extend(
                    fetch_feeds(session=session, http=http, urls=lit["feed_urls"], timeout=timeout)
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
