"""Reading FHIR JSON values the way the mappers need them: codes, names, dates, quantities.

The mappers read the resources as JSON (already validated by `fhir.resources`), so these
functions accept anything and return None for what is absent or not of the expected shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from tools.interop.fhir.conventions import extension_value

# Code systems by their canonical URI, with the short name Steve shows.
SYSTEM_NAMES = {
    "http://snomed.info/sct": "SNOMED CT",
    "http://loinc.org": "LOINC",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "https://dmd.nhs.uk": "dm+d",
    "http://snomed.info/sct/999000011000001104": "dm+d",
    "http://hl7.org/fhir/sid/icd-10": "ICD-10",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://hl7.org/fhir/sid/ndc": "NDC",
    "http://unitsofmeasure.org": "UCUM",
    "http://www.ama-assn.org/go/cpt": "CPT",
}
SYSTEM_URIS = {name: uri for uri, name in reversed(list(SYSTEM_NAMES.items()))}


@dataclass(frozen=True)
class Coded:
    """One code: its system's short name (or URI), the code, and the words for it."""

    system: str | None
    code: str | None
    display: str | None


def system_name(uri: str | None) -> str | None:
    if not uri:
        return None
    return SYSTEM_NAMES.get(uri, uri)


def system_uri(name: str | None) -> str | None:
    """The canonical URI of a short system name (the inverse of `system_name`)."""
    if not name:
        return None
    return SYSTEM_URIS.get(name, name)


def codings(concept: Any) -> list[Mapping[str, Any]]:
    if not isinstance(concept, Mapping):
        return []
    return [c for c in concept.get("coding") or [] if isinstance(c, Mapping)]


def coded(concept: Any, *, prefer: Sequence[str] = ()) -> Coded:
    """The concept's first coding from a preferred system (by URI), else its first coding."""
    found = codings(concept)
    chosen = next(
        (c for uri in prefer for c in found if c.get("system") == uri),
        found[0] if found else None,
    )
    text = concept.get("text") if isinstance(concept, Mapping) else None
    if chosen is None:
        return Coded(None, None, text if isinstance(text, str) else None)
    display = chosen.get("display") or text
    return Coded(
        system_name(chosen.get("system")),
        _str(chosen.get("code")),
        display if isinstance(display, str) else None,
    )


def concept_text(concept: Any) -> str | None:
    """What a person would read for a CodeableConcept: its text, else a coding's display."""
    if not isinstance(concept, Mapping):
        return None
    if isinstance(concept.get("text"), str) and concept["text"].strip():
        return str(concept["text"]).strip()
    for coding in codings(concept):
        if isinstance(coding.get("display"), str) and coding["display"].strip():
            return str(coding["display"]).strip()
    for coding in codings(concept):
        if coding.get("code"):
            return str(coding["code"])
    return None


def has_code(concept: Any, *, system: str, codes: Iterable[str]) -> bool:
    wanted = set(codes)
    return any(c.get("system") == system and c.get("code") in wanted for c in codings(concept))


def any_concept_code(concepts: Any, *, codes: Iterable[str]) -> bool:
    """Does any coding of any concept in the list carry one of these codes (any system)?"""
    wanted = set(codes)
    return any(c.get("code") in wanted for concept in _list(concepts) for c in codings(concept))


def fhir_date(value: Any) -> date | None:
    """A FHIR date or dateTime ("2024", "2024-05", "2024-05-01", "2024-05-01T10:00:00Z")
    as a date; partial dates fall on the first day of their month or year."""
    if not isinstance(value, str) or len(value) < 4:
        return None
    try:
        parts = value[:10].split("-")
        year = int(parts[0])
        month = int(parts[1]) if len(parts) > 1 else 1
        day = int(parts[2]) if len(parts) > 2 else 1
        return date(year, month, day)
    except ValueError:
        return None


def fhir_instant(value: Any) -> datetime | None:
    """A FHIR dateTime or instant as an aware UTC datetime (a date alone is midnight UTC)."""
    if not isinstance(value, str) or not value:
        return None
    if len(value) <= 10:
        day = fhir_date(value)
        return None if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def period_start(raw: Mapping[str, Any], *fields: str) -> datetime | None:
    """The first of `fields` present: a dateTime, or a Period's start."""
    for name in fields:
        value = raw.get(name)
        if isinstance(value, Mapping):
            value = value.get("start")
        found = fhir_instant(value)
        if found is not None:
            return found
    return None


