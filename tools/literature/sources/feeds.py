"""Journal RSS/Atom/RDF feeds: conditional GET, parsing, and mapping entries to ArticleRecords.

feedparser only ever sees bytes we fetched ourselves, so it never opens a URL or a file. One
failing feed becomes one SourceProblem and never stops the others; FeedState keeps the
validators (ETag, Last-Modified) and how the last fetch went. Entry text is data, never
instructions.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from http.client import responses
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from sqlmodel import Session

from db.engine import as_utc, utcnow
from db.models.literature import FeedState
from tools.literature.sources.feed_text import (
    _PUBMED_TRAILER,
    _first,
    _one_line,
    _text,
    extract_doi,
    extract_pmid,
    html_to_text,
)
from tools.literature.sources.harvest import (
    AbstractSection,
    ArticleRecord,
    FetchResult,
    SourceProblem,
)
from tools.literature.sources.http import HttpClient, TransportError
from tools.literature.sources.pubmed_xml import looks_like_html

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)
# FeedState column sizes.
_MAX_URL, _MAX_ETAG, _MAX_LAST_MODIFIED, _MAX_ERROR = 1000, 500, 100, 500

# ------------------------------------------------------------------------------ dates


def _date_from_text(raw: Any) -> date | None:
    """The calendar date as printed, in the feed's own zone (feedparser shifts it to UTC)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    for parse in (datetime.fromisoformat, parsedate_to_datetime):
        try:
            return parse(raw.strip()).date()
        except (TypeError, ValueError, IndexError):
            continue
    return None


def _entry_date(entry: dict[str, Any]) -> date | None:
    # feedparser files dc:date under "updated"; in RSS it is the publication date. Plain
    # dict.get: FeedParserDict maps a missing "updated" to "published" with a warning.
    for key in ("published", "updated", "created", "prism_publicationdate", "prism_coverdate"):
        if found := _date_from_text(dict.get(entry, key)):
            return found
        parsed = dict.get(entry, f"{key}_parsed")
        if isinstance(parsed, time.struct_time):
            try:
                return date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday)
            except ValueError:
                continue
    return None


# ------------------------------------------------------------------------ documents


def parse_feed(
    data: bytes, *, headers: Mapping[str, str] | None = None, base_url: str | None = None
) -> Any:
    """feedparser over bytes only, through a stream: feedparser fetches a str as a URL and
    tries bare bytes as a local file name first (a body of b"/etc/passwd" would be read)."""
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    if base_url:
        response_headers.setdefault("content-location", base_url)
    parsed = feedparser.parse(io.BytesIO(bytes(data)), response_headers=response_headers)
    # feedparser reports an HTML page like any non-feed; unreadable_reason wants to say so.
    parsed["steve_html"] = looks_like_html(data)
    return parsed


def _parse_error(parsed: Any) -> str:
    exc = parsed.get("bozo_exception")
    if hasattr(exc, "getLineNumber"):  # SAXParseException: say where, without "<unknown>:"
        return f"{exc.getMessage()} at line {exc.getLineNumber()}, column {exc.getColumnNumber()}"
    return _one_line(exc, 200)


def unreadable_reason(parsed: Any) -> str | None:
    """Why a parsed document is not a usable feed, or None when it is one (maybe empty)."""
    if parsed.get("entries") or (parsed.get("version") and not parsed.get("bozo")):
        return None  # entries, or a well-formed feed that is empty today
    if parsed.get("version"):
        return f"malformed feed, no entries ({_parse_error(parsed)})"
    if parsed.get("version") is None:
        return "empty document, not a feed"
    if parsed.get("steve_html"):
        return "an HTML page, not a feed"
    if parsed.get("bozo"):
        return f"not a readable feed ({_parse_error(parsed)})"
    return "not a feed (another kind of document)"


# ---------------------------------------------------------------------------- entries


def _is_pubmed_feed(feed: Mapping[str, Any]) -> bool:
    return (
        "PubMed" in str(feed.get("generator") or "")
        or "pubmed.ncbi.nlm.nih.gov" in str(feed.get("link") or "")
        or str(feed.get("title") or "").endswith("- PubMed")
    )


_CITATION = re.compile(r"^[^\n]{1,300}?\.\s(?:19|20)\d\d\b")
_RETRACTED = re.compile(r"^\s*(?:retracted(?: article)?|withdrawn)\s*:", re.I)


