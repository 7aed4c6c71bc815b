"""Imports from other systems, for admins: a FHIR Bundle or Bulk Data NDJSON in the body.

The body is read as the files `steve import fhir` reads (the same reader, validation,
matching and one transaction per patient); the answer is the import's counts and its
problems by entry and field, never a value from the records. Bodies up to
`STEVE_API__MAX_IMPORT_BYTES` (50 MB by default) are accepted here; larger exports go
through `steve import fhir`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from app.api.deps import CurrentCtx, engine_of
from app.api.errors import ApiError, responses
from tools.access import Category
from tools.limits import Line

IMPORT_PREFIX = "/api/import/"
NDJSON_TYPES = ("application/fhir+ndjson", "application/x-ndjson", "application/ndjson")

router = APIRouter(prefix="/api/import", tags=["import"])


def _resources(raw: bytes, content_type: str) -> dict[str, Any] | list[dict[str, Any]]:
    """The body as a Bundle (JSON) or a list of resources (NDJSON), or a 400 naming why."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(400, "bad_request", "the body is not UTF-8 text") from None
    if content_type.split(";", 1)[0].strip().lower() in NDJSON_TYPES:
        resources = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError:
                raise ApiError(400, "bad_request", f"line {number} is not JSON") from None
            if not isinstance(item, dict):
                raise ApiError(400, "bad_request", f"line {number} is not a FHIR resource")
            resources.append(item)
        return resources
    try:
        bundle = json.loads(text)
    except ValueError:
        raise ApiError(400, "bad_request", "the body is not JSON") from None
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise ApiError(
            400,
            "bad_request",
            "the body is not a FHIR Bundle (send Bulk Data NDJSON as application/fhir+ndjson)",
        )
    return bundle


@router.post("/fhir", responses=responses(400, 403, 413, 422))
async def import_fhir(
    request: Request,
    ctx: CurrentCtx,
    source: Annotated[
        Line | None,
        Query(max_length=300, description="The system the records come from (its base URL)."),
    ] = None,
    dry_run: Annotated[bool, Query(description="Report what would change; write nothing.")] = (
        False
    ),
) -> dict[str, Any]:
    """Import a FHIR R4 Bundle (JSON body) or Bulk Data NDJSON (`application/fhir+ndjson`)."""
    ctx.require(Category.IMPORT, entity="import")
    body = await request.body()
    resources = _resources(body, request.headers.get("content-type", ""))
    ctx.end_reads()
    from tools.interop.fhir.importing import import_resources

    report = await run_in_threadpool(
        lambda: import_resources(
            engine=engine_of(request),
            resources=resources,
            source_system=(source or "").strip() or None,
            dry_run=dry_run,
            actor=ctx.label,
            origin=ctx.origin,
            data_dir=ctx.settings.data_dir,
            user_id=ctx.user.id,
            label="request body",
        )
    )
    ctx.audit("import", "import_run", entity_id=report.run_id)
    problems = [p.line() for p in report.problems]
    return {**report.summary(), "run_id": report.run_id, "problem_lines": problems}