def human_name(names: Any) -> tuple[str | None, str | None]:
    """(given, family) from a HumanName list: the official name first, then the usual one."""
    entries = [n for n in _list(names) if isinstance(n, Mapping)]
    ranked = sorted(entries, key=lambda n: {"official": 0, "usual": 1}.get(str(n.get("use")), 2))
    for name in ranked:
        given = " ".join(str(g) for g in name.get("given") or [] if g)
        family = name.get("family")
        if not (given or family) and isinstance(name.get("text"), str):
            words = str(name["text"]).split()
            if words:
                return " ".join(words[:-1]) or None, words[-1]
        if given or family:
            return given or None, str(family) if family else None
    return None, None


def display_name(names: Any) -> str | None:
    """A practitioner's name as shown: "Dr Ann Lee" from prefix, given and family."""
    entries = [n for n in _list(names) if isinstance(n, Mapping)]
    for name in entries:
        if isinstance(name.get("text"), str) and name["text"].strip():
            return str(name["text"]).strip()
        words = [*(name.get("given") or []), name.get("family") or ""]
        text = " ".join(str(w) for w in words if w).strip()
        if text:
            return text
    return None


def name_prefix(names: Any) -> str | None:
    for name in _list(names):
        if isinstance(name, Mapping) and name.get("prefix"):
            return " ".join(str(p) for p in name["prefix"])[:100]
    return None


def telecom(points: Any, system: str) -> str | None:
    """The first contact point of a system ("phone", "email"), preferring use home/work."""
    found = [
        p
        for p in _list(points)
        if isinstance(p, Mapping) and p.get("system") == system and p.get("value")
    ]
    found.sort(key=lambda p: {"home": 0, "work": 1, "mobile": 2}.get(str(p.get("use")), 3))
    return str(found[0]["value"]) if found else None


def address_line(addresses: Any) -> str | None:
    for address in _list(addresses):
        if not isinstance(address, Mapping):
            continue
        if isinstance(address.get("text"), str) and address["text"].strip():
            return str(address["text"]).strip()
        words = [
            *[str(line) for line in address.get("line") or []],
            " ".join(str(address.get(k)) for k in ("postalCode", "city") if address.get(k)),
            str(address.get("state") or ""),
            str(address.get("country") or ""),
        ]
        text = ", ".join(w for w in words if w.strip())
        if text:
            return text
    return None


@dataclass(frozen=True)
class Amount:
    value: float | None
    unit: str | None
    comparator: str | None = None


def quantity(value: Any) -> Amount | None:
    """A Quantity's number and unit (the UCUM `code` when `unit` is absent)."""
    if not isinstance(value, Mapping):
        return None
    number = value.get("value")
    unit = value.get("unit") or value.get("code")
    return Amount(
        float(number) if isinstance(number, int | float) else None,
        str(unit) if unit else None,
        str(value["comparator"]) if value.get("comparator") else None,
    )


def dosage_text(dosages: Any) -> str | None:
    """A dosage list in words: each Dosage's text, else its dose and timing assembled."""
    parts = []
    for dosage in _list(dosages):
        if not isinstance(dosage, Mapping):
            continue
        if isinstance(dosage.get("text"), str) and dosage["text"].strip():
            parts.append(dosage["text"].strip())
            continue
        dose = next(
            (
                quantity(d.get("doseQuantity"))
                for d in dosage.get("doseAndRate") or []
                if isinstance(d, Mapping)
            ),
            None,
        )
        timing = concept_text((dosage.get("timing") or {}).get("code"))
        words = [f"{_number(dose.value)} {dose.unit or ''}".strip() if dose else "", timing or ""]
        text = " ".join(w for w in words if w)
        if text:
            parts.append(text)
    return "; ".join(parts)[:100] if parts else None


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def reference_id(reference: Any) -> tuple[str, str] | None:
    """(type, id) of a literal reference such as "Patient/12" or an absolute URL ending so."""
    if not isinstance(reference, Mapping):
        return None
    literal = reference.get("reference")
    if not isinstance(literal, str) or literal.startswith(("#", "urn:")) or "?" in literal:
        return None
    literal = literal.split("/_history/", 1)[0].rstrip("/")
    parts = literal.split("/")
    if len(parts) < 2 or not parts[-2][:1].isupper():
        return None
    return parts[-2], parts[-1]


def _list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


# ------------------------------------------------------------------ clinical records

IDENTIFIER_TYPES = "http://terminology.hl7.org/CodeSystem/v2-0203"
_WORDS_PER_DAY = {1: "once daily", 2: "twice daily", 3: "three times daily", 4: "four times daily"}
_UNIT_WORDS = {"s": "second", "min": "minute", "h": "hour", "d": "day", "wk": "week"}
_UNIT_WORDS |= {"mo": "month", "a": "year"}


def concept_codes(concepts: Any) -> set[str]:
    """Every code of every coding in a CodeableConcept or a list of them."""
    return {
        str(c["code"]) for concept in _list(concepts) for c in codings(concept) if c.get("code")
    }


