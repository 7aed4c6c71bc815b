"""Retrieval evaluation: labelled queries over the demo practice and a runner.

`python -m evals.retrieval [--ranker bm25]` builds the demo (seed 7, 300 patients, today
2026-11-23, Europe/London) in a temporary directory, indexes its notes, care-team messages
and literature as memory documents, runs every query in `queries.jsonl` (patient-scoped ones
filtered to that patient) and prints recall@5 and MRR as a Markdown table.
"""
