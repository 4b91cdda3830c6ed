"""Structured logs: one JSON line per log record, on standard error.

structlog renders every record through the standard ``logging`` module, so
the service's own ``logging.getLogger("sexto...")`` calls and uvicorn's
start-up messages come out as JSON lines too.  The level is the setting
``SEXTO_LOG_LEVEL`` (INFO by default: "first admin account created" shows).

The request guard (``app.middleware``) writes one line per request with
``request_log``: the service's request id (the one its audit entry records),
the route template (never the raw path, whose ids could be looked up; a fixed
marker for a path no route matches), the method, the status, the duration and
the caller's kind.  Never a name, a case's contents, a token, a query string
or a body: the line is made of those fields only."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import IO, Any

import structlog

# The route template of a request that no route matched (or that the guard
# refused before routing): its raw path is never written.
UNMATCHED = "(unmatched)"

_access = structlog.stdlib.get_logger("sexto.request")


class _JsonHandler(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """The handler ``configure_logging`` installs on the root logger."""


def configure_logging(level: str = "INFO", stream: IO[str] | None = None) -> None:
    """JSON lines at ``level`` and above on ``stream`` (standard error) for
    every logger; called again, it replaces its handler (never a second)."""
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True, key="time")
    shared: list[Any] = [structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name, timestamper]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = _JsonHandler(stream or sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _JsonHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's own messages (start-up, errors) go through the same handler;
    # its access log is switched off where it is served (--no-access-log):
    # the request line below replaces it.
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True


def route_template(scope: Mapping[str, Any]) -> str:
    """The template of the route that answered (``/api/v1/cases/{case_id}``),
    or ``UNMATCHED``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


def caller_kind(state: dict[str, Any]) -> str:
    """``user``, ``service_account`` or ``anonymous`` (no valid token)."""
    principal = state.get("principal")
    kind = getattr(principal, "kind", None)
    return kind if isinstance(kind, str) else "anonymous"


def request_log(scope: dict[str, Any], status: int | None, duration_ms: float) -> None:
    """The request's one line (see the module docstring)."""
    state: dict[str, Any] = scope.get("state", {})
    _access.info(
        "request",
        request_id=state.get("request_id"),
        method=scope.get("method"),
        route=route_template(scope),
        status=status,
        duration_ms=round(duration_ms, 3),
        caller_kind=caller_kind(state),
    )
