"""Where an export is written: a temporary folder beside the target, renamed into place.

Nothing partial is ever left at the target: the files are written into a hidden folder next
to it and the folder is renamed once every file is complete (a failure removes it). Two
layouts: a transaction Bundle per patient (`<patient id>.json`) plus the practitioners and
organisations in `practice.json`; or Bulk Data NDJSON, one `<ResourceType>.ndjson` per type,
appended resource by resource.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from tools.errors import InvalidInput

PRACTICE_FILE = "practice.json"


def full_url(resource: dict[str, Any]) -> str:
    """The entry's fullUrl: a urn:uuid derived from `Type/id`, the same in every export."""
    key = f"urn:steve:{resource['resourceType']}/{resource['id']}"
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, key)}"


def transaction(resources: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A transaction Bundle that creates or updates each resource under its own id (PUT)."""
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": full_url(r),
                "resource": r,
                "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
            }
            for r in resources
        ],
    }


def check_target(*, out: Path, force: bool) -> None:
    """Refuse a target that is a file, is not empty (without `force`), or has no parent."""
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"{out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InvalidInput(f"{out} is not empty; use --force to replace it")
    if not out.parent.is_dir():
        raise InvalidInput(f"the folder {out.parent} does not exist")
    if not os.access(out.parent, os.W_OK):
        raise InvalidInput(f"cannot write in {out.parent}")


@contextmanager
def staged(*, out: Path) -> Iterator[Path]:
    """A temporary folder beside `out`, renamed to `out` when the block succeeds."""
    try:
        temp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    except OSError as exc:
        raise InvalidInput(f"cannot write in {out.parent} ({exc.strerror})") from None
    try:
        yield temp
        if out.exists():
            shutil.rmtree(out)
        temp.rename(out)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def write_json(path: Path, data: dict[str, Any]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, separators=(",", ":"))
        handle.write("\n")


class NdjsonFiles:
    """One open `<Type>.ndjson` per resource type, appended to line by line."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.handles: dict[str, IO[str]] = {}

    def write(self, resource: dict[str, Any]) -> None:
        kind = str(resource["resourceType"])
        handle = self.handles.get(kind)
        if handle is None:
            handle = (self.folder / f"{kind}.ndjson").open("w", encoding="utf-8")
            self.handles[kind] = handle
        handle.write(json.dumps(resource, ensure_ascii=False, separators=(",", ":")))
        handle.write("\n")

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()
        self.handles.clear()
