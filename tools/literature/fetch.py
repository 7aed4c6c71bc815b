"""Where new literature comes from, and fetching it: PubMed per watch topic and the journal
feeds, or the saved files of an offline directory. One fetch for `steve literature fetch`
and the service's scheduled refresh; storing and scoring is tools.literature.ingest.

Cheap to import (the settings declare `LiteratureSources`); the sources load on a fetch.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session

if TYPE_CHECKING:
    from tools.literature.sources.harvest import FetchResult

# progress(stage, done, total): one call as a stage starts (done 0) and after each step.
Progress = Callable[[str, int, int], None]


class LiteratureSources(BaseModel):
    """The settings' `literature` section: NCBI's E-utilities, the feeds, the timeout."""

    ncbi_email: str | None = Field(
        default=None,
        description="Contact address NCBI asks every E-utilities client to send (required online).",
    )
    ncbi_api_key: str | None = Field(
        default=None, description="NCBI API key: raises the PubMed rate limit from 3 to 10/s."
    )
    ncbi_tool: str = Field(default="steve", description="Tool name sent to NCBI.")
    feed_urls: list[str] = Field(
        default_factory=list,
        description='Journal and PubMed RSS/Atom feeds to watch, as JSON: ["https://..."].',
    )
    http_timeout_seconds: float = Field(
        default=20.0, gt=0, le=300, description="Timeout for every PubMed and feed request."
    )
    offline_dir: Path | None = Field(
        default=None,
        description="Read saved PubMed XML and feed files from here instead of the network.",
    )

    @field_validator("feed_urls")
    @classmethod
    def _http_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"feed URL {url!r} is not an http(s) URL")
        return value

    @property
    def online(self) -> bool:
        """Is any network source configured (PubMed needs the contact address)?"""
        return bool(self.ncbi_email or self.feed_urls)


def _quiet(_stage: str, _done: int, _total: int) -> None:
    return None


def read_offline(directory: Path, *, progress: Progress = _quiet) -> FetchResult:
    """Every saved PubMed XML and feed file under `directory`, in sorted order."""
    from tools.literature.sources.harvest import FetchResult
    from tools.literature.sources.offline import iter_directory

    files = sorted(p for p in directory.rglob("*") if p.is_file()) if directory.is_dir() else []
    progress("reading saved files", 0, len(files))
    result = FetchResult()
    for done, (_name, part) in enumerate(iter_directory(directory), start=1):
        result.extend(part)
        progress("reading saved files", done, len(files))
    return result


def fetch_literature(
    *,
    session: Session,
    sources: LiteratureSources,
    since: date,
    until: date,
    offline_dir: Path | None = None,
    http: Any = None,
    progress: Progress = _quiet,
) -> FetchResult:
    """What is new: the saved files of `offline_dir` (or the sources' offline directory)
    when one is given; else PubMed, one search per active watch topic for articles added
    since..until (when NCBI's contact address is set), and the journal feeds (when set)."""
    from tools.literature.sources.harvest import FetchResult
    from tools.literature.topics import active_topics

    directory = offline_dir or sources.offline_dir
    if directory is not None:
        return read_offline(directory, progress=progress)
    result = FetchResult()
    timeout = sources.http_timeout_seconds
    if http is None and sources.online:
        from tools.literature.sources.http import UrllibClient

        http = UrllibClient()
    if sources.ncbi_email:
        from tools.literature.sources.pubmed import PubMedClient

        client = PubMedClient(
            http=http,
            email=sources.ncbi_email,
            tool=sources.ncbi_tool,
            api_key=sources.ncbi_api_key,
            timeout=timeout,
        )
        queries = [t.query for t in active_topics(session=session)]
        progress("PubMed topics", 0, len(queries))
        for done, query in enumerate(queries, start=1):
            result.extend(client.weekly_refresh([query], since=since, until=until))
            progress("PubMed topics", done, len(queries))
    if sources.feed_urls:
        from tools.literature.sources.feeds import fetch_feeds

        progress("journal feeds", 0, 1)
        result.extend(
            fetch_feeds(session=session, http=http, urls=sources.feed_urls, timeout=timeout)
        )
        progress("journal feeds", 1, 1)
    return result
