"""The agent: the model factory (llm), the document pipeline (documents/), the briefing and
evidence graphs (briefing/, evidence/), chat (chat/) and the chat's tools (toolbox/), which
wrap the practice operations of `tools/`. app.wiring builds what these run with.
"""
