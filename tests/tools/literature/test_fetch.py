"""fetch_literature: the one fetch behind `steve literature fetch` and the scheduled refresh
(saved files offline; else PubMed, one search per active topic, and the journal feeds)."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from db.models import TopicKind, WatchTopic
from tests.support import paths
from tests.support.feed_fakes import ok as feed_ok
from tests.support.http_fakes import FakeHttpClient, ok
from tools.literature.fetch import LiteratureSources, fetch_literature
from tools.literature.sources.offline import iter_directory
from tools.literature.sources.pubmed import ESEARCH_URL

SINCE, UNTIL = date(2026, 11, 16), date(2026, 11, 23)
FEED = "https://journal.test/rss"


def _esearch_none() -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD '
        b'esearch 20060628//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">'
        b"<eSearchResult><Count>0</Count><RetMax>0</RetMax><RetStart>0</RetStart>"
        b"<QueryKey>1</QueryKey><WebEnv>MCID_test</WebEnv><IdList></IdList>"
        b"<TranslationSet/><QueryTranslation>x</QueryTranslation></eSearchResult>"
    )


def _topics(session: Session, *queries: str) -> None:
    for n, query in enumerate(queries):
        session.add(WatchTopic(kind=TopicKind.INTEREST, name=f"t{n}", terms=[query], query=query))
    session.add(
        WatchTopic(kind=TopicKind.INTEREST, name="off", terms=["x"], query="off", active=False)
    )
    session.flush()


class _Both(FakeHttpClient):
    """PubMed scripted by FakeHttpClient, one feed answered from a fixture."""

    def get(self, url, *, params=None, headers=None, timeout):  # type: ignore[no-untyped-def]
        if url == FEED:
            self.requests.append(url)  # type: ignore[arg-type]
            body = (paths.FIXTURES / "feeds" / "journal-rss2.rss").read_bytes()
            return feed_ok(body)
        return super().get(url, params=params, headers=headers, timeout=timeout)


def test_pubmed_is_searched_once_per_active_topic(session: Session) -> None:
    _topics(session, "magnesium AND migraine", "vitamin D AND fatigue")
    http = FakeHttpClient()
    http.script(ESEARCH_URL, ok(_esearch_none()))
    stages: list[tuple[str, int, int]] = []
    sources = LiteratureSources(ncbi_email="team@practice.test", http_timeout_seconds=3)
    result = fetch_literature(
        session=session,
        sources=sources,
        since=SINCE,
        until=UNTIL,
        http=http,
        progress=lambda *stage: stages.append(stage),
    )
    terms = [r.params["term"] for r in http.requests]
    assert terms == ["magnesium AND migraine", "vitamin D AND fatigue"]
    assert {r.timeout for r in http.requests} == {3}
    assert all(r.params["mindate"] == "2026/11/16" for r in http.requests)
    assert stages == [("PubMed topics", 0, 2), ("PubMed topics", 1, 2), ("PubMed topics", 2, 2)]
    assert result.articles == [] and result.requests == 2


def test_feeds_without_an_ncbi_address_skip_pubmed(session: Session) -> None:
    _topics(session, "magnesium AND migraine")
    http = _Both()
    sources = LiteratureSources(feed_urls=[FEED])
    result = fetch_literature(session=session, sources=sources, since=SINCE, until=UNTIL, http=http)
    assert http.requests == [FEED]  # type: ignore[comparison-overlap]
    assert result.articles


def test_nothing_configured_fetches_nothing(session: Session) -> None:
    _topics(session, "magnesium AND migraine")
    sources = LiteratureSources()
    assert not sources.online
    result = fetch_literature(session=session, sources=sources, since=SINCE, until=UNTIL)
    assert result.articles == [] and result.requests == 0


def test_an_offline_directory_replaces_the_network(session: Session) -> None:
    directory = paths.ROOT / "demo" / "literature"
    expected = sum(len(part.articles) for _, part in iter_directory(directory))
    stages: list[tuple[str, int, int]] = []
    sources = LiteratureSources(ncbi_email="team@practice.test", feed_urls=[FEED])
    result = fetch_literature(
        session=session,
        sources=sources,
        since=SINCE,
        until=UNTIL,
        offline_dir=directory,
        http=object(),  # never used
        progress=lambda *stage: stages.append(stage),
    )
    assert len(result.articles) == expected > 0
    assert stages[0][0] == "reading saved files" and stages[-1][1] == stages[-1][2] > 0
    # The sources' own offline directory is used when the caller names none.
    again = LiteratureSources(offline_dir=directory)
    assert (
        len(fetch_literature(session=session, sources=again, since=SINCE, until=UNTIL).articles)
        == expected
    )
