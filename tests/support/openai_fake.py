"""A scripted OpenAI-compatible chat endpoint on loopback, for tests that run real processes.

`/v1/chat/completions` answers with the next scripted reply, as plain JSON or as the
server-sent-event stream a client asks for with `"stream": true`, in the shape OpenAI's API
uses (tool calls with JSON-encoded arguments, usage figures). Every request body is kept so a
test can check what the model was shown. Nothing leaves the machine.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def tool_call(name: str, **args: Any) -> dict[str, Any]:
    return {"tool_calls": [(name, args)]}


def text(content: str) -> dict[str, Any]:
    return {"content": content}


@dataclass
class FakeOpenAI:
    replies: list[dict[str, Any]]
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    _calls: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def next_message(self) -> dict[str, Any]:
        if not self.replies:
            return {"role": "assistant", "content": "(no scripted reply left)"}
        reply = self.replies.pop(0)
        message: dict[str, Any] = {"role": "assistant", "content": reply.get("content")}
        if "tool_calls" in reply:
            calls = []
            for name, args in reply["tool_calls"]:
                self._calls += 1
                calls.append(
                    {
                        "id": f"call_fake_{self._calls}",
                        "type": "function",
                        "function": {"name": name, "arguments": json.dumps(args)},
                    }
                )
            message["tool_calls"] = calls
        return message


def _completion(message: dict[str, Any]) -> dict[str, Any]:
    finish = "tool_calls" if message.get("tool_calls") else "stop"
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": "fake-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
    }


def _chunks(message: dict[str, Any]) -> Iterator[dict[str, Any]]:
    base = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "fake-model",
    }
    delta: dict[str, Any] = {"role": "assistant", "content": message.get("content") or ""}
    if message.get("tool_calls"):
        delta["tool_calls"] = [dict(c, index=i) for i, c in enumerate(message["tool_calls"])]
    yield {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
    finish = "tool_calls" if message.get("tool_calls") else "stop"
    yield {
        **base,
        "choices": [{"index": 0, "delta": {}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
    }


@contextmanager
def running_fake_openai(replies: list[dict[str, Any]]) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI(list(replies))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:  # keep test output clean
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                fake.requests.append(body)
                message = fake.next_message()
            if body.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for chunk in _chunks(message):
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                return
            payload = json.dumps(_completion(message)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
