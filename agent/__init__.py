"""The model-driven side of Steve: the LangGraph graphs (chat/, briefing/, evidence/), the one
model factory (llm.py), the document pipeline (documents/), the toolbox the chat agent calls
(toolbox/), token counting and the marking of untrusted text. The practice operations the
agent wraps are plain functions in `tools/`; `app.wiring` builds what these run with.
"""
