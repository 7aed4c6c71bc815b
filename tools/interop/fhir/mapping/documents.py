"""FHIR DocumentReference -> Steve patient document, with its attached file stored.

- title: description, else the type's text, else the attachment's title, else "Document";
  kind: the type (else category) text; author: the first author's name (a Practitioner,
  PractitionerRole or Organization read in the import, else the reference's display);
  dated: `date`, else the context period's start, else the attachment's creation time.
- The file: the first attachment carrying `data` (base64) is decoded and checked:
  at most `MAX_BYTES` (20 MB; larger ones are reported from their encoded length, never
  decoded), a content type Steve accepts (`ACCEPTED`: PDF, images other than SVG, plain text,
  CSV, RTF, XML/CDA; a missing type is recognised from the first bytes for PDF, PNG, JPEG),
  and the attachment's `hash` (SHA-1) when it gives one. HTML is accepted as plain text:
  Steve never serves an imported file as a page that could run scripts.
- It is stored content-addressed under `<data dir>/documents/<sha256[:2]>/<sha256>`: the same
  file imported twice, or again after a rolled-back transaction, is one file. Nothing is
  written when the import is a dry run or has no data directory (the metadata, size and
  sha256 are kept). A file that fails a check is not stored: the document is kept without it
  and the problem names the field.
- `attachment.url` is kept in `url` and never fetched.
- Status entered-in-error is not imported.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from db.models import PatientDocument
from tools.interop.fhir.mapping.context import Item, MapContext, Mapper
from tools.interop.fhir.mapping.values import concept_text, display_name, fhir_instant

MAX_BYTES = 20 * 1024 * 1024
DOCUMENTS = "documents"  # the folder under the data directory
ACCEPTED = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/tiff",
        "image/webp",
        "image/bmp",
        "text/plain",
        "text/csv",
        "text/rtf",
        "application/rtf",
        "text/xml",
        "application/xml",
        "application/hl7-v3+xml",  # CDA documents
        "application/cda+xml",
    }
)
AS_PLAIN_TEXT = frozenset({"text/html", "application/xhtml+xml"})
MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


@dataclass(frozen=True)
class StoredFile:
    content_type: str | None
    size: int | None
    sha256: str | None
    stored_as: str | None


def map_document_reference(*, item: Item, ctx: MapContext) -> None:
    raw = item.raw
    if ctx.patient_id is None:
        ctx.skip(item=item, field="subject", message="a document without a patient")
        return
    if str(raw.get("status")) == "entered-in-error":
        ctx.skip(item=item, field="status", message="entered in error at the source: not imported")
        return
    attachments = [
        (n, c["attachment"])
        for n, c in enumerate(raw.get("content") or [])
        if isinstance(c, Mapping) and isinstance(c.get("attachment"), Mapping)
    ]
    with_data = next(((n, a) for n, a in attachments if a.get("data")), None)
    with_url = next((a for _, a in attachments if a.get("url")), None)
    first = with_data[1] if with_data else (attachments[0][1] if attachments else {})
    stored = StoredFile(_base_type(first.get("contentType")), None, None, None)
    if with_data is not None:
        stored = store_attachment(item=item, ctx=ctx, attachment=with_data[1], n=with_data[0])
    url = str(with_url["url"]) if with_url else None
    if url is not None and len(url) > 1000:
        ctx.report(item=item, field="content.attachment.url", message="too long: not kept")
        url = None
    context = raw.get("context") if isinstance(raw.get("context"), Mapping) else {}
    assert isinstance(context, Mapping)
    ctx.write(
        item=item,
        model=PatientDocument,
        values={
            "patient_id": ctx.patient_id,
            "title": _title(raw, first)[:300],
            "kind": _kind(raw),
            "author": _author(item=item, ctx=ctx),
            "dated": fhir_instant(raw.get("date"))
            or fhir_instant((context.get("period") or {}).get("start"))
            or fhir_instant(first.get("creation")),
            "content_type": stored.content_type,
            "size": stored.size,
            "sha256": stored.sha256,
            "stored_as": stored.stored_as,
            "url": url,
        },
    )


def store_attachment(
    *, item: Item, ctx: MapContext, attachment: Mapping[str, Any], n: int
) -> StoredFile:
    """Decode, check and (unless a dry run) store one attachment's data."""
    field = f"content[{n}].attachment"
    declared = _base_type(attachment.get("contentType"))
    data = str(attachment.get("data") or "")
    if len(data) * 3 // 4 > MAX_BYTES + 3:
        ctx.report(item=item, field=f"{field}.data", message=_too_big())
        return StoredFile(declared, None, None, None)
    try:
        content = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        ctx.report(item=item, field=f"{field}.data", message="not valid base64: file not stored")
        return StoredFile(declared, None, None, None)
    if len(content) > MAX_BYTES:
        ctx.report(item=item, field=f"{field}.data", message=_too_big())
        return StoredFile(declared, len(content), None, None)
    content_type = _accepted_type(declared, content)
    if content_type is None:
        ctx.report(
            item=item,
            field=f"{field}.contentType",
            message="a file type Steve does not accept: file not stored",
        )
        return StoredFile(declared, len(content), None, None)
    if not _hash_matches(attachment.get("hash"), content):
        ctx.report(item=item, field=f"{field}.hash", message="does not match the data: not stored")
        return StoredFile(content_type, len(content), None, None)
    sha256 = hashlib.sha256(content).hexdigest()
    stored_as = relative_path(sha256)
    if ctx.dry_run or ctx.data_dir is None:
        return StoredFile(content_type, len(content), sha256, None)
    save_file(documents_dir(ctx.data_dir) / stored_as, content)
    return StoredFile(content_type, len(content), sha256, stored_as)