def concept_words(concepts: Any) -> list[str]:
    """The text and displays of a CodeableConcept or a list of them, lower-cased."""
    words = []
    for concept in _list(concepts):
        if isinstance(concept, Mapping) and isinstance(concept.get("text"), str):
            words.append(concept["text"].casefold())
        words += [str(c["display"]).casefold() for c in codings(concept) if c.get("display")]
    return words


def identifier_of_type(identifiers: Any, code: str) -> str | None:
    """The value of the first identifier whose type carries a v2-0203 code (PLAC, FILL, MR)."""
    for identifier in _list(identifiers):
        if not isinstance(identifier, Mapping) or not identifier.get("value"):
            continue
        if code in concept_codes(identifier.get("type")):
            return str(identifier["value"])
    return None


def reference_display(reference: Any) -> str | None:
    if isinstance(reference, Mapping) and isinstance(reference.get("display"), str):
        return reference["display"].strip() or None
    return None


def period_end(raw: Mapping[str, Any], name: str) -> datetime | None:
    """A Period's end (`name` is the Period field, e.g. "effectivePeriod")."""
    value = raw.get(name)
    return fhir_instant(value.get("end")) if isinstance(value, Mapping) else None


def effective_time(raw: Mapping[str, Any]) -> datetime | None:
    """When an observation or report applies: effective[x] (a period's start)."""
    return period_start(raw, "effectiveDateTime", "effectivePeriod", "effectiveInstant")


def notes_text(notes: Any) -> str | None:
    """Annotation texts joined."""
    texts = [
        str(n["text"]).strip()
        for n in _list(notes)
        if isinstance(n, Mapping) and isinstance(n.get("text"), str) and n["text"].strip()
    ]
    return "; ".join(texts) or None


def dose_words(dosage: Any) -> str | None:
    """One Dosage's amount in words: "400 mg", "1-2 capsules", or None."""
    if not isinstance(dosage, Mapping):
        return None
    for rate in dosage.get("doseAndRate") or []:
        if not isinstance(rate, Mapping):
            continue
        amount = quantity(rate.get("doseQuantity"))
        if amount is not None and amount.value is not None:
            return f"{_number(amount.value)} {amount.unit or ''}".strip()
        dose_range = rate.get("doseRange")
        if isinstance(dose_range, Mapping):
            low, high = quantity(dose_range.get("low")), quantity(dose_range.get("high"))
            if low and high and low.value is not None and high.value is not None:
                unit = high.unit or low.unit or ""
                return f"{_number(low.value)}-{_number(high.value)} {unit}".strip()
    return None


def timing_words(dosage: Any) -> str | None:
    """How often a Dosage is taken: its timing code's words, else "twice daily",
    "every 8 hours", "once weekly" from timing.repeat, else "as needed"."""
    if not isinstance(dosage, Mapping):
        return None
    timing = dosage.get("timing") if isinstance(dosage.get("timing"), Mapping) else {}
    assert isinstance(timing, Mapping)
    words = concept_text(timing.get("code"))
    repeat = timing.get("repeat") if isinstance(timing.get("repeat"), Mapping) else None
    if words is None and repeat is not None:
        words = _repeat_words(repeat)
    if dosage.get("asNeededBoolean") is True or "asNeededCodeableConcept" in dosage:
        words = f"{words} as needed" if words else "as needed"
    return words


def _repeat_words(repeat: Mapping[str, Any]) -> str | None:
    frequency = repeat.get("frequency")
    period = repeat.get("period")
    unit = _UNIT_WORDS.get(str(repeat.get("periodUnit")))
    if not isinstance(frequency, int) or not isinstance(period, int | float) or unit is None:
        return None
    if period == 1 and unit == "day" and frequency in _WORDS_PER_DAY:
        return _WORDS_PER_DAY[frequency]
    if frequency == 1:
        if period == 1:
            return "once daily" if unit == "day" else f"once a {unit}"
        return f"every {_number(float(period))} {unit}s"
    span = f"{_number(float(period))} {unit}s" if period != 1 else unit
    return f"{frequency} times per {span}"


def code_columns(concept: Any, *, prefer: Sequence[str] = ()) -> dict[str, str | None]:
    """A row's `code_system` and `code`: the preferred system's coding, when it fits the
    columns (a code of up to 40 characters; a system name of up to 100)."""
    found = coded(concept, prefer=prefer)
    if not found.code or len(found.code) > 40:
        return {"code_system": None, "code": None}
    system = found.system if found.system and len(found.system) <= 100 else None
    return {"code_system": system, "code": found.code}


