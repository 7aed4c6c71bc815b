"""The chat graph's state: the conversation, its owner and the turn's pending approvals."""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from langgraph.managed import RemainingSteps
from typing_extensions import TypedDict


class Approval(TypedDict):
    """One write the model proposed, as a person will see it before deciding."""

    tool_call_id: str
    tool: str
    args: dict[str, Any]
    summary: str  # exactly what will be done, in words, with names and local times


class ChatState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    user_id: int  # the practitioner whose thread this is (set by the server, never the model)
    pending: list[Approval]  # writes of the last model reply that wait for a decision
    # tool call id -> approved / edited / rejected / not_needed, for the last model reply
    decisions: dict[str, str]
    remaining_steps: RemainingSteps  # from the recursion limit, for a graceful stop
