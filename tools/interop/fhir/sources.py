"""FHIR input files read into raw entries: Bundles, directories of them, Bulk Data NDJSON.

A Bundle file (any name; `.json` in a directory) must be a Bundle of type transaction, batch,
collection or searchset; anything else is one problem naming the file. An NDJSON file
(`.ndjson`, one resource per line as a Bulk Data `$export` writes them) is streamed line by
line and never loaded whole. A directory is walked in name order for `.json` and `.ndjson`
files. Nothing here validates a resource: entries come out as raw dictionaries with where
they came from, for `validation` to check.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.interop.fhir.problems import Problem

BUNDLE_TYPES = frozenset({"transaction", "batch", "collection", "searchset"})
NDJSON_SUFFIXES = frozenset({".ndjson"})
BUNDLE_SUFFIXES = frozenset({".json"})


@dataclass(frozen=True)
class RawEntry:
    """One resource as read, before validation, with its place in the input."""

    file: str
    where: str  # "entry 3" (0-based bundle entry index) or "line 12" (1-based NDJSON line)
    resource: Mapping[str, Any]
    full_url: str | None = None
    request: Mapping[str, Any] | None = None  # a transaction/batch entry's request


def input_files(*, paths: list[Path]) -> Iterator[Path | Problem]:
    """The files to read, directories expanded in name order; a missing path is a problem."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in NDJSON_SUFFIXES | BUNDLE_SUFFIXES:
                    yield child
        elif path.is_file():
            yield path
        else:
            yield Problem(file=str(path), message="no such file or directory")


def read_file(*, path: Path) -> Iterator[RawEntry | Problem]:
    """The raw entries of one input file, NDJSON by its suffix, else a Bundle."""
    if path.suffix.lower() in NDJSON_SUFFIXES:
        yield from read_ndjson(path=path)
    else:
        yield from read_bundle(path=path)


def read_bundle(*, path: Path) -> Iterator[RawEntry | Problem]:
    """The entries of a Bundle file, or one problem naming the file when it is not one."""
    file = str(path)
    try:
        with path.open("rb") as handle:
            data = json.load(handle)
    except (UnicodeDecodeError, json.JSONDecodeError):
        yield Problem(file=file, message="not JSON")
        return
    except OSError as error:
        yield Problem(file=file, message=f"cannot be read ({error.strerror or 'I/O error'})")
        return
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        yield Problem(file=file, message="JSON but not FHIR (no resourceType)")
        return
    if data["resourceType"] != "Bundle":
        yield Problem(
            file=file,
            resource_type=data["resourceType"],
            message="a single resource, not a Bundle or NDJSON",
        )
        return
    bundle_type = data.get("type")
    if bundle_type not in BUNDLE_TYPES:
        shown = bundle_type if isinstance(bundle_type, str) else "missing"
        yield Problem(
            file=file,
            resource_type="Bundle",
            field="type",
            message=f"bundle type {shown!r} is not one of {', '.join(sorted(BUNDLE_TYPES))}",
        )
        return
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        yield Problem(file=file, resource_type="Bundle", field="entry", message="not a list")
        return
    for index, entry in enumerate(entries):
        yield _bundle_entry(file=file, index=index, entry=entry)


def _bundle_entry(*, file: str, index: int, entry: Any) -> RawEntry | Problem:
    where = f"entry {index}"
    if not isinstance(entry, dict):
        return Problem(file=file, where=where, message="entry is not an object")
    resource = entry.get("resource")
    request = entry.get("request") if isinstance(entry.get("request"), dict) else None
    if not isinstance(resource, dict):
        method = request.get("method") if request else None
        what = f"a {method} request without a resource" if method else "no resource"
        return Problem(file=file, where=where, message=f"{what}; skipped")
    full_url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
    return RawEntry(file=file, where=where, resource=resource, full_url=full_url, request=request)


def read_ndjson(*, path: Path) -> Iterator[RawEntry | Problem]:
    """The resources of an NDJSON file, streamed a line at a time.

    When the first non-blank line is not a JSON object with a resourceType the file is not
    NDJSON FHIR: one problem for the file. After that a bad line is a problem for that line.
    """
    file = str(path)
    seen_resource = False
    try:
        with path.open("r", encoding="utf-8-sig") as handle:  # a BOM is tolerated
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                item = _ndjson_line(file=file, number=number, line=line)
                if isinstance(item, Problem) and not seen_resource:
                    why = f"not FHIR NDJSON (line {number}: {item.message})"
                    yield Problem(file=file, message=why)
                    return
                seen_resource = True
                yield item
    except UnicodeDecodeError:
        yield Problem(file=file, message="not UTF-8 text")
    except OSError as error:
        yield Problem(file=file, message=f"cannot be read ({error.strerror or 'I/O error'})")


def _ndjson_line(*, file: str, number: int, line: str) -> RawEntry | Problem:
    where = f"line {number}"
    try:
        resource = json.loads(line)
    except json.JSONDecodeError:
        return Problem(file=file, where=where, message="not JSON")
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return Problem(file=file, where=where, message="not a FHIR resource (no resourceType)")
    return RawEntry(file=file, where=where, resource=resource)
