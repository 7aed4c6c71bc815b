"""The FHIR reading layer's entry point: paths in, validated resources and their links out.

`read_fhir(paths=...)` reads Bundles, directories and NDJSON (see `sources`), validates each
resource with the R4B models (see `validation`), gives each a stable local key, resolves every
reference (see `references`), and groups the resources by patient (see `compartments`). Bad
input never raises: it becomes `Problem`s and the rest is read. Nothing is written anywhere.

The local key is `Type/id` when the resource has an id, else its entry's fullUrl (a
transaction's `urn:uuid:`), else `file#entry N`. A second resource with a key already read is a
problem and is skipped (the first is kept).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fhir.resources.R4B.resource import Resource

from tools.interop.fhir.compartments import Link, PatientGroups, group_by_patient
from tools.interop.fhir.problems import Problem
from tools.interop.fhir.references import ReferenceIndex, references_in
from tools.interop.fhir.sources import RawEntry, input_files, read_file
from tools.interop.fhir.validation import validate_resource


@dataclass(frozen=True)
class ReadResource:
    """Where a validated resource was read and its local key (its model is in `models`)."""

    key: str
    resource_type: str
    file: str
    where: str
    full_url: str | None = None
    request: Mapping[str, Any] | None = None


@dataclass
class ReadResult:
    """Everything one read produced: resources by key, links, groups, counts and problems."""

    resources: dict[str, ReadResource] = field(default_factory=dict)
    models: dict[str, Resource] = field(default_factory=dict)  # validated models, by key
    links: list[Link] = field(default_factory=list)
    links_by_source: dict[str, list[Link]] = field(default_factory=dict)
    groups: PatientGroups = field(default_factory=PatientGroups)
    counts: Counter[str] = field(default_factory=Counter)  # validated, by resource type
    skipped: Counter[str] = field(default_factory=Counter)  # failed validation, by resource type
    problems: list[Problem] = field(default_factory=list)
    index: ReferenceIndex = field(default_factory=ReferenceIndex)

    def resolve(self, *, reference: Mapping[str, Any] | Any, source_key: str) -> str | None:
        """The key a Reference (model or JSON object) in resource `source_key` points at."""
        if not isinstance(reference, Mapping):
            reference = reference.model_dump(mode="json", by_alias=True, exclude_none=True)
        return self.index.resolve(reference=reference, source_key=source_key).target

    def links_from(self, *, key: str) -> list[Link]:
        """The references a resource holds, resolved."""
        return list(self.links_by_source.get(key, []))


@dataclass(frozen=True)
class Validated:
    """A resource that passed validation: where it was read, its model, its raw JSON."""

    read: ReadResource
    model: Resource
    raw: Mapping[str, Any]


@dataclass(frozen=True)
class Rejected:
    """A resource that failed validation, with the problems why."""

    resource_type: str
    problems: list[Problem]


def iter_validated(*, paths: Iterable[Path]) -> Iterator[Validated | Rejected | Problem]:
    """Each resource at `paths` validated, one at a time, nothing kept (NDJSON streams).

    For a second pass over large input: `read_fhir(keep_models=False)` indexes and resolves,
    then this yields the models again file by file. Duplicate keys are not filtered here.
    """
    for item in input_files(paths=list(paths)):
        if isinstance(item, Problem):
            yield item
            continue
        for entry in read_file(path=item):
            if isinstance(entry, Problem):
                yield entry
                continue
            raw = entry.resource
            resource_type = str(raw.get("resourceType"))
            model, problems = validate_resource(raw=raw, file=entry.file, where=entry.where)
            if model is None:
                yield Rejected(resource_type=resource_type, problems=problems)
                continue
            read = ReadResource(
                key=_local_key(entry=entry, resource_type=resource_type),
                resource_type=resource_type,
                file=entry.file,
                where=entry.where,
                full_url=entry.full_url,
                request=entry.request,
            )
            yield Validated(read=read, model=model, raw=raw)


def read_fhir(
    *,
    paths: Iterable[Path],
    keep_models: bool = True,
    on_resource: Callable[[Validated], None] | None = None,
) -> ReadResult:
    """Read, validate and resolve the FHIR input at `paths` (files or directories).

    With `keep_models=False` the validated models are dropped once indexed (`models` stays
    empty): memory then grows with the index and links, not with the resources.
    `on_resource` sees each resource that was kept (not a duplicate key), e.g. to spool it.
    """
    result = ReadResult()
    pending: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
    for item in iter_validated(paths=paths):
        if isinstance(item, Problem):
            result.problems.append(item)
        elif isinstance(item, Rejected):
            result.problems.extend(item.problems)
            result.skipped[item.resource_type] += 1
        else:
            kept = _take(result=result, item=item, pending=pending, keep_models=keep_models)
            if kept and on_resource is not None:
                on_resource(item)
    for key, references in pending.items():
        for path, reference in references:
            _link(result=result, key=key, path=path, reference=reference)
    result.groups = group_by_patient(
        keys=list(result.resources), types=result.index.types, links=result.links
    )
    return result


def _take(
    *,
    result: ReadResult,
    item: Validated,
    pending: dict[str, list[tuple[str, Mapping[str, Any]]]],
    keep_models: bool,
) -> bool:
    read = item.read
    if read.key in result.resources:
        first = result.resources[read.key]
        result.problems.append(
            Problem(
                file=read.file,
                where=read.where,
                resource_type=read.resource_type,
                message=f"same key as {first.file}, {first.where}; skipped, the first is kept",
            )
        )
        result.skipped[read.resource_type] += 1
        return False
    result.resources[read.key] = read
    if keep_models:
        result.models[read.key] = item.model
    result.counts[read.resource_type] += 1
    result.index.add(key=read.key, resource=item.raw, full_url=read.full_url, request=read.request)
    pending[read.key] = list(references_in(resource=item.raw))
    return True


def _local_key(*, entry: RawEntry, resource_type: str) -> str:
    resource_id = entry.resource.get("id")
    if isinstance(resource_id, str) and resource_id:
        return f"{resource_type}/{resource_id}"
    if entry.full_url:
        return entry.full_url
    return f"{entry.file}#{entry.where}"


def _link(*, result: ReadResult, key: str, path: str, reference: Mapping[str, Any]) -> None:
    resolution = result.index.resolve(reference=reference, source_key=key)
    link = Link(
        source=key,
        path=path,
        form=resolution.form,
        target=resolution.target,
        target_type_hint=_type_hint(reference),
    )
    result.links.append(link)
    result.links_by_source.setdefault(key, []).append(link)
    if resolution.target is None:
        read = result.resources[key]
        result.problems.append(
            Problem(
                file=read.file,
                where=read.where,
                resource_type=read.resource_type,
                field=path,
                message=f"dangling reference ({resolution.form}): nothing read matches it",
            )
        )


def _type_hint(reference: Mapping[str, Any]) -> str | None:
    if isinstance(reference.get("type"), str):
        return str(reference["type"])
    literal = reference.get("reference")
    if not isinstance(literal, str) or literal.startswith(("#", "urn:")):
        return None
    head = literal.split("?", 1)[0].split("/_history/", 1)[0].rstrip("/").split("/")
    if "?" in literal:
        return head[-1]
    return head[-2] if len(head) >= 2 else None
