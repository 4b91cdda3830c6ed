"""The first thing every request meets: a request id, the body-size limit, and
the content-type rule (JSON only; never media, never multipart).

A plain ASGI middleware: the body is read here, bounded by the limit, and
replayed to the application, so an oversized body is refused before any route
or parser sees it, whether it announced its length or not."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from app.audit.recorder import write_refusal
from app.errors import problem_body
from app.i18n import negotiate_language, translate

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

logger = logging.getLogger("sexto")

FORM_PATHS = frozenset({"/api/v1/auth/token"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _is_form(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"


class RequestGuard:
    def __init__(self, app: Callable[..., Awaitable[None]], max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = headers.get("x-request-id", "")
        if not _REQUEST_ID.match(request_id):
            request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        language = negotiate_language(headers.get("accept-language"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        async def refuse(status: int, code: str, **params: object) -> None:
            # Refusals are audited too, before the answer leaves (fail closed).
            engine = scope.get("state", {}).get("engine")
            if engine is not None:
                client = scope.get("client")
                try:
                    await run_in_threadpool(
                        write_refusal,
                        engine,
                        status=status,
                        reason=code,
                        client_address=client[0] if client else None,
                        user_agent=headers.get("user-agent"),
                        request_id=request_id,
                    )
                except Exception:
                    logger.error("audit entry for a refused request could not be written")
                    status, code, params = 503, "service_unavailable", {}
            problem = problem_body(status=status, code=code, detail=translate(code, language, **params))
            body = json.dumps(problem, ensure_ascii=False, separators=(",", ":")).encode()
            await send_with_id(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"content-language", language.encode()),
                    ],
                }
            )
            await send_with_id({"type": "http.response.body", "body": body})

        declared = headers.get("content-length")
        if declared is None and "transfer-encoding" not in headers:
            # No body announced (a GET, say): nothing to bound or check.
            await self.app(scope, receive, send_with_id)
            return
        if declared is not None:
            if not declared.isdigit():
                await refuse(400, "bad_request")
                return
            if int(declared) > self.max_body_bytes:
                await refuse(413, "payload_too_large", limit=self.max_body_bytes)
                return

        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await refuse(413, "payload_too_large", limit=self.max_body_bytes)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)

        if body:
            content_type = headers.get("content-type", "")
            allowed = _is_json(content_type) or (scope["path"] in FORM_PATHS and _is_form(content_type))
            if not allowed:
                await refuse(415, "unsupported_media_type")
                return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send_with_id)
