"""PubMed through NCBI E-utilities: ESearch on the history server, EFetch in batches.

Every request goes through the shared NCBI rate limiter, carries a timeout, and is retried
with exponential backoff on HTTP 429, 5xx and transport errors (Retry-After honoured). A
request that still fails becomes a `SourceProblem` naming the request, never the API key,
so one bad topic or batch never stops a refresh.
"""

from __future__ import annotations

import email.utils
import io
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from Bio.Entrez.Parser import DataHandler

from tools.literature.sources.harvest import FetchResult, SourceProblem
from tools.literature.sources.http import HttpClient, HttpResponse, TransportError
from tools.literature.sources.pubmed_xml import looks_like_html, parse_pubmed_xml
from tools.literature.sources.ratelimit import RateLimiter, for_ncbi

EUTILS = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
ESEARCH_URL = EUTILS + "esearch.fcgi"
EFETCH_URL = EUTILS + "efetch.fcgi"
MAX_BATCH = 200  # NCBI's advice for EFetch batch sizes
SOURCE = "pubmed"


@dataclass
class SearchResult:
    count: int
    webenv: str
    query_key: str
    ids: list[str]
    term: str = ""
    problems: list[SourceProblem] = field(default_factory=list)
    requests: int = 0


@dataclass
class _Reply:
    response: HttpResponse | None
    problem: SourceProblem | None
    requests: int


class _UnknownDefinition(Exception):
    pass


class _OfflineDataHandler(DataHandler):
    """Bio.Entrez's parser (what `Entrez.read` builds) limited to the DTDs/XSDs bundled
    with Biopython. The stock handler downloads any definition it lacks from inside the
    parser: a call to NCBI outside the rate limiter, and a hang when offline."""

    def open_dtd_file(self, filename: str) -> Any:
        handle = super().open_dtd_file(filename)
        if handle is None:
            raise _UnknownDefinition(f"DTD {filename} is not bundled with Biopython")
        return handle

    def open_xsd_file(self, filename: str) -> Any:
        handle = super().open_xsd_file(filename)
        if handle is None:
            raise _UnknownDefinition(f"schema {filename} is not bundled with Biopython")
        return handle


def read_entrez_xml(body: bytes) -> Any:
    """`Bio.Entrez.read` on bytes, offline; errors in the document are kept, not raised."""
    return _OfflineDataHandler(validate=True, escape=False, ignore_errors=True).read(
        io.BytesIO(body)
    )


