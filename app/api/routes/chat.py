"""Chat threads: send a message (JSON or streamed as server-sent events), list what waits
for approval, and approve, edit or reject it.

A thread belongs to the user who opened it; another user's thread id answers 404. Every
proposed write waits for the user's decision here; the agent's tools check access (the
same policy as these endpoints) and audit each call.

The request's transaction ends (`_release`) before the checkpointer or the graph is used:
the model may take a minute, the tools write in their own transactions, and on PostgreSQL
an idle open transaction would hold up the saver (issue 11: the first chat hung for ever).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import sqlite3
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool

from agent.chat import ChatSession
from app.api.chat_service import ChatService, approval_record, transcript, turn_record
from app.api.deps import Ctx, CurrentCtx, PageParams
from app.api.errors import ApiError, responses, steve_error_status
from app.api.params import ThreadPath
from db.engine import utcnow
from db.models import ChatThread
from tools.errors import InvalidInput, NotFound, SteveError
from tools.limits import FilledText, Line

router = APIRouter(prefix="/api/chat", tags=["chat"])
log = logging.getLogger("steve.api")


class Message(BaseModel):
    text: FilledText = Field(min_length=1, max_length=8000)


class DecisionBody(BaseModel):
    decision: Literal["approve", "reject", "edit"]
    args: dict[str, Any] = Field(
        default_factory=dict, description="With edit: the action's new arguments."
    )
    tool_call_id: Line | None = Field(default=None, max_length=100)

    def resume_value(self) -> dict[str, Any]:
        return {"decision": self.decision, "args": self.args, "tool_call_id": self.tool_call_id}


def service(request: Request) -> ChatService:
    return request.app.state.chat  # type: ignore[no-any-return]


def _limit(request: Request, ctx: Ctx) -> None:
    wait = request.app.state.chat_limiter.hit(f"user:{ctx.user.id}")
    if wait is not None:
        raise ApiError(
            429,
            "rate_limited",
            "too many chat messages; wait a moment",
            {"Retry-After": str(int(wait) + 1)},
        )


def _thread(ctx: Ctx, thread_id: str) -> ChatThread:
    thread = ctx.session.get(ChatThread, thread_id)
    if thread is None or thread.user_id != ctx.user.id:
        raise NotFound("chat thread", "given")  # never confirm another user's thread exists
    return thread


def _release(ctx: Ctx) -> None:
    """Commit what the request did so far: no transaction stays open while the checkpointer
    or the graph (model calls, tools) runs."""
    ctx.session.commit()


def _touch(ctx: Ctx, thread: ChatThread, text: str | None = None) -> None:
    if text and not thread.title:
        thread.title = " ".join(text.split())[:120]
    thread.updated_at = utcnow()
    ctx.session.add(thread)


def _thread_record(t: ChatThread) -> dict[str, Any]:
    return {"id": t.id, "title": t.title, "updated_at": t.updated_at.isoformat()}


@router.post("/threads", status_code=201, responses=responses(403))
def new_thread(ctx: CurrentCtx) -> dict[str, Any]:
    """Open a new conversation."""
    thread = ChatThread(id=secrets.token_urlsafe(16), user_id=ctx.user.id or 0)
    ctx.session.add(thread)
    return _thread_record(thread)


def recent_threads(ctx: Ctx, limit: int | None = None) -> list[ChatThread]:
    """The user's own conversations, most recent first."""
    stmt = (
        select(ChatThread)
        .where(ChatThread.user_id == ctx.user.id)
        .order_by(col(ChatThread.updated_at).desc())
    )
    return list(ctx.session.exec(stmt if limit is None else stmt.limit(limit)).all())


@router.get("/threads", responses=responses(422))
def threads(ctx: CurrentCtx, page: PageParams) -> dict[str, Any]:
    """Your conversations, most recent first."""
    rows = recent_threads(ctx)
    return page.envelope([_thread_record(t) for t in page.slice(rows)], len(rows))


@router.get("/threads/{thread_id}", responses=responses(404, 422))
def thread(ctx: CurrentCtx, request: Request, thread_id: ThreadPath) -> dict[str, Any]:
    """A conversation's messages and what waits for your approval."""
    t = _thread(ctx, thread_id)
    _release(ctx)
    chat = service(request).session(ctx.actor, t.id)
    return {
        **_thread_record(t),
        "messages": transcript(chat),
        "approvals": [approval_record(a) for a in chat.pending()],
    }


