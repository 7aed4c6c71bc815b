"""Every request: a timeout, bounded retries after 429/5xx or no answer, Retry-After honoured."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from tests.support.fhir_server import FhirServer
from tools.interop.fhir.sync.retry import (
    RetryPolicy,
    SyncError,
    Transport,
    retry_after_seconds,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _transport(waits: list[float], **policy: float) -> Transport:
    return Transport(policy=RetryPolicy(**policy), sleep=waits.append, clock=lambda: NOW)  # type: ignore[arg-type]


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    assert retry_after_seconds("7", now=NOW) == 7.0
    later = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds(later, now=NOW) == 90.0
    earlier = format_datetime(NOW - timedelta(seconds=5), usegmt=True)
    assert retry_after_seconds(earlier, now=NOW) == 0.0
    assert retry_after_seconds("soon", now=NOW) is None
    assert retry_after_seconds(None, now=NOW) is None


def test_a_429_waits_as_long_as_the_server_asks(fhir_server: FhirServer) -> None:
    waits: list[float] = []
    fhir_server.fail_next(2, 429, "3")
    reply = _transport(waits).request("GET", f"{fhir_server.base_url}/Patient")
    assert reply.status_code == 200
    assert waits == [3.0, 3.0]
    assert len(fhir_server.requests) == 3


def test_a_503_with_an_http_date_waits_until_then(fhir_server: FhirServer) -> None:
    waits: list[float] = []
    fhir_server.fail_next(1, 503, format_datetime(NOW + timedelta(seconds=20), usegmt=True))
    reply = _transport(waits).request("GET", f"{fhir_server.base_url}/Patient")
    assert reply.status_code == 200 and waits == [20.0]


def test_without_retry_after_the_wait_doubles(fhir_server: FhirServer) -> None:
    waits: list[float] = []
    fhir_server.fail_next(3, 502)
    reply = _transport(waits, backoff_s=0.5).request("GET", f"{fhir_server.base_url}/Patient")
    assert reply.status_code == 200 and waits == [0.5, 1.0, 2.0]


def test_attempts_are_bounded_and_the_error_names_host_and_status(
    fhir_server: FhirServer,
) -> None:
    waits: list[float] = []
    fhir_server.fail_next(10, 500)
    with pytest.raises(SyncError) as caught:
        _transport(waits, max_retries=2).request(
            "GET", f"{fhir_server.base_url}/Patient?_lastUpdated=ge2026-01-01&token=secret"
        )
    assert str(caught.value) == f"127.0.0.1:{fhir_server.port}: HTTP 500 after 3 attempts"
    assert len(fhir_server.requests) == 3 and len(waits) == 2


def test_a_wait_longer_than_allowed_fails_at_once(fhir_server: FhirServer) -> None:
    waits: list[float] = []
    fhir_server.fail_next(1, 429, "3600")
    with pytest.raises(SyncError, match="asked to wait 3600 s"):
        _transport(waits, max_wait_s=60).request("GET", f"{fhir_server.base_url}/Patient")
    assert waits == [] and len(fhir_server.requests) == 1


def test_client_errors_are_not_retried(fhir_server: FhirServer) -> None:
    reply = _transport([]).request("GET", f"{fhir_server.base_url}/Patient?bogus=1")
    assert reply.status_code == 400 and len(fhir_server.requests) == 1


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_a_server_that_never_answers_costs_a_timeout_per_attempt(silent_port: int) -> None:
    waits: list[float] = []
    transport = _transport(waits, timeout_s=0.2, max_retries=1, backoff_s=0.25)
    with pytest.raises(SyncError) as caught:
        transport.request("GET", f"http://127.0.0.1:{silent_port}/fhir/Patient")
    assert str(caught.value) == f"127.0.0.1:{silent_port}: no answer in time after 2 attempts"
    assert waits == [0.25]


def test_a_refused_connection_is_retried_then_named() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    waits: list[float] = []
    with pytest.raises(SyncError, match="connection failed after 3 attempts"):
        _transport(waits, max_retries=2).request("GET", f"http://127.0.0.1:{port}/fhir/Patient")
    assert waits == [1.0, 2.0]