class PubMedClient:
    def __init__(
        self,
        *,
        http: HttpClient,
        email: str,
        tool: str = "steve",
        api_key: str | None = None,
        limiter: RateLimiter | None = None,
        timeout: float = 20.0,
        max_retries: int = 4,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        max_retry_after: float = 120.0,
    ) -> None:
        self.http = http
        self.email = email
        self.tool = tool
        self.api_key = api_key or None
        self.limiter = limiter if limiter is not None else for_ncbi(api_key)
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.backoff = backoff
        self.sleep = sleep
        self.max_retry_after = max_retry_after  # a longer Retry-After is cut to this
        self.requests = 0  # HTTP requests over this client's life, retries included
        self._count_lock = threading.Lock()

    # ------------------------------------------------------------------ operations

    def search(
        self,
        term: str,
        *,
        mindate: date | None = None,
        maxdate: date | None = None,
        retmax: int = 10000,
    ) -> SearchResult:
        """ESearch with usehistory=y; dates filter on the Entrez date (when PubMed added it)."""
        params = {"term": term, "usehistory": "y", "retmode": "xml", "retmax": str(retmax)}
        what = f"esearch {term!r}"
        if mindate or maxdate:
            # NCBI ignores one date without the other, so an open end gets a far bound.
            low, high = mindate or date(1800, 1, 1), maxdate or date(2999, 12, 31)
            params.update(
                datetype="edat", mindate=low.strftime("%Y/%m/%d"), maxdate=high.strftime("%Y/%m/%d")
            )
            what += f" {low.isoformat()}..{high.isoformat()}"
        reply = self._get(ESEARCH_URL, params, what)
        result = SearchResult(count=0, webenv="", query_key="", ids=[], term=term)
        result.requests = reply.requests
        if reply.problem or reply.response is None:
            result.problems.extend([reply.problem] if reply.problem else [])
            return result
        response = reply.response
        if looks_like_html(response.body):
            result.problems.append(self._problem(what, _html_reason(response)))
            return result
        try:
            parsed = read_entrez_xml(response.body)
        except Exception as exc:  # Bio.Entrez raises several unrelated types for bad input
            reason = f"unreadable ESearch XML ({type(exc).__name__}: {_one_line(exc)})"
            result.problems.append(self._problem(what, reason))
            return result
        if not isinstance(parsed, dict) or not str(parsed.get("Count", "")).isdigit():
            reason = f"NCBI error: {parsed['ERROR']}" if "ERROR" in parsed else "no Count"
            result.problems.append(self._problem(what, _one_line(reason)))
            return result
        result.count = int(parsed["Count"])
        result.webenv = str(parsed.get("WebEnv", ""))
        result.query_key = str(parsed.get("QueryKey", ""))
        result.ids = [str(i) for i in parsed.get("IdList", [])]
        for kind, values in (parsed.get("ErrorList") or {}).items():
            if values:  # part of the query was ignored: the topic needs fixing
                joined = ", ".join(str(v) for v in values)
                result.problems.append(self._problem(what, f"NCBI {kind}: {joined}"))
        if result.count and not (result.webenv and result.query_key):
            result.problems.append(self._problem(what, "no WebEnv/QueryKey in ESearch reply"))
            result.count = 0
        return result

    def fetch(self, search: SearchResult, *, batch_size: int = MAX_BATCH) -> FetchResult:
        """EFetch every hit of `search` from the history server, `batch_size` (≤200) at a time."""
        result = FetchResult()
        if not (search.count and search.webenv and search.query_key):
            return result
        size = max(1, min(batch_size, MAX_BATCH))
        for retstart in range(0, search.count, size):
            params = {
                "query_key": search.query_key,
                "WebEnv": search.webenv,
                "retstart": str(retstart),
                "retmax": str(size),
                "retmode": "xml",
                "rettype": "abstract",
            }
            what = f"efetch {search.term!r} retstart={retstart} retmax={size}"
            result.extend(self._fetch_batch(params, what))
        return result

    def fetch_ids(self, pmids: Sequence[str], *, batch_size: int = MAX_BATCH) -> FetchResult:
        """EFetch these PMIDs (GET with an id list), `batch_size` (≤200) per request."""
        result = FetchResult()
        ids: list[str] = []
        for raw in pmids:
            pmid = str(raw).strip()
            if not pmid.isdigit():
                result.problems.append(SourceProblem(SOURCE, pmid or None, "not a PMID; skipped"))
            elif pmid not in ids:
                ids.append(pmid)
        size = max(1, min(batch_size, MAX_BATCH))
        for start in range(0, len(ids), size):
            batch = ids[start : start + size]
            params = {"id": ",".join(batch), "retmode": "xml", "rettype": "abstract"}
            what = f"efetch ids {batch[0]}..{batch[-1]} ({len(batch)} ids)"
            result.extend(self._fetch_batch(params, what))
        return result

    def weekly_refresh(self, queries: Sequence[str], *, since: date, until: date) -> FetchResult:
        """Search and fetch each query for articles added since..until; each PMID once
        (the first query that found it), `requests` = every HTTP request made."""
        total = FetchResult()
        seen: set[str | None] = set()
        for query in queries:
            search = self.search(query, mindate=since, maxdate=until)
            total.problems.extend(search.problems)
            total.requests += search.requests
            batch = self.fetch(search)
            total.problems.extend(batch.problems)
            total.requests += batch.requests
            for article in batch.articles:
                if article.pmid not in seen:
                    seen.add(article.pmid)
                    total.articles.append(article)
        return total

    # ------------------------------------------------------------------ plumbing

    def _fetch_batch(self, params: dict[str, str], what: str) -> FetchResult:
        reply = self._get(EFETCH_URL, params, what)
        result = FetchResult(requests=reply.requests)
        if reply.problem or reply.response is None:
            result.problems.extend([reply.problem] if reply.problem else [])
            return result
        if looks_like_html(reply.response.body):
            result.problems.append(self._problem(what, _html_reason(reply.response)))
            return result
        parsed = parse_pubmed_xml(reply.response.body, source=SOURCE, where=f"{SOURCE} {what}")
        result.articles = parsed.articles
        result.problems = [self._scrub_problem(p) for p in parsed.problems]
        return result

    def _get(self, url: str, params: Mapping[str, str], what: str) -> _Reply:
        """One logical request: rate-limited tries until a 2xx, a non-retryable status, or
        the last retry; anything but a 2xx comes back as a problem."""
        query = {"db": "pubmed", **params, "tool": self.tool, "email": self.email}
        if self.api_key:
            query["api_key"] = self.api_key
        tries = self.max_retries + 1
        reason = "no request made"
        for attempt in range(tries):
            self.limiter.acquire()
            with self._count_lock:
                self.requests += 1
            retry_after: float | None = None
            try:
                response = self.http.get(url, params=query, timeout=self.timeout)
            except TransportError as exc:
                reason = str(exc)
            else:
                if response.ok:
                    return _Reply(response, None, attempt + 1)
                if response.status != 429 and response.status < 500:
                    return _Reply(None, self._problem(what, _status_reason(response)), attempt + 1)
                reason = _status_reason(response)
                retry_after = _retry_after(response.headers.get("Retry-After"))
            if attempt + 1 < tries:
                delay = self.backoff * 2**attempt if retry_after is None else retry_after
                self.sleep(min(delay, self.max_retry_after))
        return _Reply(None, self._problem(what, f"{reason} (after {tries} tries)"), tries)

    def _problem(self, what: str, reason: str) -> SourceProblem:
        """A failed request: the request is the source (as a feed URL would be)."""
        return self._scrub_problem(SourceProblem(f"{SOURCE} {what}", None, reason))

    def _scrub_problem(self, problem: SourceProblem) -> SourceProblem:
        """The API key is a secret: never let it into a problem (they are shown and logged)."""
        if not self.api_key:
            return problem
        key = self.api_key
        return SourceProblem(
            source=problem.source.replace(key, "***"),
            item=problem.item.replace(key, "***") if problem.item else problem.item,
            reason=problem.reason.replace(key, "***"),
        )


def _one_line(text: object, limit: int = 200) -> str:
    return " ".join(str(text).split())[:limit]


def _status_reason(response: HttpResponse) -> str:
    if looks_like_html(response.body):
        return _html_reason(response)
    snippet = _one_line(response.body[:160].decode("utf-8", errors="replace"))
    return f"HTTP {response.status}" + (f": {snippet}" if snippet else "")


def _html_reason(response: HttpResponse) -> str:
    return f"expected XML, got HTML (status {response.status})"


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
