"""Benchmark: how long a 20-topic weekly PubMed refresh must take under NCBI's rate limits.

    python benchmarks/pubmed_refresh.py                  # simulated refresh + real-clock check
    python benchmarks/pubmed_refresh.py --no-real-clock  # simulation only (instant)

No network: `PubMedClient.weekly_refresh` runs against a scripted E-utilities server in this
file, on a fake clock shared by the rate limiter and the server's simulated latency, so the
request count and the minimum wall time are exact. Topics get fixed, realistic weekly hit
counts (5-400); topics over 200 hits need two EFetch batches. Compared:

- throughput floor: requests / allowed rate (the steady-state bound);
- sliding-window minimum: with N allowed per second the first N start at once, so the last
  request can start at ceil(requests / N) - 1 seconds (slightly below the floor);
- simulated: the fake-clock time of the last request start with an instant server, and the
  whole refresh with an assumed server latency (ESearch 0.4 s, EFetch 0.4 s + 4 ms/article).

The real-clock check runs the shared limiter with `time.monotonic` for a few requests and
confirms the measured span is at least the sliding-window minimum and no 1-second window
held more than the allowed number.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Mapping
from datetime import date

from tools.literature.sources.http import HttpResponse
from tools.literature.sources.pubmed import EFETCH_URL, MAX_BATCH, PubMedClient
from tools.literature.sources.ratelimit import NCBI_WINDOW, RateLimiter

# Weekly new-article counts for 20 practice topics (Entrez-date window of 7 days).
TOPIC_HITS = [5, 8, 12, 17, 23, 31, 38, 46, 55, 67, 80, 96, 118, 145, 170, 205, 240, 290, 345, 400]
ESEARCH_LATENCY = 0.4
EFETCH_LATENCY = 0.4
PER_ARTICLE_LATENCY = 0.004


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


class ScriptedEutils:
    """ESearch returns each topic's count with its own WebEnv; EFetch generates the batch."""

    def __init__(self, clock: Clock, hits: list[int], latency: bool) -> None:
        self.clock, self.hits, self.latency = clock, hits, latency
        self.starts: list[float] = []

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float,
    ) -> HttpResponse:
        p = dict(params or {})
        self.starts.append(self.clock())
        if url == EFETCH_URL:
            topic, start = int(p["WebEnv"][1:]), int(p["retstart"])
            n = max(0, min(int(p["retmax"]), self.hits[topic] - start))
            pmids = [str(39_000_000 + topic * 1000 + start + i) for i in range(n)]
            if self.latency:
                self.clock.sleep(EFETCH_LATENCY + PER_ARTICLE_LATENCY * n)
            return HttpResponse(200, {}, _efetch(pmids), url)
        topic = int(p["term"].split()[-1])
        if self.latency:
            self.clock.sleep(ESEARCH_LATENCY)
        return HttpResponse(200, {}, _esearch(self.hits[topic], f"W{topic}"), url)


def _esearch(count: int, webenv: str) -> bytes:
    return (
        '<?xml version="1.0" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN"'
        ' "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">'
        f"<eSearchResult><Count>{count}</Count><RetMax>0</RetMax><RetStart>0</RetStart>"
        f"<QueryKey>1</QueryKey><WebEnv>{webenv}</WebEnv><IdList/><TranslationSet/>"
        "<QueryTranslation>x</QueryTranslation></eSearchResult>"
    ).encode()


def _efetch(pmids: list[str]) -> bytes:
    articles = "".join(
        f'<PubmedArticle><MedlineCitation Status="MEDLINE"><PMID Version="1">{p}</PMID>'
        '<Article PubModel="Print"><Journal><JournalIssue><PubDate><Year>2025</Year></PubDate>'
        "</JournalIssue><Title>Example Journal</Title></Journal><ArticleTitle>Trial of topic "
        f"{p}.</ArticleTitle><Abstract><AbstractText Label='RESULTS'>{'Result text. ' * 80}"
        "</AbstractText></Abstract></Article></MedlineCitation></PubmedArticle>"
        for p in pmids
    )
    return f'<?xml version="1.0" ?>\n<PubmedArticleSet>{articles}</PubmedArticleSet>'.encode()


