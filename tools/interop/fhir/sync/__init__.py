"""Staying in step with an EHR over FHIR REST: pull what changed since the last sync.

`config` (the settings' `ehr` section), `retry` (timeouts, retries, Retry-After), `auth`
(bearer token or SMART backend services), `client` (fhirpy searches, page by page),
`cursor` (how far each type has been read), `importer` (the page importer's protocol),
`pull` (the sync: a page and its cursor committed together), `run` (the sync from settings,
for `steve sync fhir` and the scheduled job). Cheap to import: heavy parts load on use.
"""
