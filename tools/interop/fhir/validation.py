"""One resource validated with the FHIR models of `fhir.resources` (R4B), or the problems why not.

R4 and R4B: `fhir.resources` 8 ships R5 as its default package and R4B (4.3) as
`fhir.resources.R4B`; it has no R4 (4.0.1) package. R4B is R4 plus additions, and the
resources a practice exchanges (Patient, Practitioner, Condition, Observation, MedicationRequest,
Encounter, ...) have the same elements in both, so R4 input is validated with the R4B models.
The R4 types that R4B removed (the MedicinalProduct* family, SubstanceNucleicAcid/Polymer/Protein/
ReferenceInformation/SourceMaterial/Specification, EffectEvidenceSynthesis,
RiskEvidenceSynthesis) have no model: such a resource is reported as a problem and skipped.
The models check structure, cardinality and primitive formats (dates, booleans, ids) and
reject unknown elements; they do not check that a code belongs to its value set (a `gender`
of "bogus" passes).

A failed validation becomes one problem per pydantic error, naming the field path and the
error type, never the input value (it may be patient data).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError

from tools.interop.fhir.problems import Problem

R4_ONLY_TYPES = frozenset(
    {
        "MedicinalProduct",
        "MedicinalProductAuthorization",
        "MedicinalProductContraindication",
        "MedicinalProductIndication",
        "MedicinalProductIngredient",
        "MedicinalProductInteraction",
        "MedicinalProductManufactured",
        "MedicinalProductPackaged",
        "MedicinalProductPharmaceutical",
        "MedicinalProductUndesirableEffect",
        "SubstanceNucleicAcid",
        "SubstancePolymer",
        "SubstanceProtein",
        "SubstanceReferenceInformation",
        "SubstanceSourceMaterial",
        "SubstanceSpecification",
        "EffectEvidenceSynthesis",
        "RiskEvidenceSynthesis",
    }
)

_classes: dict[str, type[Resource] | None] = {}


def model_class(*, resource_type: str) -> type[Resource] | None:
    """The R4B model class for a resource type name, or None when there is none."""
    if resource_type not in _classes:
        try:
            cls = get_fhir_model_class(resource_type)
        except (ValueError, KeyError, ImportError):
            cls = None
        if isinstance(cls, type) and issubclass(cls, Resource):
            _classes[resource_type] = cls
        else:
            _classes[resource_type] = None
    return _classes[resource_type]


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += part if not path else f".{part}"
    return path or "(resource)"


def validate_resource(
    *, raw: Mapping[str, Any], file: str, where: str
) -> tuple[Resource | None, list[Problem]]:
    """Validate one raw resource; the model, or None and the problems (field paths, no values)."""
    resource_type = raw.get("resourceType")
    if not isinstance(resource_type, str) or not resource_type:
        why = "no resourceType: not a FHIR resource"
        return None, [Problem(file=file, where=where, message=why)]
    cls = model_class(resource_type=resource_type)
    if cls is None:
        why = (
            "an R4 type that R4B removed, no model to validate it"
            if resource_type in R4_ONLY_TYPES
            else "not a FHIR resource type"
        )
        return None, [Problem(file=file, where=where, resource_type=resource_type, message=why)]
    try:
        return cls.model_validate(raw), []
    except ValidationError as error:
        problems = [
            Problem(
                file=file,
                where=where,
                resource_type=resource_type,
                field=_field_path(tuple(detail["loc"])),
                message=f"invalid ({detail['type']})",
            )
            for detail in error.errors(include_input=False, include_url=False)
        ]
        return None, problems
