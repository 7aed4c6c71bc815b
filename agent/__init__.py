"""LangGraph graphs (chat, briefing, evidence), the model factory, the toolbox and grounding.

Not built yet: see the agent issue. The practice operations it will wrap live in `tools/`.
"""
