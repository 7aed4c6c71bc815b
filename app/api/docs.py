"""/docs (Swagger UI) and /redoc from files Steve serves itself: no CDN, no inline script.

FastAPI's own pages load Swagger UI from a CDN and start it with an inline script, so a
browser showing them reaches a third party and the page needs 'unsafe-inline'. Here the
assets come from the fastapi-offline package (the same Swagger UI and ReDoc builds) under
/docs-assets, and Swagger UI is started by a small script of ours. /openapi.json is unchanged.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"
SPEC = "/openapi.json"

_SWAGGER_INIT = f"""window.ui = SwaggerUIBundle({{
  url: "{SPEC}",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout",
}});
"""


def _page(title: str, head: str, body: str) -> str:
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}</title><link rel='icon' href='{ASSETS}/favicon.png'>{head}</head>"
        f"<body>{body}</body></html>\n"
    )


def _swagger_page(title: str) -> str:
    return _page(
        f"{title} - API",
        f"<link rel='stylesheet' href='{ASSETS}/swagger-ui.css'>",
        f"<div id='swagger-ui'></div><script src='{ASSETS}/swagger-ui-bundle.js'></script>"
        f"<script src='{ASSETS}/swagger-init.js'></script>",
    )


def _redoc_page(title: str) -> str:
    return _page(
        f"{title} - API",
        "",
        f"<redoc spec-url='{SPEC}'></redoc><script src='{ASSETS}/redoc.standalone.js'></script>",
    )


def asset_dir() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


def install(app: FastAPI) -> None:
    """Add /docs, /redoc and their assets (create the app with docs_url=redoc_url=None)."""
    title = app.title

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(_swagger_page(title))

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return HTMLResponse(_redoc_page(title))

    @app.get(f"{ASSETS}/swagger-init.js", include_in_schema=False)
    def swagger_init() -> Response:
        return Response(_SWAGGER_INIT, media_type="text/javascript")

    app.mount(ASSETS, StaticFiles(directory=str(asset_dir())), name="docs-assets")
