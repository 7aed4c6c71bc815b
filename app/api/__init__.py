"""The HTTP API and web app: `create_app(settings)` builds it, `serve_http` runs it.

`steve serve` runs it in the same process as the scheduler:

    threading.Thread(target=serve_http, args=(settings, host, port), daemon=True).start()

OpenAPI docs at /docs. Bearer tokens for scripts (`steve users token create`); the web app
logs in with a password and keeps a server-side session.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from app.api import errors
from app.api.chat_service import ChatService
from app.api.deps import PendingCtx
from app.api.security import RateLimiter, SecurityMiddleware
from app.settings import Settings
from tools.db import make_engine

log = logging.getLogger("steve.api")


def _default_model_factory(settings: Settings) -> Callable[[], Any]:
    def factory() -> Any:
        from agent.models import make_chat_model

        return make_chat_model(settings.model_config_for_agent())

    return factory


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    model_factory: Callable[[], Any] | None = None,
    checkpointer: Any = None,
) -> Any:
    """The FastAPI application (tests pass a scripted model factory and a checkpointer)."""
    from app.api.routes import (
        account,
        audit,
        briefings,
        chat,
        literature,
        referrals,
        schedule,
        tasks,
    )
    from app.web import mount as mount_web

    own_engine = engine is None
    eng = engine or make_engine(settings.db_url)
    chat_service = ChatService(
        settings=settings,
        engine=eng,
        model_factory=model_factory or _default_model_factory(settings),
        checkpointer=checkpointer,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        chat_service.close()
        if own_engine:
            eng.dispose()

    app = FastAPI(
        title="Steve",
        version="0.1.0",
        lifespan=lifespan,
        description="The practice team's API: chat, briefings, tasks, referrals, "
        "schedule, research digests and the audit trail.",
    )
    app.state.settings = settings
    app.state.engine = eng
    app.state.model_factory = chat_service.model_factory
    app.state.chat = chat_service
    app.state.login_limiter = RateLimiter(settings.login_rate_per_minute)
    app.state.chat_limiter = RateLimiter(settings.chat_rate_per_minute)
    errors.install(app)
    app.add_middleware(
        SecurityMiddleware, max_body=settings.max_request_bytes, hsts=settings.cookie_secure
    )

    @app.get("/api/me", tags=["auth"])
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

    for module in (account, briefings, tasks, referrals, schedule, literature, audit, chat):
        app.include_router(module.router)
    mount_web(app)
    return app


def serve_http(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    *,
    stop: threading.Event | None = None,
) -> None:
    """Run the API with uvicorn until `stop` is set or the process stops (blocking; from a
    non-main thread uvicorn installs no signal handlers, so the caller's stay in charge)."""
    import uvicorn

    config = uvicorn.Config(
        create_app(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
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
    server.run()