def documents_dir(data_dir: Path) -> Path:
    return data_dir / DOCUMENTS


def relative_path(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256}"


def save_file(path: Path, content: bytes) -> None:
    """Write once: a file already there has this content (its name is its hash)."""
    if path.exists() and path.stat().st_size == len(content):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _too_big() -> str:
    return f"larger than {MAX_BYTES // (1024 * 1024)} MB: file not stored"


def _base_type(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.split(";", 1)[0].strip().lower()[:100]


def _accepted_type(declared: str | None, content: bytes) -> str | None:
    if declared is None or declared == "application/octet-stream":
        return next((kind for magic, kind in MAGIC if content.startswith(magic)), None)
    if declared in AS_PLAIN_TEXT:
        return "text/plain"
    return declared if declared in ACCEPTED else None


def _hash_matches(declared: Any, content: bytes) -> bool:
    if not isinstance(declared, str) or not declared:
        return True
    return base64.b64encode(hashlib.sha1(content).digest()).decode() == declared.strip()


def _title(raw: Mapping[str, Any], attachment: Mapping[str, Any]) -> str:
    for text in (
        raw.get("description"),
        concept_text(raw.get("type")),
        attachment.get("title"),
    ):
        if isinstance(text, str) and text.strip():
            return text.strip()
    return "Document"


def _kind(raw: Mapping[str, Any]) -> str | None:
    text = concept_text(raw.get("type"))
    for category in raw.get("category") or []:
        text = text or concept_text(category)
    return text[:200] if text else None


def _author(*, item: Item, ctx: MapContext) -> str | None:
    for reference in item.raw.get("author") or []:
        if not isinstance(reference, Mapping):
            continue
        target = ctx.target_raw(item=item, reference=reference) or {}
        name = display_name(target.get("name")) if isinstance(target.get("name"), list) else None
        name = name or (target.get("name") if isinstance(target.get("name"), str) else None)
        name = name or reference.get("display")
        if isinstance(name, str) and name.strip():
            return name.strip()[:200]
    return None


MAPPERS: dict[str, Mapper] = {"DocumentReference": map_document_reference}
