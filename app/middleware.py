"""The first thing every request meets: ids in the path in their canonical
spelling, a request id, the body-size limit, the content-type rule (JSON only; never media, never multipart), and the JSON
rule (I-JSON, RFC 7493: what every parser reads the same way).

The request id is the service's own, made here for every request (a random
UUID): the audit entry records it, the answer's ``X-Request-ID`` returns it.
A caller's ``X-Request-ID`` never replaces it; it is recorded apart, cleaned
and bounded (``caller_request_id``), so that a caller can find its requests
in the log but cannot choose, reuse or forge another request's id.

A plain ASGI middleware: the body is read here, bounded by the limit, and
replayed to the application, so an oversized body is refused before any route
or parser sees it, whether it announced its length or not.  A JSON body that
is not UTF-8, holds a raw NUL byte, nests deeper than ``MAX_JSON_DEPTH``,
holds ``NaN``, ``Infinity``, a number beyond the double range (``1e400``) or
too long to read, a name twice in one object, or an unpaired surrogate escape
is refused here too (422 ``invalid_json``): the route's parser would otherwise
fail with an undocumented 400, or read it differently from other parsers.
Plain syntax errors go on to the route, whose 422 ``invalid_json`` names the
position.

An id in the path may be written in any spelling the routes read as the same
UUID (capitals, no dashes, braces, ``urn:uuid:``).  The guard rewrites each
to the canonical one (lower case, dashes) before routing, so that the route,
its audit entry, the case's access log, ETags and links all see one id."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool

from app.audit.chain import clean
from app.audit.recorder import AppendWatcher, write_refusal
from app.errors import problem_body
from app.i18n import negotiate_language, translate
from app.logs import request_log, route_template


class RequestWatcher(AppendWatcher, Protocol):
    """Told of every request's method, route template, status and duration
    (``app.metrics.Metrics``)."""

    def observe_request(self, method: str | None, route: str, status: int | None, seconds: float) -> None: ...


Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

logger = logging.getLogger("sexto")

FORM_PATHS = frozenset({"/api/v1/auth/token"})
# The caller's X-Request-ID is kept to this many characters (its column's).
CALLER_REQUEST_ID_LIMIT = 64


# The spellings of a UUID that the routes' parameters accept (pydantic's):
# any case, dashed or not, dashed in braces, dashed after ``urn:uuid:``.
_HEX = "[0-9a-fA-F]"
_DASHED = f"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"
_UUID_SPELLING = re.compile(rf"{_DASHED}|{_HEX}{{32}}|\{{{_DASHED}\}}|urn:uuid:{_DASHED}")
# What a path holds when one of its ids may be spelled otherwise than
# canonically; a path without any goes through untouched (the usual case).
_MAYBE_NOT_CANONICAL = re.compile(r"[A-F{]|urn:|/[0-9a-f]{32}(?![^/])")


def _canonical_segment(segment: str) -> str:
    if _UUID_SPELLING.fullmatch(segment):
        return str(uuid.UUID(segment))
    return segment


def canonical_ids(scope: Scope) -> Scope:
    """The request with every id of its path (``path`` and ``raw_path``) in
    the canonical spelling; the request itself when they all are."""
    path: str = scope["path"]
    if _MAYBE_NOT_CANONICAL.search(path) is None:
        return scope
    canonical = "/".join(_canonical_segment(segment) for segment in path.split("/"))
    if canonical == path:
        return scope
    changed: dict[str, Any] = {"path": canonical}
    raw: bytes | None = scope.get("raw_path")
    if raw is not None:
        segments = []
        for segment in raw.decode("latin-1").split("/"):
            decoded = unquote(segment)
            spelled = _canonical_segment(decoded)
            segments.append(segment if spelled == decoded else spelled)
        changed["raw_path"] = "/".join(segments).encode("latin-1")
    return {**scope, **changed}


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _is_form(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"


# Far deeper than any body the API takes (a grid submission nests 4 levels).
MAX_JSON_DEPTH = 32
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class _NotIJson(ValueError):
    """A JSON body that I-JSON refuses."""


def _no_constant(name: str) -> Any:
    raise _NotIJson(name)  # NaN, Infinity, -Infinity


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):  # 1e400
        raise _NotIJson("number beyond the double range")
    return number


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise _NotIJson("a name twice in one object")
    return value


def _not_i_json(body: bytes) -> bool:
    """Whether a JSON body breaks I-JSON (see the module docstring); a body
    with a plain syntax error is left to the route."""
    if b"\x00" in body:
        # Never JSON; and the route's parser would read bytes that start
        # with one as UTF-16 or UTF-32 (an undocumented 400).
        return True
    try:
        text = body.decode("utf-8")
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite, object_pairs_hook=_unique_names)
    except json.JSONDecodeError:
        return False
    except (ValueError, RecursionError):  # not UTF-8, _NotIJson, an integer too long to read, too deep
        return True
    deep = text.count("[") + text.count("{") > MAX_JSON_DEPTH
    surrogates = _SURROGATE_ESCAPE.search(text) is not None
    if not (deep or surrogates):
        return False
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                return True
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if surrogates and isinstance(key, str):
                    pending.append((key, depth + 1))
                pending.append((child, depth + 1))
        elif surrogates and isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


class RequestGuard:
    def __init__(
        self, app: Callable[..., Awaitable[None]], max_body_bytes: int, metrics: RequestWatcher | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = canonical_ids(scope)
        # The request's one log line (app.logs), whatever the answer: written
        # once the answer has left, or the request has failed; and its
        # metrics (app.metrics), timed by the same clock.
        started = time.perf_counter()
        status: int | None = None

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._guard(scope, receive, send_noting_status)
        except Exception:
            status = status or 500  # answered by Starlette's last-resort handler
            raise
        finally:
            seconds = time.perf_counter() - started
            request_log(scope, status, seconds * 1000)
            if self.metrics is not None:
                self.metrics.observe_request(scope.get("method"), route_template(scope), status, seconds)

    async def _guard(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: C901 (to split: #12)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        # The service's own id for the request, whatever the caller sent: the
        # one the audit entry, the answer's X-Request-ID and the logs carry.
        # The caller's, if any, is kept apart (audited as caller_request_id).
        request_id = uuid.uuid4().hex
        caller_request_id = clean(headers.get("x-request-id"), CALLER_REQUEST_ID_LIMIT)
        scope.setdefault("state", {}).update(request_id=request_id, caller_request_id=caller_request_id)
        language = negotiate_language(headers.get("accept-language"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        async def refuse(status: int, code: str, **params: object) -> None:
            # Refusals are audited too, before the answer leaves (fail closed).
            state = scope.get("state", {})
            engine = state.get("engine")
            if engine is not None:
                client = scope.get("client")
                try:
                    # Within the request slots too: a flood of refusals must not
                    # take the connections the audited routes count on.
                    async with state.get("db_slots") or contextlib.nullcontext():
                        await run_in_threadpool(
                            write_refusal,
                            engine,
                            status=status,
                            reason=code,
                            client_address=client[0] if client else None,
                            user_agent=headers.get("user-agent"),
                            request_id=request_id,
                            caller_request_id=caller_request_id,
                            appended=state.get("audit_appended"),
                            metrics=self.metrics,
                        )
                except Exception:
                    logger.error("audit entry for a refused request could not be written")
                    if self.metrics is not None:
                        self.metrics.append_failed()
                    status, code, params = 503, "service_unavailable", {}
            problem = problem_body(
                status=status, code=code, detail=translate(code, language, **params), language=language
            )
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
            if _is_json(content_type) and _not_i_json(body):
                await refuse(422, "invalid_json")
                return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send_with_id)
