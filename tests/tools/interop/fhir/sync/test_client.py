"""Searches and paging: the query fhirpy builds, `next` links followed, the server's cap."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.fhir_server import FhirServer, running_fhir_server
from tests.support.fhir_sync import observation, patient, seconds
from tools.interop.fhir.sync.client import FhirClient, Page, _page, next_link
from tools.interop.fhir.sync.retry import SyncError, Transport


def _ids(pages: list[Page]) -> list[list[str]]:
    return [[r["id"] for r in page.resources] for page in pages]


def test_every_page_oldest_first_following_next_links(fhir_server: FhirServer) -> None:
    for n in (3, 1, 4, 0, 2):  # stored out of order; read back by lastUpdated
        fhir_server.put(patient(n), at=seconds(n))
    pages = list(FhirClient(fhir_server.base_url).pages("Patient", since=None, page_size=2))
    assert _ids(pages) == [["pat-000", "pat-001"], ["pat-002", "pat-003"], ["pat-004"]]
    assert [p.number for p in pages] == [1, 2, 3] and {p.total for p in pages} == {5}
    first = fhir_server.searches_of("Patient")[0]
    assert first.query == {"_sort": ["_lastUpdated"], "_count": ["2"]}


def test_since_asks_for_ge_the_cursor(fhir_server: FhirServer) -> None:
    for n in range(4):
        fhir_server.put(patient(n), at=seconds(n))
    client = FhirClient(fhir_server.base_url)
    pages = list(client.pages("Patient", since="2026-01-05T09:00:02.000Z", page_size=10))
    assert _ids(pages) == [["pat-002", "pat-003"]]
    assert fhir_server.searches_of("Patient")[0].query["_lastUpdated"] == [
        "ge2026-01-05T09:00:02.000Z"
    ]


def test_a_server_that_pages_smaller_than_asked_is_read_to_the_end() -> None:
    with running_fhir_server(max_page_size=3) as server:
        for n in range(8):
            server.put(observation(n, 1), at=seconds(n))
        pages = list(FhirClient(server.base_url).pages("Observation", since=None, page_size=100))
    assert [len(p.resources) for p in pages] == [3, 3, 2]


def test_an_empty_search_is_one_empty_page(fhir_server: FhirServer) -> None:
    [page] = FhirClient(fhir_server.base_url).pages("Goal", since=None, page_size=10)
    assert page.resources == [] and page.total == 0


def test_a_throttled_page_is_fetched_again(fhir_server: FhirServer) -> None:
    for n in range(5):
        fhir_server.put(patient(n), at=seconds(n))
    waits: list[float] = []
    client = FhirClient(fhir_server.base_url, transport=Transport(sleep=waits.append))
    pages = client.pages("Patient", since=None, page_size=2)
    first = next(pages)
    fhir_server.fail_next(1, 429, "2")  # the second page's request is throttled once
    rest = list(pages)
    assert _ids([first, *rest]) == [["pat-000", "pat-001"], ["pat-002", "pat-003"], ["pat-004"]]
    assert waits == [2.0]


def _bundle(**fields: Any) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", **fields}


def test_only_matches_are_the_page_and_links_stay_on_the_server() -> None:
    bundle = _bundle(
        entry=[
            {"resource": patient(1), "search": {"mode": "match"}},
            {
                "resource": {"resourceType": "Organization", "id": "o"},
                "search": {"mode": "include"},
            },
            {"resource": {"resourceType": "OperationOutcome"}, "search": {"mode": "outcome"}},
        ],
        link=[{"relation": "next", "url": "http://elsewhere.test/fhir?page=2"}],
    )
    assert [r["id"] for r in _page("Patient", 1, bundle, "h").resources] == ["pat-001"]
    assert next_link(bundle) == "http://elsewhere.test/fhir?page=2"
    with pytest.raises(SyncError, match="not answer with a Bundle"):
        _page("Patient", 1, {"resourceType": "Patient"}, "h")


def test_a_next_link_off_the_server_is_refused(fhir_server: FhirServer) -> None:
    client = FhirClient(fhir_server.base_url)
    with pytest.raises(SyncError, match="a link leads off the server"):
        client._fhir.execute("http://elsewhere.test/fhir?page=2", method="get")


def test_a_cursor_with_an_offset_reaches_the_server_intact(fhir_server: FhirServer) -> None:
    for n in range(4):
        fhir_server.put(patient(n), at=seconds(n))
    client = FhirClient(fhir_server.base_url)
    pages = list(client.pages("Patient", since="2026-01-05T10:00:02+01:00", page_size=10))
    assert _ids(pages) == [["pat-002", "pat-003"]]  # '+' encoded, not read as a space
    assert fhir_server.searches_of("Patient")[0].query["_lastUpdated"] == [
        "ge2026-01-05T10:00:02+01:00"
    ]