@router.get("/approvals", responses=responses())
def approvals(ctx: CurrentCtx, request: Request) -> dict[str, Any]:
    """Every action waiting for your decision, across your recent conversations."""
    rows = recent_threads(ctx, 50)
    _release(ctx)
    svc = service(request)
    items = [
        {"thread_id": t.id, **approval_record(a)}
        for t in rows
        for a in svc.session(ctx.actor, t.id).pending()
    ]
    return {"items": items}


def _run(fn: Callable[[], Any]) -> dict[str, Any]:
    try:
        return turn_record(fn())
    except (SteveError, sqlite3.Error, DBAPIError):
        raise  # ours, the chat store's or the database's: each has its own answer (errors.py)
    except Exception as exc:  # a model outage: a clear answer, nothing about the content
        log.warning("chat turn failed (%s)", type(exc).__name__)
        raise ApiError(502, "model_error", "the assistant could not answer; try again") from None


_TURN = responses(400, 403, 404, 413, 422, 429, 502)


@router.post("/threads/{thread_id}/messages", responses=_TURN)
def send(ctx: CurrentCtx, request: Request, thread_id: ThreadPath, body: Message) -> dict[str, Any]:
    """Send a message and wait for the whole answer (see /stream for server-sent events)."""
    _limit(request, ctx)
    chat = _chat_for(ctx, request, thread_id, body.text)
    return _run(lambda: chat.send(body.text))


@router.post("/threads/{thread_id}/decision", responses=_TURN)
def decide(
    ctx: CurrentCtx, request: Request, thread_id: ThreadPath, body: DecisionBody
) -> dict[str, Any]:
    """Approve, edit (new arguments, shown again for approval) or reject the waiting action."""
    _limit(request, ctx)
    chat = _chat_for(ctx, request, thread_id, None)
    return _run(lambda: chat.decide(body.resume_value()))


def _event(kind: str, data: Any) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode()


async def _stream(work: Callable[[Callable[[str], None]], Any]) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def put(kind: str, data: Any) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, (kind, data))

    def job() -> None:
        try:
            put("done", turn_record(work(lambda piece: put("token", {"text": piece}))))
        except SteveError as exc:
            status, code = steve_error_status(exc)
            put("error", {"code": code, "message": str(exc), "status": status})
        except Exception as exc:
            log.warning("chat turn failed (%s)", type(exc).__name__)
            put("error", {"code": "model_error", "message": "the assistant could not answer"})

    task = asyncio.ensure_future(run_in_threadpool(job))
    while True:
        kind, data = await queue.get()
        yield _event(kind, data)
        if kind in ("done", "error"):
            break
    await task


class EventStream(StreamingResponse):
    media_type = "text/event-stream"


def _sse(work: Callable[[Callable[[str], None]], Any]) -> StreamingResponse:
    return EventStream(_stream(work), headers={"X-Accel-Buffering": "no"})


def _chat_for(ctx: Ctx, request: Request, thread_id: str, text: str | None) -> ChatSession:
    t = _thread(ctx, thread_id)
    _release(ctx)
    chat = service(request).session(ctx.actor, t.id)
    # Only added to the session: written when the request commits (after the turn, or
    # before a streamed turn starts), so no transaction is open while the graph runs.
    _touch(ctx, t, text)
    return chat


# One server-sent event: its name and its JSON data (OpenAPI 3.2's per-event itemSchema).
_SSE_EVENT = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "enum": ["token", "done", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
}
_STREAM = {
    **responses(400, 403, 404, 413, 422, 429),
    200: {
        "description": "Server-sent events: `token` pieces, then one `done` or `error` event.",
        "content": {"text/event-stream": {"itemSchema": _SSE_EVENT}},
    },
}


@router.post("/threads/{thread_id}/stream", responses=_STREAM)
def send_streamed(
    ctx: CurrentCtx, request: Request, thread_id: ThreadPath, body: Message
) -> StreamingResponse:
    """Send a message; the answer streams as server-sent events: `token` pieces, then one
    `done` event with the reply and any approvals (or one `error` event)."""
    _limit(request, ctx)
    chat = _chat_for(ctx, request, thread_id, body.text)
    if chat.pending():
        raise InvalidInput("an action is waiting for your approval; approve, edit or reject it")
    return _sse(lambda on_text: chat.send(body.text, on_text))


@router.post("/threads/{thread_id}/decision/stream", responses=_STREAM)
def decide_streamed(
    ctx: CurrentCtx, request: Request, thread_id: ThreadPath, body: DecisionBody
) -> StreamingResponse:
    """A decision, with the rest of the turn streamed as server-sent events."""
    _limit(request, ctx)
    chat = _chat_for(ctx, request, thread_id, None)
    if not chat.pending():
        raise InvalidInput("nothing is waiting for approval in this conversation")
    return _sse(lambda on_text: chat.decide(body.resume_value(), on_text))
