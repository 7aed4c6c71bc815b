"""The HTTP API and web app: `create_app(settings)` builds it, `serve_http` runs it.

`steve serve` runs it in the same process as the scheduler:

    threading.Thread(target=serve_http, args=(settings, host, port), daemon=True).start()

OpenAPI docs at /docs. Bearer tokens for scripts (`steve users token create`); the web app
logs in with a password and keeps a server-side session.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from app.api import docs, errors
from app.api.chat_service import ChatService
from app.api.deps import PendingCtx
from app.api.routes import imports
from app.api.security import RateLimiter, SecurityMiddleware
from app.settings import Settings
from tools.errors import ConfigError

log = logging.getLogger("steve.api")


def _default_model_factory(settings: Settings) -> Callable[[], Any]:
    def factory() -> Any:
        from app import wiring

        return wiring.chat_model(settings)

    return factory


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    model_factory: Callable[[], Any] | None = None,
    checkpointer: Any = None,
) -> Any:
    """The FastAPI application (tests pass a scripted model factory and a checkpointer)."""
    from app import wiring
    from app.web import mount as mount_web

    own_engine = engine is None
    eng = engine or wiring.engine(settings)
    chat_service = ChatService(
        settings=settings,
        engine=eng,
        model_factory=model_factory or _default_model_factory(settings),
        checkpointer=checkpointer,
    )
    app = FastAPI(
        title="Steve",
        version="0.1.0",
        lifespan=_lifespan(chat_service, eng if own_engine else None),
        docs_url=None,  # served from local files by app.api.docs, not from a CDN
        redoc_url=None,
        description="The practice team's API: chat, briefings, tasks, referrals, "
        "schedule, research digests and the audit trail.",
    )
    app.state.settings = settings
    app.state.engine = eng
    app.state.model_factory = chat_service.model_factory
    app.state.chat = chat_service
    app.state.login_limiter = RateLimiter(settings.api.login_rate_per_minute)
    app.state.chat_limiter = RateLimiter(settings.api.chat_rate_per_minute)
    errors.install(app)
    docs.install(app)
    app.add_middleware(
        SecurityMiddleware,
        max_body=settings.api.max_request_bytes,
        larger_bodies={imports.IMPORT_PREFIX: settings.api.max_import_bytes},
        hsts=settings.api.cookie_secure,
    )
    _include_routes(app)
    openapi = app.openapi
    app.openapi = lambda: errors.event_streams_only(openapi())  # type: ignore[method-assign]
    mount_web(app)
    return app


def _lifespan(
    chat_service: ChatService, own_engine: Engine | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start-up: the chat tables (bounded; a failure is retried on use). Shutdown: the chat
    service, and the engine when the app made it."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            await run_in_threadpool(chat_service.prepare)
        except Exception as exc:  # the type only: a driver's message may name the server
            log.error("chat storage is not ready at start-up (%s)", type(exc).__name__)
        yield
        chat_service.close()
        if own_engine is not None:
            own_engine.dispose()

    return lifespan


def _include_routes(app: FastAPI) -> None:
    """/api/me and every router."""
    from app.api.routes import (
        account,
        audit,
        briefings,
        chat,
        health,
        imports,
        literature,
        referrals,
        schedule,
        tasks,
    )

    @app.get("/api/me", tags=["auth"], responses=errors.responses())
    def me(ctx: PendingCtx) -> dict[str, Any]:
        """Who you are, your role and what data it covers (and the CSRF token for the web app);
        answered also while you must change your password (`must_change_password`)."""
        return {
            "user_id": ctx.user.id,
            "username": ctx.user.username,
            "practitioner_id": ctx.actor.practitioner_id,
            "role": ctx.actor.role.value,
            "categories": sorted(c.value for c in ctx.actor.categories),
            "csrf_token": ctx.web.csrf_secret if ctx.web else None,
            "must_change_password": ctx.user.must_change_password,
        }

    routers = (
        account,
        briefings,
        tasks,
        referrals,
        schedule,
        literature,
        audit,
        chat,
        health,
        imports,
    )
    for module in routers:
        app.include_router(module.router)


def listen_socket(host: str, port: int) -> socket.socket:
    """The API's listening socket, bound now: a port already taken is one clear error before
    anything else starts (and uvicorn is handed this socket, so it cannot lose a race)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror:
        raise ConfigError(f"cannot listen on {host}:{port}: unknown address {host!r}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # not past a live listener
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        reason = "the port is in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise ConfigError(
            f"cannot listen on {host}:{port}: {reason} (choose another with --port or "
            "STEVE_API__PORT)"
        ) from None
    return sock


def serve_http(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    *,
    stop: threading.Event | None = None,
    sock: socket.socket | None = None,
) -> None:
    """Run the API with uvicorn until `stop` is set or the process stops (blocking; from a
    non-main thread uvicorn installs no signal handlers, so the caller's stay in charge).
    `sock`: a socket from listen_socket (else uvicorn binds host:port itself)."""
    import uvicorn

    config = uvicorn.Config(
        create_app(settings),
        host=host or settings.api.host,
        port=port or settings.api.port,
        access_log=False,  # paths carry record ids; our middleware logs route templates
        log_level="info",
        lifespan="on",
        server_header=False,
    )
    server = uvicorn.Server(config)
    if stop is not None:

        def watch() -> None:
            stop.wait()
            server.should_exit = True

        threading.Thread(target=watch, name="steve-http-stop", daemon=True).start()
    server.run(sockets=[sock] if sock is not None else None)