def _pubmed_abstract(text: str) -> str:
    """PubMed RSS: only the abstract, without the citation line, headings and PMID trailer."""
    lines = text.split("\n")
    if len(lines) > 1 and _CITATION.match(lines[0]):
        lines = lines[1:]
    drop = ("ABSTRACT", "NO ABSTRACT AVAILABLE.")
    kept = [s for s in lines if s.upper() not in drop and not s.upper().startswith("PMID:")]
    return "\n".join(kept)


def _authors(entry: Mapping[str, Any]) -> list[str]:
    names = [str(a.get("name") or "") for a in entry.get("authors") or []]
    if not any(names) and entry.get("author"):
        names = [str(entry["author"])]
    out: list[str] = []
    for name in (html_to_text(n) for n in names):
        # "A Smith, B Jones and C Lee" in one field is three people; "Smith, J" is one.
        parts = [p.strip() for p in re.split(r";|,|\band\b", name) if p.strip()]
        out.extend(parts if len(parts) > 1 and all(" " in p for p in parts) else [name])
    return list(dict.fromkeys(n for n in out if n))


def _abstract(entry: Mapping[str, Any]) -> str:
    summary = _text(entry.get("summary_detail"), entry.get("summary"), paragraphs=True)
    for content in entry.get("content") or []:
        summary = summary or _text(content, content.get("value"), paragraphs=True)
    return summary


def _record(
    entry: dict[str, Any], *, source: str, journal: str | None, base: str | None, pubmed: bool
) -> ArticleRecord | str:
    """One entry -> an ArticleRecord, or the one-line reason it was skipped."""
    title = _text(entry.get("title_detail"), entry.get("title"))
    entry_id = str(entry.get("id") or "").strip() or None
    if not title:
        return "entry has no title" if entry_id else "entry has neither a title nor an id"
    hrefs = [entry.get("link")] + [link.get("href") for link in entry.get("links") or []]
    links = [urljoin(base or "", str(h)) for h in dict.fromkeys(hrefs) if h]
    abstract = _abstract(entry)
    trailer = None
    if pubmed:
        abstract = _pubmed_abstract(abstract)
        trailer = _PUBMED_TRAILER.search(html_to_text(str(entry.get("summary") or "")))
    identifier = entry.get("dc_identifier")
    doi = _first([entry.get("prism_doi"), identifier, entry_id, *links], extract_doi)
    pmid = _first([entry_id, identifier, *links], extract_pmid)
    if trailer:
        pmid = pmid or trailer.group(1)
        doi = doi or extract_doi(trailer.group(2))
    own_journal = str(entry.get("prism_publicationname") or entry.get("dc_source") or "")
    if own_journal and not own_journal.startswith(("http://", "https://")):
        journal = html_to_text(own_journal) or journal
    url = f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pubmed and pmid else None
    url = url or next((h for h in links if h.startswith(("http://", "https://"))), None)
    if not url and entry.get("guidislink") and entry_id:
        url = entry_id
    return ArticleRecord(
        title=title,
        source=source,
        pmid=pmid,
        doi=doi,
        abstract_sections=[AbstractSection(label=None, text=abstract)] if abstract else [],
        journal=journal,
        pub_date=_entry_date(entry),
        pub_date_text=html_to_text(str(entry.get("prism_coverdisplaydate") or "")) or None,
        authors=_authors(entry),
        keywords=[
            k for t in entry.get("tags") or [] if (k := html_to_text(str(t.get("term") or "")))
        ],
        is_retracted=bool(_RETRACTED.match(title)),
        url=url,
    )


def _dedup_key(record: ArticleRecord, entry_id: str | None) -> str:
    # Strongest identifier only: some feeds give every entry the same homepage link.
    if record.pmid or record.doi:
        return f"pmid:{record.pmid}" if record.pmid else f"doi:{record.doi}"
    return f"id:{entry_id}" if entry_id else f"url:{record.url}|{record.title.casefold()}"


