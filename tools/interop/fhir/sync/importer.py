"""What the sync hands each page to: the FHIR importer, behind a small protocol.

The sync owns the transaction: it opens one per page, calls the importer with that page's
resources and the session, saves the cursor in the same session, and commits both together.
So an importer writes through `session`, flushes and never commits, and must be idempotent
by provenance (`record_source`): a page read again after a crash changes nothing.

The real importer is `tools.interop.fhir.importing.import_page` (the FHIR import's
orchestrator); `default_importer` finds it there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, cast

from sqlmodel import Session

from tools.errors import ConfigError


class PageImporter(Protocol):
    def __call__(
        self,
        *,
        session: Session,
        source_system: str,
        resources: Sequence[dict[str, Any]],
    ) -> Mapping[str, int]:
        """Write one page of resources (any types, as the server sent them) through
        `session` (flush, never commit); counts by outcome, e.g. {"created": 3,
        "updated": 1, "unchanged": 96, "skipped": 0}. Counts only: never values."""
        ...


def default_importer() -> PageImporter:
    """The FHIR import's page importer (`tools.interop.fhir.importing.import_page`)."""
    try:
        from tools.interop.fhir import importing  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        raise ConfigError("the FHIR importer (tools.interop.fhir.importing) is missing") from None
    found = getattr(importing, "import_page", None)
    if found is None:
        raise ConfigError("tools.interop.fhir.importing has no import_page")
    return cast(PageImporter, found)
