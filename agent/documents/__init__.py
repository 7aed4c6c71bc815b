"""The document pipeline every generated document goes through: facts in, a composed text
(model or deterministic), checked against the facts, rendered.
"""
