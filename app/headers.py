"""The headers every answer carries, whoever made it: the routes, the problem
handlers, the request guard's refusals, a 304, or the server's own 500.

* ``Cache-Control: no-store`` unless the answer set a ``Cache-Control`` of its
  own: almost every answer of the API carries personal information (cases,
  people, the audit log, accounts) or a credential (the token endpoint, RFC
  6749 §5.1, which also asks for ``Pragma: no-cache``).  Deciding from the
  answer rather than from the path keeps a path the router reads differently
  from this middleware from slipping through; the few public answers worth
  caching (the docs' assets) say so themselves.
* ``X-Content-Type-Options: nosniff``: a browser takes the content type as
  given (a problem document is never run as a script or shown as HTML).
* ``Referrer-Policy: no-referrer``: an address of the API (which holds case
  ids) never leaves in a ``Referer``.

A plain ASGI middleware installed around the whole stack (``install``), so
that nothing answers without passing through it.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
ALWAYS_NOT_STORED = (
    *ALWAYS,
    (b"cache-control", b"no-store"),
    (b"pragma", b"no-cache"),
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Starlette and the request guard write header names in lower case.
                headers = list(message.get("headers", ()))
                stored = any(name == b"cache-control" for name, _ in headers)
                headers += ALWAYS if stored else ALWAYS_NOT_STORED
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI) -> None:
    """Put ``SecurityHeaders`` outside the whole middleware stack, the server
    error handler included (``add_middleware`` would put it inside)."""
    build = app.build_middleware_stack

    def build_with_headers() -> ASGIApp:
        return SecurityHeaders(build())

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]
