"""Writing the practice out as FHIR R4 (`steve export fhir`), validated with the R4B models.

`run.export_fhir` is the entry point. Choices, stated once:
- Output: a **transaction** Bundle per patient (`<dir>/patient-<id>.json`), so an EHR can load
  it as is, each entry a `PUT Type/id` (create or update under Steve's id); practitioners,
  their roles and organisations once in `practice.json` (load it first). With `--ndjson`, the
  Bulk Data layout: one `<ResourceType>.ndjson` per type, one resource a line, streamed.
- Ids: `<table>-<rowid>` (`patient-12`, `supplement-item-7`), the identifier
  `urn:steve:<table>|<rowid>` (the patient's scoped to the practice:
  `urn:steve:practice:<practice id>:patient|12`), and for imported rows the original
  record's identifier (system = its source system). Every resource's `meta.source` is
  `urn:steve:practice:<practice id>`. fullUrls are `urn:uuid:` UUIDs derived from `Type/id`
  (the same in every export); references are relative (`Patient/patient-12`), also across
  files.
- Steve's data without a FHIR element rides in `urn:steve:extension:*` extensions, supplements
  are MedicationStatements with the dietary-supplement category, clinical notes are
  DocumentReferences: see `tools.interop.fhir.conventions` and each module's docstring.
- Not exported: practice-level records with no patient (tasks and messages about no patient,
  digests), working hours, protocols, literature, users; no Encounter is made for a completed
  appointment (an importer would count the visit twice).
"""