def records_from_feed(parsed: Any, source: str) -> FetchResult:
    """A parsed feed's entries as ArticleRecords; shared by live feeds and saved files.

    An unreadable document is one problem and no records; a malformed feed that still gave
    entries keeps them and notes the parse issue; duplicate entries become one record.
    """
    result = FetchResult()
    if reason := unreadable_reason(parsed):
        result.problems.append(SourceProblem(source, None, reason))
        return result
    entries = list(parsed.get("entries") or [])
    if parsed.get("bozo"):
        if not entries[-1].get("title") and not entries[-1].get("id"):
            entries = entries[:-1]  # the fragment where a truncated feed was cut off
        note = f"feed read with problems, {len(entries)} entries kept ({_parse_error(parsed)})"
        result.problems.append(SourceProblem(source, None, note))
    feed = parsed.get("feed") or {}
    pubmed = _is_pubmed_feed(feed)
    # A PubMed search feed is named after the search, not after a journal.
    journal = None if pubmed else _text(feed.get("title_detail"), feed.get("title")) or None
    base = feed.get("link") or None
    seen: set[str] = set()
    for position, entry in enumerate(entries, start=1):
        entry_id = str(entry.get("id") or "").strip() or None
        made = _record(entry, source=source, journal=journal, base=base, pubmed=pubmed)
        if isinstance(made, str):
            result.problems.append(SourceProblem(source, entry_id or f"entry {position}", made))
        elif (key := _dedup_key(made, entry_id)) not in seen:
            seen.add(key)
            result.articles.append(made)
    return result


# ------------------------------------------------------------------------------ fetch


def _header(headers: Mapping[str, str], name: str, limit: int) -> str | None:
    value = next((v for k, v in headers.items() if k.lower() == name), None)
    # A truncated validator would never match, so one too long to store is not kept.
    return value if value and len(value) <= limit else None


def _fetch_one(
    session: Session, http: HttpClient, url: str, timeout: float, now: datetime
) -> FetchResult:
    source = f"feed:{url}"
    result = FetchResult()
    if urlsplit(url).scheme not in ("http", "https") or len(url) > _MAX_URL:
        why = f"not an http(s) URL of at most {_MAX_URL} characters"
        result.problems.append(SourceProblem(source, None, why))
        return result
    state = session.get(FeedState, url) or FeedState(url=url)
    session.add(state)

    def failed(reason: str) -> FetchResult:
        state.last_error = reason[:_MAX_ERROR]
        result.problems.append(SourceProblem(source, None, reason))
        return result

    headers = {"Accept": ACCEPT}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    state.last_fetched_at = now
    result.requests += 1
    try:
        response = http.get(url, headers=headers, timeout=timeout)
    except TransportError as exc:
        state.last_status = None
        return failed(f"no response ({_one_line(exc, 200)})")
    state.last_status = response.status
    if response.status == 304:
        state.last_error = None
        state.etag = _header(response.headers, "etag", _MAX_ETAG) or state.etag
        return result
    if not 200 <= response.status < 300:
        return failed(f"HTTP {response.status} {responses.get(response.status, '')}".strip())
    try:
        parsed = parse_feed(response.body, headers=response.headers, base_url=response.url)
        if reason := unreadable_reason(parsed):
            return failed(reason)
        records = records_from_feed(parsed, source)
    except Exception as exc:  # feed bytes are hostile input; one bad feed never stops the rest
        return failed(f"could not be read ({type(exc).__name__}: {_one_line(exc, 200)})")
    # Validators only from a feed we could read, so a broken one is fetched in full next time.
    state.etag = _header(response.headers, "etag", _MAX_ETAG)
    state.last_modified = _header(response.headers, "last-modified", _MAX_LAST_MODIFIED)
    feed_notes = [p.reason for p in records.problems if p.item is None]
    state.last_error = feed_notes[0][:_MAX_ERROR] if feed_notes else None
    state.entries_seen += len(parsed.get("entries") or [])
    result.extend(records)
    return result


def fetch_feeds(
    *,
    session: Session,
    http: HttpClient,
    urls: Sequence[str],
    timeout: float = 20.0,
    now: datetime | None = None,
) -> FetchResult:
    """Fetch each feed once (conditional GET) and map its entries; never raises for a feed.

    Each failing feed is one SourceProblem and the rest go on. FeedState rows are written in
    the caller's session and flushed, never committed. `entries_seen` counts entries over
    all successful fetches.
    """
    now = as_utc(now) if now else utcnow()
    result = FetchResult()
    for url in dict.fromkeys(u.strip() for u in urls if u and u.strip()):
        result.extend(_fetch_one(session, http, url, timeout, now))
        session.flush()
    return result
