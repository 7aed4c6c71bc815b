"""The problem record a FHIR read reports instead of raising: where, what kind, which field.

A problem names the file, the place in it (bundle entry index or NDJSON line number), the
resource type and the field path. It never carries a field's value: values may be patient data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input; the read goes on past it."""

    file: str
    message: str
    where: str | None = None  # "entry 3", "line 12"; None when it concerns the whole file
    resource_type: str | None = None
    field: str | None = None  # a field path such as "subject" or "name[0].given"

    def line(self) -> str:
        """The problem as one line: file, place, type, field, message."""
        parts = [self.file]
        if self.where is not None:
            parts.append(self.where)
        if self.resource_type is not None:
            parts.append(self.resource_type)
        if self.field is not None:
            parts.append(self.field)
        return ": ".join([", ".join(parts), self.message])
