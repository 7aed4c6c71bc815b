"""A lab's CSV mapping file (TOML or JSON): which column holds what, and how dates are written.

    [lab]
    name = "Northside Functional Lab"   # the lab on new orders (--lab overrides)
    source = "northside-lab"            # the source system of its records (default: name)

    [patient]
    identifier_system = "EHR"           # the system the patient-id column's values belong to
    identifier_kind = "MR"

    [columns]                           # the file's header names; leave out what it lacks
    patient_id = "Patient ID"
    given_name = "First Name"
    family_name = "Last Name"
    birth_date = "DOB"
    order_number = "Accession"
    panel = "Panel"
    test_code = "LOINC"
    test_name = "Test"
    value = "Result"
    unit = "Units"
    reference_range = "Reference Range"
    flag = "Flag"
    status = "Status"
    collected = "Collected"
    resulted = "Reported"

    [format]
    date = "%m/%d/%Y"                   # strftime format of birth, collected and resulted dates
    code_system = "LN"                  # the coding system of test codes (LN: LOINC)
    delimiter = ","
    encoding = "utf-8"

Required: a patient identifier column or given name, family name and birth date; a test
code or name; a value. Every problem with the file is one line naming the key.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

COLUMNS = (
    "patient_id",
    "given_name",
    "family_name",
    "birth_date",
    "order_number",
    "panel",
    "test_code",
    "test_name",
    "value",
    "unit",
    "reference_range",
    "flag",
    "status",
    "collected",
    "resulted",
)
_SECTIONS = {"lab", "patient", "columns", "format"}


class MappingError(ValueError):
    """The mapping file cannot be used (the message names the file and key)."""


@dataclass(frozen=True)
class LabCsvMapping:
    columns: dict[str, str]
    lab_name: str = ""
    source: str = ""
    identifier_system: str = ""
    identifier_kind: str | None = None
    date_format: str = "%Y-%m-%d"
    code_system: str = "LN"
    delimiter: str = ","
    encoding: str = "utf-8"
    extra: dict[str, Any] = field(default_factory=dict)

    def column(self, name: str) -> str | None:
        return self.columns.get(name)


def load_mapping(path: Path) -> LabCsvMapping:
    """The mapping in `path` (.toml or .json), checked."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise MappingError(f"{path.name}: cannot be read as UTF-8 text") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError):
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise MappingError(f"{path.name}: not valid {kind}") from None
    if not isinstance(data, dict):
        raise MappingError(f"{path.name}: not a table of sections")
    return _mapping(data, path.name)


def _section(data: dict[str, Any], name: str, where: str) -> dict[str, str]:
    section = data.get(name, {})
    if not isinstance(section, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in section.items()
    ):
        raise MappingError(f"{where}: [{name}] must hold text values only")
    return section


def _mapping(data: dict[str, Any], where: str) -> LabCsvMapping:
    unknown = sorted(set(data) - _SECTIONS)
    if unknown:
        raise MappingError(f"{where}: unknown section [{unknown[0]}]")
    columns = {k: v.strip() for k, v in _section(data, "columns", where).items() if v.strip()}
    for key in columns:
        if key not in COLUMNS:
            raise MappingError(f"{where}: unknown column key columns.{key}")
    lab, patient, fmt = (_section(data, n, where) for n in ("lab", "patient", "format"))
    if "patient_id" not in columns and not {"given_name", "family_name", "birth_date"} <= set(
        columns
    ):
        raise MappingError(
            f"{where}: columns.patient_id (or given_name, family_name and birth_date) is required"
        )
    if "patient_id" in columns and not patient.get("identifier_system", "").strip():
        raise MappingError(f"{where}: patient.identifier_system is required with a patient_id")
    if "test_code" not in columns and "test_name" not in columns:
        raise MappingError(f"{where}: columns.test_code or columns.test_name is required")
    if "value" not in columns:
        raise MappingError(f"{where}: columns.value is required")
    date_format = fmt.get("date", "%Y-%m-%d")
    try:
        datetime.strptime(datetime(2001, 2, 3).strftime(date_format), date_format)
    except ValueError:
        raise MappingError(f"{where}: format.date is not a strftime format") from None
    delimiter = fmt.get("delimiter", ",")
    if len(delimiter) != 1:
        raise MappingError(f"{where}: format.delimiter must be one character")
    encoding = fmt.get("encoding", "utf-8")
    try:
        "".encode(encoding)
    except LookupError:
        raise MappingError(f"{where}: format.encoding is not a known encoding") from None
    return LabCsvMapping(
        columns=columns,
        lab_name=lab.get("name", "").strip(),
        source=lab.get("source", "").strip(),
        identifier_system=patient.get("identifier_system", "").strip(),
        identifier_kind=patient.get("identifier_kind", "").strip() or None,
        date_format=date_format,
        code_system=fmt.get("code_system", "LN"),
        delimiter=delimiter,
        encoding=encoding,
    )
