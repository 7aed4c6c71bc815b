"""`steve chat`: talk to Steve in the terminal, approving actions at the prompt.

Interactive by default (streamed replies; each proposed action is shown exactly and asked
y/e/n). For scripts and tests: `--message TEXT` sends one message, and `--approve`,
`--reject` or `--edit JSON` answer a waiting approval; `--thread ID` continues a thread,
also after a restart.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from langchain_core.language_models import BaseChatModel

from agent.chat import ChatSession, Turn, build_chat_graph
from agent.toolbox.execute import OUTCOME_TEXT, outcome_of
from app import wiring
from app.cli.acting import act_as
from app.cli.common import console, engine, err_console, handle_errors, settings
from db.engine import session_scope
from tools.access import AccessDenied
from tools.errors import InvalidInput


def chat_model() -> BaseChatModel | None:
    """The configured model (tests replace this with a scripted one)."""
    return wiring.chat_model(settings())


def chat_memory(eng: Any, wanted: bool | None) -> Any:
    """Long-term memory for the chat's search tools: on when a store exists (or is asked for).

    Opening is cheap; the embedding model loads on the first search only.
    """
    if wanted is False or (wanted is None and not wiring.memory_configured(settings())):
        return None
    from app.cli.memory import open_store
    from memory.retrieval import Retriever

    return Retriever(store=open_store(), engine=eng)


@contextmanager
def open_session(who: str, thread_id: str, memory: bool | None = None) -> Iterator[ChatSession]:
    s = settings()
    eng = engine()
    try:
        with session_scope(eng) as db:
            try:
                actor = act_as(session=db, who=who, needs=(), entity="chat")
            except AccessDenied:
                db.commit()  # keep the denial's audit row (nothing else was written)
                raise
        deps = wiring.chat_deps(
            s, engine=eng, actor=actor, model=chat_model(), memory=chat_memory(eng, memory)
        )
        with wiring.checkpointer(s) as saver:
            graph = build_chat_graph(deps).compile(checkpointer=saver)
            yield ChatSession(graph, deps, thread_id)
    finally:
        eng.dispose()


def _stream(piece: str) -> None:
    console.print(piece, end="", highlight=False, markup=False, soft_wrap=True)


def _show(turn: Turn, streamed: bool) -> None:
    for result in turn.tool_results:  # what happened, not only that it ran: "done" did something
        said = OUTCOME_TEXT[outcome_of(result)]
        err_console.print(f"[dim]  tool {result.name}: {said}[/]", highlight=False)
    if turn.reply and not streamed:
        console.print(turn.reply, highlight=False, markup=False, soft_wrap=True)
    elif streamed:
        console.print()


def _approval_text(item: dict[str, Any]) -> str:
    lines = [f"Steve proposes ({item['tool']}):", f"  {item['summary']}"]
    if item.get("note"):
        lines.append(f"  {item['note']}")
    return "\n".join(lines)


def _run(session: ChatSession, action: Any, *, stream: bool) -> Turn:
    pieces: list[str] = []

    def on_text(piece: str) -> None:
        pieces.append(piece)
        if stream:
            _stream(piece)

    turn = action(on_text)
    _show(turn, streamed=stream and bool(pieces))
    return turn


def _ask(session: ChatSession, turn: Turn, read: Any) -> Turn:
    """Interactive approvals: y approves, n rejects, e asks for changed arguments (JSON)."""
    while turn.waiting:
        item = turn.approvals[0]
        console.print(_approval_text(item), highlight=False, markup=False)
        console.print(
            f"  arguments: {json.dumps(item['args'], ensure_ascii=False)}",
            highlight=False,
            markup=False,
        )
        answer = (read("Approve? [y]es / [e]dit / [n]o: ") or "n").strip().lower()[:1]
        decision: Any = "reject"
        if answer == "y":
            decision = "approve"
        elif answer == "e":
            raw = read('Changed arguments as JSON, e.g. {"new_start": "2030-01-08 14:30"}: ')
            decision = {"decision": "edit", "args": _json_args(raw or "{}")}
        turn = _run(session, lambda cb, d=decision: session.decide(d, cb), stream=True)
    return turn


def _json_args(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise InvalidInput("the edit must be a JSON object of arguments to change") from None
    if not isinstance(value, dict):
        raise InvalidInput("the edit must be a JSON object of arguments to change")
    return value


def _read_line(prompt: str) -> str | None:
    console.print(prompt, end="", highlight=False, markup=False)
    line = sys.stdin.readline()
    if not line:
        return None
    return line.rstrip("\n")


@handle_errors
def chat(
    as_: str = typer.Option(..., "--as", help="Who is chatting: a practitioner id or name."),
    thread: str | None = typer.Option(None, "--thread", help="Continue this conversation."),
    message: str | None = typer.Option(None, "--message", "-m", help="Send one message."),
    approve: bool = typer.Option(False, "--approve", help="Approve the waiting action."),
    reject: bool = typer.Option(False, "--reject", help="Reject the waiting action."),
    edit: str | None = typer.Option(None, "--edit", help="Change the waiting action (JSON)."),
    memory: bool | None = typer.Option(
        None, "--memory/--no-memory", help="Search long-term memory (default: when it exists)."
    ),
) -> None:
    """Chat with Steve; every action on someone else's behalf waits for your approval."""
    answers = [a for a in (approve, reject, edit is not None) if a]
    if len(answers) > 1:
        raise InvalidInput("give at most one of --approve, --reject and --edit")
    if answers and not thread:
        raise InvalidInput("--approve, --reject and --edit answer a thread; give --thread")
    thread_id = thread or uuid.uuid4().hex[:12]
    with open_session(as_, thread_id, memory) as session:
        err_console.print(f"[dim]thread {thread_id}[/]", highlight=False)
        if session.interrupted():  # a turn a crash cut short: finish it (writes never repeat)
            _run(session, session.resume, stream=False)
        if answers or message is not None:
            turn: Turn | None = None
            if answers:
                decision: Any = "approve" if approve else "reject"
                if edit is not None:
                    decision = {"decision": "edit", "args": _json_args(edit)}
                turn = _run(session, lambda cb: session.decide(decision, cb), stream=False)
            if message is not None and not (turn and turn.waiting):
                turn = _run(session, lambda cb: session.send(message, cb), stream=False)
            if turn and turn.waiting:
                console.print(_approval_text(turn.approvals[0]), highlight=False, markup=False)
                console.print(
                    f"Waiting for approval: steve chat --as {as_} --thread {thread_id} "
                    "--approve | --reject | --edit JSON",
                    highlight=False,
                    markup=False,
                )
            return
        pending = session.pending()
        if pending:
            _ask(session, Turn(reply=None, approvals=pending), _read_line)
        while True:
            text = _read_line("you> ")
            if text is None or text.strip() in ("/quit", "/exit"):
                return
            if not text.strip():
                continue
            turn = _run(session, lambda cb, t=text: session.send(t, cb), stream=True)
            _ask(session, turn, _read_line)
