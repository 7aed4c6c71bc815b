"""The web app: server-rendered pages (Jinja, autoescaped) over the same operations and
access policy as the API, plus a little plain JavaScript for streaming chat.

Pages authenticate with the session cookie; forms carry the session's CSRF token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

HERE = Path(__file__).parent
# Autoescape every template whatever its name: notes and abstracts are untrusted text.
templates = Jinja2Templates(
    env=jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True)
)


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status)


def html_error(request: Request, status: int, message: str) -> HTMLResponse:
    return page(
        request, "error.html", status=status, status_code=status, message=message, user=None
    )


def mount(app: FastAPI) -> None:
    from app.web import auth, pages

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(auth.router)
    app.include_router(pages.router)
    app.state.html_error = html_error
