"""Fixtures of the EHR sync's tests: the loopback FHIR server, a page importer, keys."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fhir_server import FhirServer, running_fhir_server
from tests.support.fhir_sync import ProvenanceImporter, SigningKey, signing_key


@pytest.fixture
def fhir_server() -> Iterator[FhirServer]:
    with running_fhir_server() as server:
        yield server


@pytest.fixture
def importer() -> ProvenanceImporter:
    return ProvenanceImporter()


@pytest.fixture(scope="session")
def rsa_key() -> SigningKey:
    return signing_key("RS384")


@pytest.fixture(scope="session")
def ec_key() -> SigningKey:
    return signing_key("ES384")
