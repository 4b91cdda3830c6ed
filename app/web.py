"""The web app (``web/``), built by Vite, served at ``/`` on the same origin
as the API, so that its browser session cookie and ``X-CSRF-Token`` need no
cross-origin rule.

* ``/assets/…``: the built files, whose names carry a hash of their content:
  kept a year (``immutable``).
* ``/`` and the app's own paths (the first segments listed in the build's
  ``app-paths.json``, written from ``web/public/app-paths.json``, which a web
  test keeps equal to the router's): ``index.html``, ``no-cache`` (checked
  again on each load, so a new release is seen at once), under a
  Content-Security-Policy that lets scripts and styles come from the service
  only: no inline script, no inline style, no other origin.
* Anything else goes on to the API untouched: the API's paths (``/api``,
  ``/docs``, ``/openapi.json``, ``/healthz``…) are never shadowed, even by a
  segment ``app-paths.json`` lists (a path one of the API's routes matches
  always goes to the API), and an unknown path is the API's 404 problem.

Without a build (no Node.js where the service was installed) ``/`` answers
a short page saying how to build the app; the API serves either way.

A plain ASGI middleware rather than routes: the app's pages are not API
operations (no OpenAPI entry, no audit entry: they hold no personal data).
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

# The source checkout's build (``make web``), when no setting names one.
DEFAULT_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"
ASSETS = "/assets/"
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
IMMUTABLE = "public, max-age=31536000, immutable"
NOT_BUILT = """<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sexto</title></head>
<body>
<main>
<h1>L’application Web n’est pas construite</h1>
<p>Le service et son API fonctionnent (<a href="/docs">/docs</a>). Pour obtenir l’application,
installez Node.js 20.19 ou plus récent avec npm, puis lancez <code>make web</code>
(ou <code>make run</code>, qui la construit).</p>
<h1 lang="en">The web app is not built</h1>
<p lang="en">The service and its API work (<a href="/docs">/docs</a>). To get the app,
install Node.js 20.19 or newer with npm, then run <code>make web</code>
(or <code>make run</code>, which builds it).</p>
</main>
</body>
</html>
"""


def _api_route(scope: Scope) -> bool:
    """Whether one of the API's routes answers this path (whatever the
    method): such a path is never a page, whatever ``app-paths.json`` says."""
    routes = getattr(scope.get("app"), "routes", ())
    return any(route.matches(scope)[0] is not Match.NONE for route in routes)


def _app_paths(dist: Path) -> frozenset[str]:
    """The first path segments the app's router owns (``app-paths.json``)."""
    try:
        segments = json.loads((dist / "app-paths.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset()
    return frozenset(s for s in segments if isinstance(s, str) and s and "/" not in s)


class WebApp:
    def __init__(self, app: ASGIApp, dist: Path | None = None) -> None:
        self.app = app
        self.dist = (dist or DEFAULT_DIST).resolve()
        self.index = self.dist / "index.html"
        self.assets = (self.dist / "assets").resolve()
        self.built = self.index.is_file()
        self.paths = _app_paths(self.dist) if self.built else frozenset()

    def _page(self, path: str, scope: Scope) -> bool:
        if path == "/":
            return True
        return path.split("/", 2)[1] in self.paths and not _api_route(scope)

    def _asset(self, path: str) -> Path | None:
        try:
            file = (self.assets / path.removeprefix(ASSETS)).resolve()
            if file.parent != self.assets and self.assets not in file.parents:
                return None  # ``..`` or a link out of the folder
            return file if file.is_file() else None
        except (OSError, ValueError):  # a NUL byte, a name too long: no such file
            return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in {"GET", "HEAD"}:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        response: Response | None = None
        if not self.built:
            if path == "/":
                response = HTMLResponse(NOT_BUILT, headers={"Content-Security-Policy": "default-src 'none'"})
        elif path.startswith(ASSETS):
            file = self._asset(path)
            if file is not None:
                response = FileResponse(file, headers={"Cache-Control": IMMUTABLE})
        elif self._page(path, scope):
            response = FileResponse(
                self.index,
                media_type="text/html",
                headers={"Cache-Control": "no-cache", "Content-Security-Policy": CONTENT_SECURITY_POLICY},
            )
        if response is None:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)
