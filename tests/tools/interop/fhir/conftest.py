"""The FHIR fixture folder (tests/fixtures/fhir, see its README for where each file came from)."""

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "fhir"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
