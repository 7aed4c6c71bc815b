"""The bounds every edge (API, CLI, chat tools) enforces on record ids, dates and free text.

- A record id is a whole number from 1 to 2**31-1, the largest the id columns hold
  (INTEGER: PostgreSQL's int4; past 2**63-1 the drivers overflow before asking). A bool is
  not an id (JSON `true` is not 1).
- A day that drives date arithmetic lies in 1900-01-01..2100-12-31: `date.max + 1 day`
  overflows, and no appointment, briefing or task is about a day outside that range.
- Free text refuses NUL and other control characters: PostgreSQL cannot store NUL, and no
  title or note needs a bell or an escape sequence (multi-line text keeps tab and newlines).

The pydantic types here carry both the check (with a message naming the rule, never the
value) and the JSON Schema that documents it (`pattern`, `minimum`, `maximum`), so the
OpenAPI description says exactly what is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

from tools.errors import InvalidInput

MAX_ID = 2**31 - 1
MIN_DAY = date(1900, 1, 1)
MAX_DAY = date(2100, 12, 31)

# A JSON body's id: strict (no "5", 5.0 or true), from 1 to MAX_ID.
RecordId = Annotated[int, Field(ge=1, le=MAX_ID, strict=True)]

# Control characters refused in one line (all) and in multi-line text (all but \t \n \r).
_LINE_BAD_CLASS = "\\x00-\\x1f\\x7f"
_TEXT_BAD_CLASS = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f"
_LINE_BAD = re.compile(f"[{_LINE_BAD_CLASS}]")
_TEXT_BAD = re.compile(f"[{_TEXT_BAD_CLASS}]")
# ISO calendar day in range, so a schema-driven client only ever sends days we accept.
_DAY_PATTERN = r"^(19[0-9]{2}|20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
_DAY_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def check_id(value: int, what: str = "id") -> int:
    """An id from a loose source (a CLI argument, a chat tool's argument), or InvalidInput."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise InvalidInput(f"{what} must be a whole number from 1 to {MAX_ID}")
    return value


def check_day(day: date, what: str = "date") -> date:
    """A day inside the range date arithmetic is safe in, or InvalidInput naming the range."""
    if not MIN_DAY <= day <= MAX_DAY:
        raise InvalidInput(
            f"{what} must be between {MIN_DAY.isoformat()} and {MAX_DAY.isoformat()}"
        )
    return day


def control_character(text: str, *, multiline: bool) -> bool:
    return (_TEXT_BAD if multiline else _LINE_BAD).search(text) is not None


def check_text(text: str, what: str, *, multiline: bool = False) -> str:
    """Free text without NUL or other control characters, or InvalidInput naming the field."""
    if control_character(text, multiline=multiline):
        raise InvalidInput(f"{what} must not contain NUL or other control characters")
    return text


@dataclass(frozen=True)
class NoControlChars:
    """Annotation for `str`: refuse control characters (tab/newline/CR allowed when
    multi-line), documented as a JSON Schema `pattern`."""

    multiline: bool = False
    filled: bool = False  # something besides spaces (a title, a name)

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def check(value: str) -> str:
            if control_character(value, multiline=self.multiline):
                raise PydanticCustomError(
                    "control_character", "must not contain NUL or other control characters"
                )
            if self.filled and not value.strip():
                raise PydanticCustomError("blank", "must not be blank")
            return value

        return core_schema.no_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        out = dict(handler(schema))
        bad = _TEXT_BAD_CLASS if self.multiline else _LINE_BAD_CLASS
        if self.filled:  # something besides spaces somewhere
            out["pattern"] = f"^[^{bad}]*[^\\s{bad}][^{bad}]*$"
        else:
            out["pattern"] = f"^[^{bad}]*$"
        return out


# One line (reasons, filters), a filled line (titles, names: not only spaces) and
# multi-line text (details, notes, chat messages).
Line = Annotated[str, NoControlChars(multiline=False)]
FilledLine = Annotated[str, NoControlChars(multiline=False, filled=True)]
FilledText = Annotated[str, NoControlChars(multiline=True, filled=True)]
Text = Annotated[str, NoControlChars(multiline=True)]


class _PlainValidated:
    """An annotation whose own `_parse` is the whole validation, with a fixed JSON schema."""

    json_schema: ClassVar[dict[str, str]] = {}

    @staticmethod
    def _parse(value: Any) -> Any:
        raise NotImplementedError

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self._parse)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        return dict(self.json_schema)


def _within_range(day: date, code: str) -> None:
    if not MIN_DAY <= day <= MAX_DAY:
        raise PydanticCustomError(
            code, f"must be between {MIN_DAY.isoformat()} and {MAX_DAY.isoformat()}"
        )


class _BoundedDay(_PlainValidated):
    """Annotation for `date`: ISO text `YYYY-MM-DD` (or a date object) from MIN_DAY to
    MAX_DAY; refuses what pydantic would otherwise guess (`0` as a Unix timestamp)."""

    @staticmethod
    def _parse(value: Any) -> date:
        if isinstance(value, date) and not isinstance(value, datetime):
            day = value
        elif isinstance(value, str) and _DAY_TEXT.fullmatch(value):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                raise PydanticCustomError("date_invalid", "not a calendar date") from None
        else:
            raise PydanticCustomError("date_format", "expected a date as YYYY-MM-DD")
        _within_range(day, "date_range")
        return day

    json_schema: ClassVar[dict[str, str]] = {
        "type": "string",
        "format": "date",
        "pattern": _DAY_PATTERN,
    }


Day = Annotated[date, _BoundedDay()]


_INSTANT_PATTERN = (
    r"^(19[0-9]{2}|20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)


class _BoundedInstant(_PlainValidated):
    """Annotation for `datetime`: ISO text with a zone (`2026-11-23T08:00:00Z`), in the
    same year range as Day; a naive time or a bare number is refused."""

    @staticmethod
    def _parse(value: Any) -> datetime:
        if isinstance(value, datetime):
            when = value
        elif isinstance(value, str) and re.fullmatch(_INSTANT_PATTERN, value):
            try:
                when = datetime.fromisoformat(value)
            except ValueError:
                raise PydanticCustomError("datetime_invalid", "not a calendar date") from None
        else:
            raise PydanticCustomError(
                "datetime_format", "expected a date-time with a zone, YYYY-MM-DDTHH:MM:SSZ"
            )
        if when.tzinfo is None:
            raise PydanticCustomError("datetime_naive", "needs a time zone (Z or +HH:MM)")
        _within_range(when.date(), "datetime_range")
        return when

    json_schema: ClassVar[dict[str, str]] = {
        "type": "string",
        "format": "date-time",
        "pattern": _INSTANT_PATTERN,
    }


Instant = Annotated[datetime, _BoundedInstant()]
