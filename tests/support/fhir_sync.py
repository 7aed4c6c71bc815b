"""Helpers for the EHR sync's tests: an idempotent page importer that writes real rows,
resources to serve, and signing keys for SMART backend services."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from db.models import RecordSource
from tools.interop.fhir.sync.cursor import parse_instant

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FAKE_TABLE = "sync_probe"  # the table_name the importer's rows claim (no such table needed)


@dataclass
class ProvenanceImporter:
    """Writes one `record_source` row per resource through the sync's session, idempotent
    by provenance as the real importer is: the same version again changes nothing, a newer
    one updates the row in place. `fail_on` raises inside page N (after writing part of it),
    so the page's transaction must roll back."""

    fail_on: int | None = None
    pages: int = 0
    calls: list[list[str]] = field(default_factory=list)

    def __call__(
        self, *, session: Session, source_system: str, resources: Sequence[dict[str, Any]]
    ) -> dict[str, int]:
        self.pages += 1
        self.calls.append([f"{r['resourceType']}/{r['id']}" for r in resources])
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        for index, resource in enumerate(resources):
            if self.fail_on == self.pages and index == len(resources) // 2:
                raise RuntimeError("importer failed half-way through a page")
            counts[_upsert(session, source_system, resource)] += 1
        session.flush()
        return counts


def _upsert(session: Session, system: str, resource: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(resource, sort_keys=True).encode()).hexdigest()
    meta = resource.get("meta") or {}
    row = session.exec(
        select(RecordSource).where(
            RecordSource.source_system == system,
            RecordSource.resource_type == resource["resourceType"],
            RecordSource.resource_id == resource["id"],
            RecordSource.table_name == FAKE_TABLE,
        )
    ).first()
    if row is not None and row.content_hash == digest:
        return "unchanged"
    when = parse_instant(meta.get("lastUpdated", ""))
    if row is None:
        highest = session.exec(
            select(func.max(col(RecordSource.row_id))).where(RecordSource.table_name == FAKE_TABLE)
        ).one()
        row = RecordSource(
            source_system=system,
            resource_type=resource["resourceType"],
            resource_id=resource["id"],
            table_name=FAKE_TABLE,
            row_id=(highest or 0) + 1,
            content_hash=digest,
        )
        outcome = "created"
    else:
        outcome = "updated"
    row.version_id, row.last_updated, row.content_hash = meta.get("versionId"), when, digest
    session.add(row)
    return outcome


def imported(session: Session) -> list[tuple[str, str, str | None]]:
    """(type, id, version) of every row the importer wrote, sorted."""
    rows = session.exec(select(RecordSource).where(RecordSource.table_name == FAKE_TABLE)).all()
    return sorted((r.resource_type, r.resource_id, r.version_id) for r in rows)


def patient(number: int) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": f"pat-{number:03d}",
        "identifier": [{"system": "urn:mrn", "value": f"MRN{number:05d}"}],
        "name": [{"family": f"Family{number}", "given": ["Test"]}],
        "birthDate": "1980-01-01",
    }


def observation(number: int, patient_number: int) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"obs-{number:03d}",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2276-4"}]},
        "subject": {"reference": f"Patient/pat-{patient_number:03d}"},
    }


def seconds(n: float) -> datetime:
    return T0 + timedelta(seconds=n)


@dataclass(frozen=True)
class SigningKey:
    algorithm: str
    private_pem: str
    public_pem: str


def signing_key(algorithm: str) -> SigningKey:
    """A fresh RSA (RS384) or P-384 (ES384) key pair, PEM-encoded."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key: Any = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if algorithm == "RS384"
        else ec.generate_private_key(ec.SECP384R1())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return SigningKey(algorithm, private, public)
