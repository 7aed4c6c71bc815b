"""Journal feeds: mapping saved feeds to ArticleRecords, conditional GET, failure isolation.

A scripted HTTP client serves the fixture files; nothing here touches the network. Tests
that write FeedState use `session`, so they run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from db.models.literature import FeedState
from tests.support import paths
from tests.support.feed_fakes import Script, ScriptedHttp, ok
from tools.literature.sources.feeds import (
    extract_doi,
    extract_pmid,
    fetch_feeds,
    html_to_text,
    parse_feed,
    records_from_feed,
)
from tools.literature.sources.harvest import ArticleRecord, FetchResult
from tools.literature.sources.http import HttpResponse, TransportError

FIXTURES = paths.FIXTURES / "feeds"
NOW = datetime(2024, 6, 4, 6, 0, tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fetch(session: Session, script: Script, **kw: Any) -> tuple[FetchResult, ScriptedHttp]:
    http = ScriptedHttp(script)
    result = fetch_feeds(session=session, http=http, urls=list(script), now=NOW, **kw)
    return result, http


def by_title(result: FetchResult) -> dict[str, ArticleRecord]:
    return {a.title: a for a in result.articles}


def from_file(name: str) -> FetchResult:
    return records_from_feed(parse_feed(fixture(name)), f"offline:{name}")


# ----------------------------------------------------------------------- mapping

JIG = "https://journals.example.org/jig/feed/rss"


def test_rss2_journal_feed(session: Session) -> None:
    result, _ = fetch(session, {JIG: [ok(fixture("journal-rss2.rss"))]})
    assert result.problems == [] and result.requests == 1
    # Five items, one of them a repeat: four records.
    assert len(result.articles) == 4
    fodmap_advice, fodmap, vitamin_d, retracted = result.articles
    # The same paper as PMID 39100001 in tests/fixtures/pubmed (matched by DOI).
    assert fodmap_advice.doi == "10.5555/jig.2025.0101" and fodmap_advice.pmid is None
    assert fodmap_advice.authors[2] == "Péter E. Varga"
    assert fodmap.title == (
        "Low-FODMAP diet & Lactobacillus plantarum 299v in irritable bowel syndrome: "
        "a randomised controlled trial"
    )
    assert fodmap.source == f"feed:{JIG}"
    assert fodmap.doi == "10.5555/jig.2024.0412"
    assert fodmap.journal == "Journal of Integrative Gastroenterology"
    # 00:30 at +02:00 is 2 June in UTC; the date as printed is kept.
    assert fodmap.pub_date == date(2024, 6, 3)
    assert fodmap.pub_date_text == "June 2024"
    assert fodmap.authors == ["Miriam Hartwell", "Oluwaseun Adeyemi", "Henrik Lindqvist"]
    assert fodmap.keywords == ["Irritable bowel syndrome", "Probiotics"]
    assert fodmap.url == "https://journals.example.org/jig/doi/10.5555/jig.2024.0412"
    [section] = fodmap.abstract_sections
    assert section.label is None
    assert section.text.split("\n")[0].startswith("Background: Diet and probiotics")
    assert "112 ± 64 points" in section.text and "(p = 0.002)" in section.text
    assert "<" not in section.text and "&" not in section.text

    assert vitamin_d.title == "Vitamin D3 and fatigue in fibromyalgia \u2013 a 6-month cohort"
    assert vitamin_d.doi == "10.5555/jig.2024.0398"  # from "doi:10.5555/JIG.2024.0398"
    assert "50 µg daily" in vitamin_d.abstract
    assert retracted.is_retracted and not fodmap.is_retracted


def test_atom_feed(session: Session) -> None:
    url = "https://amrl.example.org/feeds/online-first.atom"
    result, _ = fetch(
        session, {url: [ok(fixture("acupuncture-atom.atom"), "application/atom+xml")]}
    )
    assert result.problems == []
    migraine, fibro, insomnia = result.articles
    assert migraine.title == (
        "Acupuncture for episodic migraine prophylaxis: a pragmatic multicentre trial"
    )
    assert migraine.doi == "10.5555/amrl.2024.117"  # from the doi.org id
    assert migraine.url == "https://amrl.example.org/articles/2024/117"  # relative link resolved
    assert migraine.pub_date == date(2024, 5, 28)  # published, not updated
    assert migraine.authors == ["Wen-Li Zhou", "Rhiannon Pryce", "Mateus Carvalho"]
    assert migraine.abstract == (
        "Twelve sessions of acupuncture over 8 weeks reduced monthly migraine days by 3.1 "
        "versus 1.4 with usual care.\nBenefits persisted at 24 weeks."
    )
    assert fibro.doi == "10.5555/amrl.2024.121"  # from a /doi/full/ link
    assert fibro.abstract.startswith("Electroacupuncture at 2/100 Hz was compared")  # xhtml
    assert insomnia.title == "Auricular acupressure for insomnia in perimenopause"
    assert insomnia.doi is None and insomnia.pub_date == date(2024, 5, 15)
    assert {a.journal for a in result.articles} == {"Acupuncture and Meridian Research Letters"}


def test_rss1_rdf_feed() -> None:
    result = from_file("sleep-rss1.xml")
    assert result.problems == []
    cbt, magnesium = result.articles
    assert cbt.doi == "10.5555/msmr.2024.0033"
    assert cbt.pub_date == date(2024, 5, 1)
    assert cbt.journal == "Menopause and Sleep Medicine Review"  # prism, not the feed title
    assert cbt.authors == ["Annika Virtanen", "Grace Oyelaran"]
    assert magnesium.doi == "10.5555/msmr.2024.0041"  # from the link's /doi/ path
    assert magnesium.pub_date == date(2024, 5, 1)  # +10:00 would be 30 April in UTC
    assert magnesium.authors == ["Beatriz Fonseca", "Luca Moretti"]
    assert magnesium.abstract == "An 8-week placebo-controlled pilot in 64 women."


def test_pubmed_rss_feed() -> None:
    result = from_file("pubmed-search.xml")
    assert result.problems == []
    peppermint, acupuncture, pathways = result.articles
    assert peppermint.pmid == "39201847" and peppermint.doi == "10.5555/nim.14822"
    # The search's own title is not a journal; dc:source is.
    assert peppermint.journal == "Neurogastroenterology and integrative medicine"
    assert peppermint.url == "https://pubmed.ncbi.nlm.nih.gov/39201847/"  # no tracking
    assert peppermint.authors == ["Okonkwo-Baptiste A", "Lindgren E", "Varga T"]
    assert peppermint.pub_date == date(2024, 11, 3)
    lines = peppermint.abstract.split("\n")
    assert lines[0] == (
        "BACKGROUND: Peppermint oil relaxes intestinal smooth muscle and is widely used for IBS."
    )
    assert lines[-1] == "CONCLUSIONS: Peppermint oil modestly reduced abdominal pain."
    assert len(lines) == 4  # no citation line, ABSTRACT heading or PMID/DOI trailer
    # The same paper as PMID 39100002 in tests/fixtures/pubmed; its DOI is only in the trailer.
    assert acupuncture.pmid == "39100002"
    assert acupuncture.doi == "10.5555/hcm.2024.1133"
    assert pathways.doi is None
    assert pathways.abstract_sections == []  # "No abstract available." is not an abstract


def test_missing_dates_and_ids() -> None:
    result = from_file("missing-dates-ids.rss")
    diet, fermented, omega = result.articles
    # Same title as PMID 39100011 in tests/fixtures/pubmed: only the title can match them.
    assert (
        omega.title == "Omega-3 fatty acids and depressive symptoms in adults: an umbrella review"
    )
    assert [a.pub_date for a in result.articles] == [None, None, None]
    assert diet.authors == ["Priya Raman", "Tomasz Nowicki", "Elena Sato"]
    assert fermented.url is None and fermented.doi is None and fermented.pmid is None
    assert fermented.journal == "Integrative Nutrition Bulletin"
    assert omega.authors == ["Halloran, B"]  # one person, "Family, Initial"
    assert [(p.item, p.reason) for p in result.problems] == [
        ("entry 3", "entry has neither a title nor an id"),
        ("inb-2024-untitled-17", "entry has no title"),
    ]


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("Omega-3 &amp; <i>mood</i>", "Omega-3 & mood"),
        ("Vitamin B<sub>12</sub> &lt; 200&nbsp;pmol/L", "Vitamin B12 < 200 pmol/L"),
        ("p < 0.05 in <b>both</b> arms", "p < 0.05 in both arms"),
        ("Caf&eacute; &#8220;latte&#8221; &ndash; a trial", "Café “latte” \u2013 a trial"),
        ("<script>alert(1)</script>Sleep\n\n  and   mood", "Sleep and mood"),
        ("Sleep\x00 and\x85mood", "Sleep and mood"),  # PostgreSQL refuses NUL in text
    ],
)
def test_html_to_text(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


def test_html_paragraphs_kept_as_lines() -> None:
    assert html_to_text("<p>One.</p><p>Two<br>three.</p>", paragraphs=True) == "One.\nTwo\nthree."


def test_windows_1252_feed() -> None:
    result = from_file("windows-1252.rss")
    assert result.problems == []
    coffee, acupuncture = result.articles
    assert coffee.title == "Café, “caffeine withdrawal” and migraine \u2013 a prospective cohort"
    assert coffee.authors == ["María José García-López", "Jürgen Müller"]
    assert "1.8 ± 0.6" in coffee.abstract and "Córdoba" in coffee.abstract
    assert coffee.journal == "Revista Ibérica de Medicina Integrativa"
    assert acupuncture.authors == ["Søren Ødegård"] and "25 µg" in acupuncture.abstract


def test_windows_1252_feed_served_as_utf8(session: Session) -> None:
    url = "https://rimi.example.es/rss"
    body = fixture("windows-1252.rss")
    result, _ = fetch(session, {url: [ok(body, "application/rss+xml; charset=utf-8")]})
    assert [a.authors[0] for a in result.articles] == ["María José García-López", "Søren Ødegård"]
    [problem] = result.problems  # kept, with the encoding mix-up noted
    assert problem.source == f"feed:{url}" and "windows-1252" in problem.reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (bytes(range(256)) * 8, "not a readable feed ("),  # bytes no encoding makes sense of
        (b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><ite', "malformed"),
        (b"", "empty document, not a feed"),
        (b'<?xml version="1.0"?><svg width="1"/>', "not a feed (another kind of document)"),
    ],
)
def test_unreadable_body_is_one_problem(session: Session, body: bytes, reason: str) -> None:
    url = "https://broken.example.org/feed"
    result, _ = fetch(session, {url: [ok(body)]})
    assert result.articles == []
    [problem] = result.problems
    assert problem.source == f"feed:{url}" and problem.reason.startswith(reason)
    state = session.get(FeedState, url)
    assert state is not None and state.last_error == problem.reason and state.etag is None


def test_truncated_feed_keeps_what_it_read(session: Session) -> None:
    url = "https://jmbm.example.org/rss"
    result, _ = fetch(session, {url: [ok(fixture("truncated.xml"))]})
    assert [a.doi for a in result.articles] == ["10.5555/jmbm.2024.0058", "10.5555/jmbm.2024.0061"]
    [problem] = result.problems
    assert "2 entries kept" in problem.reason and "line 22" in problem.reason
    state = session.get(FeedState, url)
    assert state is not None and state.last_status == 200
    assert state.last_error == problem.reason


def test_duplicate_entries_are_one_record() -> None:
    item = (
        "<item><title>Ginger for nausea</title><guid>g-1</guid>"
        "<link>https://j.example/1</link></item>"
    )
    other = "<item><title>Ginger for nausea in pregnancy</title><guid>g-2</guid></item>"
    body = f'<rss version="2.0"><channel><title>J</title>{item}{item}{other}</channel></rss>'
    result = records_from_feed(parse_feed(body.encode()), "offline:x")
    assert [a.title for a in result.articles] == [
        "Ginger for nausea",
        "Ginger for nausea in pregnancy",
    ]


@pytest.mark.parametrize(
    ("value", "doi"),
    [
        ("doi:10.5555/x", "10.5555/x"),
        ("https://doi.org/10.5555/X", "10.5555/x"),
        ("http://dx.doi.org/10.5555%2FABC.12", "10.5555/abc.12"),
        ("info:doi/10.5555/jig.2024.0412", "10.5555/jig.2024.0412"),
        ("urn:doi:10.5555/ABC", "10.5555/abc"),
        ("DOI: 10.5555/abc.", "10.5555/abc"),
        ("10.5555/S0140-6736(24)00123-4", "10.5555/s0140-6736(24)00123-4"),
        ("https://journals.example.org/doi/full/10.5555/jim.2024.1?af=R", "10.5555/jim.2024.1"),
        ("https://journals.example.org/jig/doi/10.5555/jig.2024.0412", "10.5555/jig.2024.0412"),
        ("https://journals.example.org/article/123", None),
        ("pubmed:39123456", None),
        ("", None),
        (None, None),
    ],
)
def test_extract_doi(value: str | None, doi: str | None) -> None:
    assert extract_doi(value) == doi


@pytest.mark.parametrize(
    ("value", "pmid"),
    [
        ("https://pubmed.ncbi.nlm.nih.gov/39123456/", "39123456"),
        ("https://pubmed.ncbi.nlm.nih.gov/39123456/?utm_source=Other&utm_medium=rss", "39123456"),
        ("https://www.ncbi.nlm.nih.gov/pubmed/39123456", "39123456"),
        ("https://pubmed.ncbi.nlm.nih.gov/?term=39123456", "39123456"),
        ("https://www.ncbi.nlm.nih.gov/pubmed/?term=39123456%5Buid%5D", "39123456"),
        ("pubmed:39123456", "39123456"),
        ("pmid:39123456", "39123456"),
        ("PMID: 39123456", "39123456"),
        ("info:pmid/39123456", "39123456"),
        ("https://pubmed.ncbi.nlm.nih.gov/?term=acupuncture+migraine", None),
        ("https://journals.example.org/39123456/", None),
        ("doi:10.5555/x", None),
        (None, None),
    ],
)
def test_extract_pmid(value: str | None, pmid: str | None) -> None:
    assert extract_pmid(value) == pmid


def test_guid_pmid_in_an_ordinary_feed() -> None:
    body = (
        b'<rss version="2.0"><channel><title>Digest</title><item><title>Sleep and pain</title>'
        b'<guid isPermaLink="false">pubmed:39123456</guid></item></channel></rss>'
    )
    [record] = records_from_feed(parse_feed(body), "offline:x").articles
    assert record.pmid == "39123456"


# ------------------------------------------------------------- fetching and state


def test_conditional_get(session: Session) -> None:
    etag, modified = '"jig-5f2a"', "Tue, 04 Jun 2024 05:00:00 GMT"
    first = ok(fixture("journal-rss2.rss"), ETag=etag, **{"Last-Modified": modified})
    later = datetime(2024, 6, 5, 6, 0, tzinfo=UTC)
    script: Script = {JIG: [first, HttpResponse(304, {"ETag": etag}, b"", JIG)]}
    http = ScriptedHttp(script)
    fetch_feeds(session=session, http=http, urls=[JIG], now=NOW)
    assert "If-None-Match" not in http.calls[0].headers
    again = fetch_feeds(session=session, http=http, urls=[JIG], now=later)
    sent = http.calls[1].headers
    assert sent["If-None-Match"] == etag and sent["If-Modified-Since"] == modified
    assert again.articles == [] and again.problems == [] and again.requests == 1
    session.expire_all()
    state = session.get(FeedState, JIG)
    assert state is not None
    assert (state.last_status, state.last_fetched_at, state.last_error) == (304, later, None)
    assert (state.etag, state.last_modified, state.entries_seen) == (etag, modified, 5)


def test_failing_feeds_do_not_stop_the_others(session: Session) -> None:
    hang, error, page = (
        "https://slow.example.org/rss",
        "https://down.example.org/rss",
        "https://moved.example.org/rss",
    )
    atom = "https://amrl.example.org/feeds/online-first.atom"
    script: Script = {
        hang: [TransportError("slow.example.org: no response within 20 s")],
        JIG: [ok(fixture("journal-rss2.rss"))],
        error: [HttpResponse(500, {"Content-Type": "text/html"}, b"<h1>Oops</h1>", error)],
        page: [ok(fixture("error-page.html"), "text/html; charset=utf-8")],
        atom: [ok(fixture("acupuncture-atom.atom"))],
    }
    result, http = fetch(session, script, timeout=7.5)
    assert len(result.articles) == 7  # 4 + 3, all of both good feeds
    assert {a.source for a in result.articles} == {f"feed:{JIG}", f"feed:{atom}"}
    reasons = {p.source: p.reason for p in result.problems}
    assert len(result.problems) == 3
    assert reasons == {
        f"feed:{hang}": "no response (slow.example.org: no response within 20 s)",
        f"feed:{error}": "HTTP 500 Internal Server Error",
        f"feed:{page}": "an HTML page, not a feed",
    }
    assert all("\n" not in p.reason for p in result.problems)
    assert result.requests == 5
    assert [c.timeout for c in http.calls] == [7.5] * 5  # every request had a timeout
    session.expire_all()
    states = {s.url: s for s in session.exec(select(FeedState)).all()}
    assert {u: (s.last_status, s.last_error) for u, s in states.items()} == {
        hang: (None, reasons[f"feed:{hang}"]),
        JIG: (200, None),
        error: (500, "HTTP 500 Internal Server Error"),
        page: (200, "an HTML page, not a feed"),
        atom: (200, None),
    }


def test_a_failure_keeps_the_stored_validators(session: Session) -> None:
    script: Script = {
        JIG: [
            ok(fixture("journal-rss2.rss"), ETag='"v1"'),
            HttpResponse(503, {}, b"", JIG),
            HttpResponse(304, {}, b"", JIG),
        ]
    }
    http = ScriptedHttp(script)
    for _ in range(3):
        fetch_feeds(session=session, http=http, urls=[JIG], now=NOW)
    assert [c.headers.get("If-None-Match") for c in http.calls] == [None, '"v1"', '"v1"']
    state = session.get(FeedState, JIG)
    assert state is not None and state.last_error is None and state.last_status == 304


def test_state_is_flushed_not_committed(session: Session) -> None:
    fetch(session, {JIG: [ok(fixture("journal-rss2.rss"))]})
    assert session.exec(select(FeedState)).one().url == JIG  # visible in this transaction
    session.rollback()
    assert session.exec(select(FeedState)).all() == []


def test_each_url_fetched_once_and_bad_urls_not_fetched(session: Session) -> None:
    http = ScriptedHttp({JIG: [ok(fixture("journal-rss2.rss"))]})
    result = fetch_feeds(
        session=session, http=http, urls=[JIG, f" {JIG} ", "file:///etc/passwd"], now=NOW
    )
    assert len(http.calls) == 1 and len(result.articles) == 4
    [problem] = result.problems
    assert problem.source == "feed:file:///etc/passwd" and "http(s)" in problem.reason


def test_feedparser_never_opens_a_body_as_a_file(session: Session, tmp_path: Path) -> None:
    # feedparser tries bare bytes as a file name; a hostile body must not read local files.
    local = tmp_path / "local.rss"
    local.write_bytes(fixture("journal-rss2.rss"))
    url = "https://evil.example.org/rss"
    result, _ = fetch(session, {url: [ok(str(local).encode())]})
    assert result.articles == [] and len(result.problems) == 1
