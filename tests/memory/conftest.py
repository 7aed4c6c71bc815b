"""Fixtures of the memory tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.chroma_server import running_chroma


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real Chroma server shared by the session's memory tests."""
    with running_chroma(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url
