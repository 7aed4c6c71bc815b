"""FHIR -> Steve mapping: (being written)."""

from __future__ import annotations

from tools.interop.fhir.mapping.context import Mapper

MAPPERS: dict[str, Mapper] = {}
