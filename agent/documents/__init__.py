"""The one document pipeline: facts -> compose -> verify -> render.

Every document Steve writes goes through it (briefings, evidence summaries, protocol-review
prompts, digest overviews): `facts` (the `Fact` and the data block a model reads),
`compose` (deterministic, or one model call), `verify` (citations, and the numbers and dates
of `claims`, against the facts cited), `render` (templates under prompts/templates/), and
`tokens` (prompt-token counts).
"""
