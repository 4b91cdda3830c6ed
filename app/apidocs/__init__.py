"""Swagger UI at ``/docs`` and ReDoc at ``/redoc``, served by the service
itself: on a network without internet they still work, and no script comes
from a CDN.

The Swagger UI and ReDoc bundles come from the ``fastapi-offline`` package
(its ``static`` folder; we use its files, not its application factory), the
two start-up scripts from ``assets/`` here; all are served under
``/docs/assets/``.  FastAPI's own pages start the viewers with an inline
script; ours load an external one, so that the pages' Content-Security-Policy
allows scripts from the service only.  Styles may be inline (both viewers set
them at run time), and ReDoc builds its search worker from a ``blob:``.

Off unless ``Settings.api_docs_enabled`` (on in development, off in
production by default); the OpenAPI document at ``/openapi.json`` stays.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

ASSETS = "/docs/assets"
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src blob:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="{assets}/favicon.png">
{stylesheet}
</head>
<body>
<div id="{element}" data-openapi="{openapi}"></div>
<script src="{assets}/{bundle}"></script>
<script src="{assets}/{init}"></script>
</body>
</html>
"""


class _Assets(StaticFiles):
    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        # Public and large: kept, but checked again (ETag) on each use, so a
        # new release of the bundles is seen at once.
        response.headers["Cache-Control"] = "no-cache"
        return response


def _page(request: Request, app: FastAPI, viewer: str, element: str, bundle: str, init: str, css: str = "") -> Response:
    root = request.scope.get("root_path", "")
    assets = html.escape(f"{root}{ASSETS}")
    stylesheet = f'<link rel="stylesheet" href="{assets}/{css}">' if css else ""
    body = _PAGE.format(
        title=html.escape(f"{app.title} – {viewer}"),
        assets=assets,
        stylesheet=stylesheet,
        element=element,
        openapi=html.escape(f"{root}{app.openapi_url}"),
        bundle=bundle,
        init=init,
    )
    return HTMLResponse(body, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})


def install_docs(app: FastAPI) -> None:
    """Serve the two pages and their assets (the app is made with FastAPI's
    own ``docs_url`` and ``redoc_url`` off)."""
    app.mount(
        ASSETS,
        _Assets(directory=Path(__file__).parent / "assets", packages=[("fastapi_offline", "static")]),
        name="docs_assets",
    )

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> Response:
        return _page(
            request, app, "Swagger UI", "swagger-ui", "swagger-ui-bundle.js", "swagger-init.js", "swagger-ui.css"
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> Response:
        return _page(request, app, "ReDoc", "redoc", "redoc.standalone.js", "redoc-init.js")