def simulate(rate: int, latency: bool) -> dict[str, float]:
    clock = Clock()
    server = ScriptedEutils(clock, TOPIC_HITS, latency)
    limiter = RateLimiter(max_requests=rate, window=NCBI_WINDOW, clock=clock, sleep=clock.sleep)
    client = PubMedClient(
        http=server, email="bench@example.org", api_key="k" if rate > 3 else None,
        limiter=limiter, sleep=clock.sleep,
    )  # fmt: skip
    cpu = time.perf_counter()
    result = client.weekly_refresh(
        [f"topic {i}" for i in range(len(TOPIC_HITS))],
        since=date(2025, 1, 1),
        until=date(2025, 1, 7),
    )
    assert not result.problems and len(result.articles) == sum(TOPIC_HITS)
    assert result.requests == len(server.starts)
    return {
        "requests": result.requests,
        "last_start": server.starts[-1] - server.starts[0],
        "wall": clock.now,
        "cpu": time.perf_counter() - cpu,
        "max_in_window": max_in_window(server.starts),
    }


def max_in_window(starts: list[float]) -> int:
    return max(sum(t <= s < t + 1.0 for s in starts) for t in starts)


def real_clock_check(rate: int, n: int) -> tuple[float, float, int, float]:
    """(measured first->last span, sliding-window minimum, most granted starts in any 1 s,
    smallest measured gap between request i and i - rate)."""
    limiter = RateLimiter(max_requests=rate, window=NCBI_WINDOW)  # time.monotonic / time.sleep
    granted, measured = [], []
    for _ in range(n):
        granted.append(limiter.acquire())
        measured.append(time.monotonic())
    gap = min(measured[i] - measured[i - rate] for i in range(rate, n))
    return measured[-1] - measured[0], math.ceil(n / rate) - 1.0, max_in_window(granted), gap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-real-clock", action="store_true", help="skip the real-clock check")
    args = parser.parse_args()

    searches = len(TOPIC_HITS)
    fetches = sum(math.ceil(h / MAX_BATCH) for h in TOPIC_HITS)
    print(
        f"{searches} topics, {sum(TOPIC_HITS):,} new articles in the week, hits per topic "
        f"{min(TOPIC_HITS)}-{max(TOPIC_HITS)}: {searches} ESearch + {fetches} EFetch requests"
    )
    print()
    print(
        "| limit | requests | floor (requests ÷ rate) | sliding-window minimum "
        "| simulated, instant server | max in any 1 s | simulated, with latency | CPU (parse) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, rate in (("no key, 3/s", 3), ("API key, 10/s", 10)):
        instant, slow = simulate(rate, latency=False), simulate(rate, latency=True)
        n = instant["requests"]
        print(
            f"| {label} | {n:.0f} | {n / rate:.2f} s | {math.ceil(n / rate) - 1:.2f} s "
            f"| {instant['last_start']:.2f} s | {instant['max_in_window']:.0f} "
            f"| {slow['wall']:.2f} s | {instant['cpu']:.2f} s |"
        )
    union = math.ceil(sum(TOPIC_HITS) / MAX_BATCH)
    print()
    print(f"(Fetching the union of all topics' PMIDs with fetch_ids would need {union} EFetch "
          f"requests instead of {fetches}.)")  # fmt: skip
    if args.no_real_clock:
        return
    print()
    print("Real clock (time.monotonic), shared limiter, no HTTP:")
    print()
    print(
        "| limit | requests | measured first->last | sliding-window minimum "
        "| max granted in any 1 s | smallest gap i..i-N (measured) | ok |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for label, rate, n in (("no key, 3/s", 3, 10), ("API key, 10/s", 10, 25)):
        span, minimum, most, gap = real_clock_check(rate, n)
        ok = "yes" if span >= minimum and most <= rate else "NO"
        print(f"| {label} | {n} | {span:.4f} s | {minimum:.2f} s | {most} | {gap:.6f} s | {ok} |")


if __name__ == "__main__":
    main()
