"""PubMedClient against a scripted E-utilities server on a fake clock: no network at all."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from datetime import date

import Bio.Entrez.Parser
import pytest

from tests.support.http_fakes import (
    FakeClock,
    FakeHttpClient,
    Hang,
    Request,
    fixture,
    html_error,
    ok,
    status,
)
from tools.literature.sources.http import (
    Headers,
    HttpResponse,
    TransportError,
    UrllibClient,
    build_url,
)
from tools.literature.sources.pubmed import EFETCH_URL, ESEARCH_URL, PubMedClient, SearchResult
from tools.literature.sources.ratelimit import RateLimiter

API_KEY = "k3y-SECRET-0123456789abcdef"


def efetch_body(pmids: list[str]) -> bytes:
    articles = "".join(
        f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">{p}'
        '</PMID><Article PubModel="Print"><Journal><JournalIssue><PubDate><Year>2025</Year>'
        "</PubDate></JournalIssue><Title>Example Journal</Title></Journal><ArticleTitle>Trial "
        f"{p}.</ArticleTitle></Article></MedlineCitation></PubmedArticle>"
        for p in pmids
    )
    return f'<?xml version="1.0" ?>\n<PubmedArticleSet>{articles}</PubmedArticleSet>'.encode()


def history_server(total: int, first: int = 39300000):
    """EFetch from a history set of `total` PMIDs, honouring retstart/retmax."""

    def reply(request: Request) -> HttpResponse:
        start, size = int(request.params["retstart"]), int(request.params["retmax"])
        return ok(efetch_body([str(first + i) for i in range(start, min(start + size, total))]))

    return reply


def esearch_body(count: int, webenv: str = "MCID_test", ids: tuple[str, ...] = ()) -> bytes:
    id_xml = "".join(f"<Id>{i}</Id>" for i in ids)
    return (
        '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD '
        'esearch 20060628//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">'
        f"<eSearchResult><Count>{count}</Count><RetMax>{len(ids)}</RetMax><RetStart>0</RetStart>"
        f"<QueryKey>1</QueryKey><WebEnv>{webenv}</WebEnv><IdList>{id_xml}</IdList>"
        "<TranslationSet/><QueryTranslation>x</QueryTranslation></eSearchResult>"
    ).encode()


class Setup:
    def __init__(self, *, api_key: str | None = None, max_retries: int = 4) -> None:
        self.clock = FakeClock(start=0.0)
        self.http = FakeHttpClient(clock=self.clock)
        self.backoffs: list[float] = []
        rate = 10 if api_key else 3
        self.limiter = RateLimiter(max_requests=rate, clock=self.clock, sleep=self.clock.sleep)
        self.client = PubMedClient(
            http=self.http, email="team@example.org", api_key=api_key, limiter=self.limiter,
            max_retries=max_retries, sleep=self.backoff,
        )  # fmt: skip

    def backoff(self, seconds: float) -> None:
        self.backoffs.append(seconds)
        self.clock.advance(seconds)


@pytest.fixture
def env() -> Setup:
    return Setup()


def test_search_uses_history_dates_and_identifies_the_tool(env: Setup) -> None:
    env.http.script(ESEARCH_URL, ok(fixture("esearch_ibs.xml")))
    found = env.client.search(
        "irritable bowel syndrome", mindate=date(2025, 1, 1), maxdate=date(2025, 1, 7)
    )
    assert (found.count, found.webenv, found.query_key) == (
        450,
        "MCID_67a1b2c3d4e5f6a7b8c9d0e1",
        "1",
    )
    assert found.ids[:2] == ["39200450", "39200449"] and len(found.ids) == 20
    assert (found.problems, found.requests) == ([], 1)
    [request] = env.http.requests
    assert request.params == {
        "db": "pubmed", "term": "irritable bowel syndrome", "usehistory": "y", "retmode": "xml",
        "retmax": "10000", "datetype": "edat", "mindate": "2025/01/01", "maxdate": "2025/01/07",
        "tool": "steve", "email": "team@example.org",
    }  # fmt: skip
    assert request.timeout == 20.0


def test_search_sends_api_key_when_set() -> None:
    env = Setup(api_key=API_KEY)
    env.http.script(ESEARCH_URL, ok(esearch_body(0)))
    env.client.search("ginger nausea")
    assert env.http.requests[0].params["api_key"] == API_KEY
    assert "datetype" not in env.http.requests[0].params
    assert env.client.limiter.max_requests == 10


def test_one_open_date_gets_a_far_bound(env: Setup) -> None:
    env.http.script(ESEARCH_URL, ok(esearch_body(0)))
    env.client.search("tai chi", mindate=date(2025, 3, 1))
    assert env.http.requests[0].params["maxdate"] == "2999/12/31"


def test_fetch_in_batches_of_200_from_the_history_server(env: Setup) -> None:
    env.http.script(EFETCH_URL, history_server(450))
    search = SearchResult(count=450, webenv="MCID_abc", query_key="3", ids=[], term="ibs")
    result = env.client.fetch(search)
    assert [(r.params["retstart"], r.params["retmax"]) for r in env.http.requests] == [
        ("0", "200"), ("200", "200"), ("400", "200")
    ]  # fmt: skip
    for request in env.http.requests:
        assert request.params["WebEnv"] == "MCID_abc" and request.params["query_key"] == "3"
        assert (request.params["retmode"], request.params["rettype"]) == ("xml", "abstract")
    assert len(result.articles) == 450 and result.problems == []
    assert result.requests == 3


def test_batch_size_is_capped_at_200(env: Setup) -> None:
    env.http.script(EFETCH_URL, history_server(450))
    env.client.fetch(SearchResult(450, "w", "1", []), batch_size=1000)
    assert [r.params["retmax"] for r in env.http.requests] == ["200", "200", "200"]


def test_fetch_ids_batches_the_id_list(env: Setup) -> None:
    env.http.script(EFETCH_URL, lambda req: ok(efetch_body(req.params["id"].split(","))))
    pmids = [str(39400000 + i) for i in range(450)]
    result = env.client.fetch_ids([*pmids, pmids[0], "not-a-pmid"])
    assert [len(r.params["id"].split(",")) for r in env.http.requests] == [200, 200, 50]
    assert [a.pmid for a in result.articles] == pmids
    assert [(p.item, p.reason) for p in result.problems] == [("not-a-pmid", "not a PMID; skipped")]
    assert result.requests == 3


def test_retries_429_honouring_retry_after(env: Setup) -> None:
    env.http.script(ESEARCH_URL, status(429, b"", Retry_After="7"), ok(esearch_body(5)))
    found = env.client.search("acupuncture migraine")
    assert (found.count, found.problems, found.requests) == (5, [], 2)
    assert env.backoffs == [7.0]
    assert env.http.requests[1].at >= env.http.requests[0].at + 7


def test_retry_after_as_http_date_in_the_past_means_no_wait(env: Setup) -> None:
    env.http.script(
        ESEARCH_URL, status(429, Retry_After="Wed, 21 Oct 2015 07:28:00 GMT"), ok(esearch_body(1))
    )
    assert env.client.search("x").count == 1
    assert env.backoffs == [0.0]


def test_retries_5xx_with_exponential_backoff(env: Setup) -> None:
    env.http.script(ESEARCH_URL, status(500), status(502), status(503), ok(esearch_body(2)))
    found = env.client.search("magnesium fibromyalgia")
    assert (found.count, found.problems, found.requests) == (2, [], 4)
    assert env.backoffs == [1.0, 2.0, 4.0]


def test_gives_up_after_max_retries_without_leaking_the_key() -> None:
    env = Setup(api_key=API_KEY)
    env.http.script(ESEARCH_URL, status(503, f"overloaded api_key={API_KEY}".encode()))
    found = env.client.search("curcumin")
    assert found.count == 0 and found.requests == 5
    assert env.backoffs == [1.0, 2.0, 4.0, 8.0]
    [problem] = found.problems
    assert (problem.source, problem.item) == ("pubmed esearch 'curcumin'", None)
    assert "HTTP 503" in problem.reason and "after 5 tries" in problem.reason
    assert API_KEY not in str(problem)


def test_client_errors_are_not_retried() -> None:
    env = Setup(api_key=API_KEY)
    env.http.script(ESEARCH_URL, status(400, f'{{"error":"bad key {API_KEY}"}}'.encode()))
    found = env.client.search("x")
    assert found.requests == 1 and env.backoffs == []
    assert found.problems[0].reason.startswith("HTTP 400")
    assert API_KEY not in str(found.problems[0])


def test_timeout_becomes_a_problem(env: Setup) -> None:
    env.http.script(EFETCH_URL, Hang())
    result = env.client.fetch(SearchResult(10, "w", "1", [], term="omega-3"))
    assert result.articles == [] and result.requests == 5
    [problem] = result.problems
    assert problem.source == "pubmed efetch 'omega-3' retstart=0 retmax=200"
    assert "no response within 20 s (after 5 tries)" in problem.reason
    assert all(r.timeout == 20.0 for r in env.http.requests)


def test_transport_error_then_success(env: Setup) -> None:
    env.http.script(EFETCH_URL, TransportError("eutils: connection reset"), history_server(3))
    result = env.client.fetch(SearchResult(3, "w", "1", []))
    assert len(result.articles) == 3 and result.problems == [] and result.requests == 2


@pytest.mark.parametrize(("code", "tries"), [(200, 1), (503, 5)])
def test_html_instead_of_xml(env: Setup, code: int, tries: int) -> None:
    env.http.script(EFETCH_URL, html_error(code))
    result = env.client.fetch(SearchResult(3, "w", "1", []))
    assert result.requests == tries
    assert f"expected XML, got HTML (status {code})" in result.problems[0].reason


def test_html_instead_of_esearch_xml(env: Setup) -> None:
    env.http.script(ESEARCH_URL, html_error(200))
    assert env.client.search("x").problems[0].reason == "expected XML, got HTML (status 200)"


def test_one_bad_batch_does_not_stop_the_others(env: Setup) -> None:
    env.http.script(EFETCH_URL, history_server(450))
    env.http.script(EFETCH_URL, status(500), retstart="200")
    result = env.client.fetch(SearchResult(450, "w", "1", [], term="ibs"))
    assert len(result.articles) == 250
    [problem] = result.problems
    assert "retstart=200" in problem.source
    assert result.requests == 1 + 5 + 1


def test_expired_history_and_broken_batches_are_problems(env: Setup) -> None:
    env.http.script(EFETCH_URL, ok(fixture("efetch_truncated.xml")))
    env.http.script(
        EFETCH_URL,
        ok(b"<eFetchResult><ERROR>Unable to obtain query #1</ERROR></eFetchResult>"),
        retstart="200",
    )
    result = env.client.fetch(SearchResult(201, "w", "1", [], term="ibs"))
    assert len(result.articles) == 3
    reasons = [p.reason for p in result.problems]
    assert "kept the 3 articles" in reasons[0]
    assert reasons[1] == "NCBI error: Unable to obtain query #1"
    assert result.problems[1].source == "pubmed efetch 'ibs' retstart=200 retmax=200"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'<?xml version="1.0"?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch//EN" '
         b'"esearch.dtd"><eSearchResult><ERROR>Invalid query</ERROR></eSearchResult>',
         "NCBI error: Invalid query"),
        (fixture("esearch_ibs.xml")[:300], "unreadable ESearch XML"),
        (b'{"esearchresult": {}}', "unreadable ESearch XML"),
        (b'<?xml version="1.0"?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch//EN" '
         b'"esearch.dtd"><eSearchResult><Count>many</Count></eSearchResult>', "no Count"),
    ],
)  # fmt: skip
def test_bad_esearch_replies(env: Setup, body: bytes, reason: str) -> None:
    env.http.script(ESEARCH_URL, ok(body))
    found = env.client.search("x")
    assert found.count == 0 and found.webenv == ""
    assert reason in found.problems[0].reason


def test_esearch_with_unknown_dtd_never_downloads_it(
    env: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("Bio.Entrez tried to download a DTD")

    monkeypatch.setattr(Bio.Entrez.Parser, "urlopen", refuse)
    body = esearch_body(4).replace(b"20060628/esearch.dtd", b"20991231/esearch_2099.dtd")
    env.http.script(ESEARCH_URL, ok(body))
    found = env.client.search("x")
    assert "DTD esearch_2099.dtd is not bundled" in found.problems[0].reason


def test_phrase_not_found_is_reported(env: Setup) -> None:
    env.http.script(ESEARCH_URL, ok(fixture("esearch_phrase_not_found.xml")))
    found = env.client.search("ashwagandhaa")
    assert found.count == 0
    assert [p.reason for p in found.problems] == ["NCBI PhraseNotFound: ashwagandhaa"]


def test_weekly_refresh_counts_every_request_and_keeps_each_pmid_once(env: Setup) -> None:
    env.http.script(ESEARCH_URL, ok(esearch_body(250, "W1")), term="ibs diet")
    env.http.script(ESEARCH_URL, status(429), ok(esearch_body(30, "W2")), term="fodmap")
    env.http.script(ESEARCH_URL, ok(esearch_body(0, "W3")), term="reiki")
    env.http.script(EFETCH_URL, history_server(250), WebEnv="W1")
    env.http.script(EFETCH_URL, history_server(30, first=39300220), WebEnv="W2")
    result = env.client.weekly_refresh(
        ["ibs diet", "fodmap", "reiki"], since=date(2025, 1, 1), until=date(2025, 1, 7)
    )
    # 3 searches (+1 retry) and 2 + 1 fetches; the 30 overlap the first topic's last 30.
    assert result.requests == len(env.http.requests) == env.client.requests == 7
    assert len(result.articles) == 250 and result.problems == []
    assert all(r.params.get("mindate", "2025/01/01") == "2025/01/01" for r in env.http.requests)
    # The limiter held: never more than 3 requests in any second of fake time.
    times = [r.at for r in env.http.requests]
    assert all(sum(t <= s < t + 1 for s in times) <= 3 for t in times)
    assert all(r.timeout == 20.0 for r in env.http.requests)


def test_failed_search_is_reported_and_skipped(env: Setup) -> None:
    env.http.script(ESEARCH_URL, Hang())
    result = env.client.weekly_refresh(["x"], since=date(2025, 1, 1), until=date(2025, 1, 7))
    assert result.articles == [] and result.requests == 5
    assert result.problems[0].source == "pubmed esearch 'x' 2025-01-01..2025-01-07"


# ------------------------------------------------------------------ the HTTP layer itself


def test_headers_are_case_insensitive() -> None:
    headers = Headers([("Retry-After", "3"), ("Set-Cookie", "a"), ("set-cookie", "b")])
    assert headers["retry-after"] == headers.get("RETRY-AFTER") == "3"
    assert headers["Set-Cookie"] == "a, b" and "SET-COOKIE" in headers and len(headers) == 2
    assert HttpResponse(200, {"Content-Type": "x"}).headers["content-type"] == "x"
    assert build_url("https://h/p", {"id": "1,2", "term": "a b"}) == "https://h/p?id=1,2&term=a+b"


@pytest.fixture
def loopback() -> Iterator[str]:
    """A local HTTP server on 127.0.0.1 (no network): /ok, /429, /slow."""
    release = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/slow"):
                release.wait(5)
            code = 429 if self.path.startswith("/429") else 200
            self.send_response(code)
            self.send_header("Retry-After", "2")
            self.end_headers()
            self.wfile.write(self.path.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    release.set()
    server.shutdown()
    server.server_close()


def test_urllib_client_returns_statuses_and_raises_transport_errors(loopback: str) -> None:
    client = UrllibClient()
    reply = client.get(f"{loopback}/ok", params={"id": "1,2"}, timeout=5)
    assert (reply.status, reply.body) == (200, b"/ok?id=1,2")
    limited = client.get(f"{loopback}/429", params={"api_key": "SECRET"}, timeout=5)
    assert limited.status == 429 and limited.headers["retry-after"] == "2"
    with pytest.raises(TransportError, match=r"no response within 0\.2 s") as slow:
        client.get(f"{loopback}/slow", params={"api_key": "SECRET"}, timeout=0.2)
    assert "SECRET" not in str(slow.value)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(TransportError, match="connection failed"):
        client.get(f"http://127.0.0.1:{port}/", params={"api_key": "SECRET"}, timeout=1)
