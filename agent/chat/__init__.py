"""The chat agent: the graph (graph.py) and one user's conversation over it (session.py)."""

from agent.chat.graph import ChatDeps, build_chat_graph
from agent.chat.session import ChatSession, Turn

__all__ = ["ChatDeps", "ChatSession", "Turn", "build_chat_graph"]
