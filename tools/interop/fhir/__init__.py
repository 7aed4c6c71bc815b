"""Reading FHIR R4 input (Bundles, directories, Bulk Data NDJSON) into validated resources.

`read.read_fhir` is the entry point; `sources` reads files, `validation` checks one resource
with the R4B models of `fhir.resources`, `references` resolves references in every form,
`compartments` groups resources by patient, `problems` is the problem record. No database.
"""
