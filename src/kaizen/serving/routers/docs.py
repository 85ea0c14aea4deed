"""The API's documentation pages, offline: Swagger UI (`/docs`) and ReDoc (`/redoc`) load their
scripts and styles from this server, out of the pinned `fastapi-offline` package, never from a CDN
(a lender's network is often offline or behind a proxy, where FastAPI's default pages are blank).
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"
FOLDER = Path(fastapi_offline.__file__).parent / "static"


def mount(app: FastAPI) -> None:
    """Serve the assets under ASSETS and the two pages (create the app with docs_url=None and
    redoc_url=None, so that FastAPI's CDN pages are not declared too)."""
    app.mount(ASSETS, StaticFiles(directory=FOLDER), name="docs-assets")
    title = f"{app.title} - API"

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=title,
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=title,
            redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
            with_google_fonts=False,
        )
