"""Data in and out of a practice on the field's standards: FHIR R4 (`tools.interop.fhir`) and
HL7 v2 lab results (`tools.interop.hl7`). Reading and shaping only; writing to the practice
database is the caller's."""
