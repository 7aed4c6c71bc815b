"""Interoperability: reading the standards other systems send (FHIR R4 in `fhir/`)."""