def steve_extension(element: Any, name: str) -> Any:
    """The value of Steve's own extension `urn:steve:extension:<name>` on a resource or an
    element (what Steve's FHIR export writes for fields FHIR has no element for), or None;
    `conventions.extension_value` for anything, not only a JSON object."""
    return extension_value(element, name) if isinstance(element, Mapping) else None


def steve_row(identifiers: Any, table: str) -> bool:
    """Does the record carry a Steve row identifier of `table` (`urn:steve:<table>`)?"""
    return any(
        isinstance(i, Mapping) and i.get("system") == f"urn:steve:{table}"
        for i in _list(identifiers)
    )


@dataclass(frozen=True)
class Measured:
    """An Observation's (or a component's) value: a number with its unit, or words."""

    value: float | None
    text: str | None
    unit: str | None

    def shown(self) -> str | None:
        """The value as a person reads it: "5.4 mmol/L", "<0.5 mg/L", "positive"."""
        if self.text:
            return self.text
        if self.value is None:
            return None
        return f"{_number(self.value)} {self.unit or ''}".strip()


def measured(element: Any) -> Measured | None:
    """value[x] of an Observation or component (a comparator keeps the number and says it in
    words; dataAbsentReason gives words), or None when there is no value."""
    if not isinstance(element, Mapping):
        return None
    amount = quantity(element.get("valueQuantity"))
    if amount is not None:
        text = f"{amount.comparator}{_number(amount.value)}" if amount.comparator else None
        return Measured(amount.value, text, amount.unit)
    number = element.get("valueInteger")
    if isinstance(number, int) and not isinstance(number, bool):
        return Measured(float(number), None, None)
    for name in ("valueString", "valueDateTime", "valueTime"):
        if isinstance(element.get(name), str) and element[name].strip():
            return Measured(None, str(element[name]).strip(), None)
    if "valueCodeableConcept" in element:
        return Measured(None, concept_text(element["valueCodeableConcept"]), None)
    if isinstance(element.get("valueBoolean"), bool):
        return Measured(None, "yes" if element["valueBoolean"] else "no", None)
    if isinstance(element.get("valueRange"), Mapping):
        low = quantity(element["valueRange"].get("low"))
        high = quantity(element["valueRange"].get("high"))
        bounds = [_number(q.value) if q else "" for q in (low, high)]
        bound = high or low
        unit = bound.unit if bound is not None else None
        return Measured(None, "-".join(bounds), unit)
    if isinstance(element.get("valueRatio"), Mapping):
        parts = [quantity(element["valueRatio"].get(k)) for k in ("numerator", "denominator")]
        return Measured(None, ":".join(_number(q.value) if q else "" for q in parts), None)
    if "dataAbsentReason" in element:
        return Measured(None, concept_text(element["dataAbsentReason"]), None)
    return None


def first_day(raw: Mapping[str, Any], *fields: str) -> date | None:
    """The first of `fields` present as the day the record writes (a dateTime's own date, not
    moved to UTC: "2024-03-04T23:30:00-05:00" is the 4th), or a Period's start day."""
    for name in fields:
        value = raw.get(name)
        if isinstance(value, Mapping):
            value = value.get("start")
        found = fhir_date(value)
        if found is not None:
            return found
    return None


UNIT_WORDS = {  # Timing.repeat.periodUnit: (adverb for one, noun for several)
    "s": ("every second", "seconds"),
    "min": ("every minute", "minutes"),
    "h": ("hourly", "hours"),
    "d": ("daily", "days"),
    "wk": ("weekly", "weeks"),
    "mo": ("monthly", "months"),
    "a": ("yearly", "years"),
}
TIMES = {1: "once", 2: "twice"}


def timing_text(timing: Any) -> str | None:
    """A Timing in words: "weekly", "every 2 weeks", "twice weekly", "3 times every 2 weeks",
    with "(6 sessions)" when it has a count; else its code's text; else None."""
    if not isinstance(timing, Mapping):
        return None
    repeat = timing.get("repeat") if isinstance(timing.get("repeat"), Mapping) else {}
    assert isinstance(repeat, Mapping)
    unit = UNIT_WORDS.get(str(repeat.get("periodUnit")))
    period = repeat.get("period")
    text = None
    if unit is not None and isinstance(period, int | float) and period > 0:
        frequency = repeat.get("frequency")
        times = int(frequency) if isinstance(frequency, int) and frequency > 0 else 1
        every = unit[0] if period == 1 else f"every {_number(float(period))} {unit[1]}"
        text = every if times == 1 else f"{TIMES.get(times, f'{times} times')} {every}"
    text = text or concept_text(timing.get("code"))
    count = repeat.get("count")
    if text and isinstance(count, int) and count > 0:
        text = f"{text} ({count} session{'s' if count != 1 else ''})"
    return text
