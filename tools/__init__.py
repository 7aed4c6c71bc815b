"""The practice's operations: plain keyword-only functions over a database session (patients
and the registry, programmes, scheduling/, referrals, care, labs and supplies, tasks,
messages, notes, access, audit, users) and research tracking in literature/. No models and
no agent: the agent and the ways in call these.
"""
