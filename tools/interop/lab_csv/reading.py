"""A lab's CSV file read through its mapping: each row checked, rows grouped by patient and
by order. A problem names the row (the file's line, the header being row 1) and the column,
never the value. A patient with any bad row is left out whole (never half a patient's
results); the other patients' rows are taken."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from db.models import ResultStatus
from tools.interop.hl7.values import parse_number
from tools.interop.lab_csv.mapping import LabCsvMapping
from tools.interop.lab_results.incoming import (
    IncomingOrder,
    IncomingResult,
    code_system,
    flag_for,
    parse_range,
    read_flag,
    read_status,
)
from tools.interop.matching import Identifier, Identity

MAX_TEXT = 200


@dataclass(frozen=True)
class RowProblem:
    row: int  # 0: the file itself (its header)
    column: str  # the file's header name ("" for the file)
    reason: str

    def __str__(self) -> str:
        if not self.row:
            return f"{self.column}: {self.reason}" if self.column else self.reason
        return f"row {self.row}, column {self.column}: {self.reason}"


@dataclass
class PatientRows:
    """One patient's rows: who, the rows' numbers and text (kept if held), their orders."""

    identity: Identity
    rows: list[int] = field(default_factory=list)
    lines: list[dict[str, str]] = field(default_factory=list)
    results: dict[str, list[tuple[int, IncomingResult]]] = field(default_factory=dict)
    order_info: dict[str, tuple[str | None, str, str | None, date | None]] = field(
        default_factory=dict
    )
    bad: bool = False

    @property
    def where(self) -> str:
        return (
            f"rows {self.rows[0]}-{self.rows[-1]}" if len(self.rows) > 1 else f"row {self.rows[0]}"
        )

    def orders(self) -> list[IncomingOrder]:
        out = []
        for key, results in self.results.items():
            number, panel, code, collected = self.order_info[key]
            out.append(
                IncomingOrder(
                    key=key,
                    where=f"row {results[0][0]}",
                    placer_number=None,
                    filler_number=number[:100] if number else None,
                    panel=panel,
                    panel_code=code,
                    ordered_on=collected,
                    orderer=None,
                    results=tuple(_unique(r for _, r in results)),
                )
            )
        return out


@dataclass
class CsvRead:
    header: list[str]
    patients: list[PatientRows]
    problems: list[RowProblem]
    rows: int = 0


def _unique(results: object) -> list[IncomingResult]:
    seen: dict[str, int] = {}
    out = []
    for result in results:  # type: ignore[attr-defined]
        count = seen.get(result.key, 0) + 1
        seen[result.key] = count
        out.append(result if count == 1 else _rekey(result, f"{result.key}#{count}"))
    return out


def _rekey(result: IncomingResult, key: str) -> IncomingResult:
    from dataclasses import replace

    return replace(result, key=key)


def read_csv(*, path: Path, mapping: LabCsvMapping) -> CsvRead:
    """Every row of `path` checked and grouped (module doc)."""
    try:
        text = path.read_bytes().decode(mapping.encoding)
    except (OSError, UnicodeDecodeError):
        return CsvRead([], [], [RowProblem(0, path.name, f"cannot be read as {mapping.encoding}")])
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=mapping.delimiter)
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [(key, name) for key, name in mapping.columns.items() if name not in header]
    if not header or missing:
        key, name = missing[0] if missing else ("header", "")
        reason = f"no column {name!r} (columns.{key}) in the header" if name else "no header row"
        return CsvRead(header, [], [RowProblem(0, path.name, reason)])
    patients: dict[tuple[str, ...], PatientRows] = {}
    problems: list[RowProblem] = []
    count = 0
    try:
        for line in reader:
            count += 1
            _take_row(line, reader.line_num, mapping, patients, problems)
    except csv.Error:
        problems.append(RowProblem(reader.line_num, path.name, "not valid CSV from here on"))
    return CsvRead(header, list(patients.values()), problems, count)


class _Bad(Exception):
    def __init__(self, problem: RowProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _take_row(
    line: dict[str, str],
    row: int,
    mapping: LabCsvMapping,
    patients: dict[tuple[str, ...], PatientRows],
    problems: list[RowProblem],
) -> None:
    cells = _Cells(line, row, mapping)
    try:
        identity, group_key = _identity(cells, mapping)
    except _Bad as bad:
        problems.append(bad.problem)
        return
    group = patients.setdefault(group_key, PatientRows(identity=identity))
    group.rows.append(row)
    group.lines.append({k: v or "" for k, v in line.items() if k is not None})
    try:
        order_key, info, result = _row_result(cells, mapping)
    except _Bad as bad:
        problems.append(bad.problem)
        group.bad = True
        return
    group.order_info.setdefault(order_key, info)
    group.results.setdefault(order_key, []).append((row, result))


@dataclass
class _Cells:
    line: dict[str, str]
    row: int
    mapping: LabCsvMapping

    def get(self, key: str) -> str:
        column = self.mapping.column(key)
        return (self.line.get(column) or "").strip() if column else ""

    def bad(self, key: str, reason: str) -> _Bad:
        return _Bad(RowProblem(self.row, self.mapping.column(key) or key, reason))

    def day(self, key: str) -> date | None:
        text = self.get(key)
        if not text:
            return None
        try:
            return datetime.strptime(text, self.mapping.date_format).date()
        except ValueError:
            raise self.bad(key, f"not a date as {self.mapping.date_format}") from None


def _identity(cells: _Cells, mapping: LabCsvMapping) -> tuple[Identity, tuple[str, ...]]:
    identifier = cells.get("patient_id")
    given, family = cells.get("given_name"), cells.get("family_name")
    born = cells.day("birth_date")
    if not identifier and not (given and family and born):
        key = "patient_id" if mapping.column("patient_id") else "family_name"
        raise cells.bad(key, "no patient identifier (nor name and birth date)")
    identifiers = (
        [Identifier(mapping.identifier_system, identifier, mapping.identifier_kind)]
        if identifier
        else []
    )
    identity = Identity(
        identifiers=identifiers,
        given_name=given or None,
        family_name=family or None,
        birth_date=born,
    )
    group: tuple[str, ...] = (
        ("id", identifier)
        if identifier
        else ("name", given.casefold(), family.casefold(), str(born))
    )
    return identity, group


def _row_result(
    cells: _Cells, mapping: LabCsvMapping
) -> tuple[str, tuple[str | None, str, str | None, date | None], IncomingResult]:
    code, name = cells.get("test_code"), cells.get("test_name")
    if not code and not name:
        raise cells.bad("test_code" if mapping.column("test_code") else "test_name", "no test")
    status = read_status(cells.get("status"))
    if status is None:
        raise cells.bad("status", "not a result status (F, P, C, X or final, ...)")
    raw_value = cells.get("value")
    if not raw_value and status != ResultStatus.CANCELLED:
        raise cells.bad("value", "no value")
    number: float | None = None
    text: str | None = None
    if raw_value:
        try:
            number = float(parse_number(text=raw_value))
        except Exception:
            text = raw_value if len(raw_value) <= MAX_TEXT else None
            if text is None:
                raise cells.bad("value", f"longer than {MAX_TEXT} characters") from None
    flag_text = cells.get("flag")
    flag = read_flag([flag_text] if flag_text else [])
    if flag is None:
        raise cells.bad("flag", "not an abnormal flag (N, H, L, HH, LL, A, AA)")
    low, high, ref_text = parse_range(cells.get("reference_range"))
    collected, resulted = cells.day("collected"), cells.day("resulted")
    unit = cells.get("unit")
    if len(unit) > 40 or len(code) > 40:
        raise cells.bad("unit" if len(unit) > 40 else "test_code", "too long to store")
    number_text = cells.get("order_number")
    panel = cells.get("panel") or ("" if number_text else name or code)
    order_key = f"order:{number_text}" if number_text else f"panel:{panel}|{collected}"
    system = code_system(mapping.code_system) if code else None
    issued = datetime(resulted.year, resulted.month, resulted.day, tzinfo=UTC) if resulted else None
    result = IncomingResult(
        key=f"{system or ''}^{code or name}",
        analyte=(name or code)[:MAX_TEXT],
        code=code or None,
        code_system=system,
        value=number,
        value_text=text,
        unit=unit or None,
        ref_low=low,
        ref_high=high,
        ref_text=ref_text[:MAX_TEXT] if ref_text else None,
        flag=flag_for(given=flag, sent=bool(flag_text), value=number, low=low, high=high),
        status=status,
        resulted_on=resulted,
        issued_at=issued,
    )
    info = (
        number_text or None,
        (panel or name or code or "lab results")[:MAX_TEXT],
        None,
        collected,
    )
    return order_key, info, result
