"""Every request through an API route leaves exactly one audit entry.

``AuditedRoute`` is the route class of every API router.  It wraps the route
handler (dependencies, endpoint, serialization) and is the request's single
commit point:

* success: the entry is appended in the request's own session and committed
  with whatever the request changed, *before* the response leaves; if that
  commit fails the client gets 503 and nothing is returned or changed;
* failure (401, 403, 404, 409, 422, 5xx, ...): the request's transaction is
  rolled back and the entry is written in a transaction of its own, so the
  rollback does not erase it; if even that fails, the answer is 503.

A request goes through these steps, each a named piece below or a module of
its own: a database slot (``_db_slot``); its note (``_open_note``); the
handler; the ETag, or a 304 (``app.etags.conditional``); the answer kept for
its Idempotency-Key (``app.idempotency.answers.keep_answer``) and the entry
appended, then one commit (``_append``).  A failure maps to its answer
(``_status_of`` for the entry, ``_error_answer`` for the client).

Routes and services only describe what they touched through the request's
``AuditNote`` (``app.audit.note``: resource, case, ids returned), routes as
``request.state.audit``, services through that module's functions.  Nothing
here runs after the response is sent: no ``BackgroundTasks``, no code after
``yield``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, Protocol

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.audit import chain
from app.audit.note import CURRENT_NOTE, AuditNote
from app.errors import InternalError, Problem, ServiceUnavailable, log_unexpected
from app.etags import answers_with_case, conditional
from app.idempotency.answers import IdempotentReplay, keep_answer
from app.pagination import Page


class Reach(Protocol):
    """What the chain of a caller's entry is chosen from: its scope
    (``app.accounts.scopes.Scope``), which the route class does not import."""

    platform: bool
    school_ids: frozenset[uuid.UUID]
    police_force_ids: frozenset[uuid.UUID]

    def home_boards(self) -> frozenset[uuid.UUID]: ...


logger = logging.getLogger("sexto.audit")


class AppendWatcher(Protocol):
    """Told of each audit append's latency and of each append that failed
    (``app.metrics.Metrics``, handed over in the application's state)."""

    def observe_append(self, seconds: float) -> None: ...

    def append_failed(self) -> None: ...


def _outcome(status: int) -> str:
    if status < 400:
        return "allowed"
    if status in (401, 403, 404, 405, 412, 428, 429):
        return "denied"
    if status < 500:
        return "refused"
    return "error"


def _draft(request: Request, note: AuditNote, status: int) -> chain.EntryDraft:
    principal = getattr(request.state, "principal", None)
    draft = chain.EntryDraft(
        client_address=chain.clean(request.client.host if request.client else None, 64),
        user_agent=chain.clean(request.headers.get("user-agent"), 256),
        request_id=chain.clean(getattr(request.state, "request_id", None), 64),
        caller_request_id=chain.clean(getattr(request.state, "caller_request_id", None), 64),
        action=note.action,
        resource_type=note.resource_type,
        resource_id=chain.clean(note.resource_id, 40),
        case_id=chain.clean(note.case_id, 40),
        outcome=_outcome(status),
        status_code=status,
        returned_ids=",".join(str(i) for i in note.returned_ids) or None,
        reason=chain.clean(note.reason, 64),
    )
    # The entry belongs to the organizations the note names, else to the
    # caller's; a request with neither (no account) belongs to the platform.
    organizations: Iterable[object] = note.concerns
    if principal is not None:
        organizations = note.concerns or principal.scope.organization_ids()
        draft.actor_kind = principal.kind
        draft.actor_id = str(principal.id)
        draft.actor_role = principal.role.value
    elif note.actor is not None:
        draft.actor_kind, draft.actor_id = note.actor
    draft.org_ids = ",".join(sorted({str(i) for i in organizations if i})) or None
    return draft


def home_chain(scope: Reach) -> str:
    """The chain of a caller's entries about no case it reached: its board's
    when its schools and boards are all one board's, its police force's when
    it acts for one force alone, the platform's otherwise (an admin, an
    account of several organizations, one with no reach)."""
    boards = scope.home_boards()
    if scope.platform:
        return chain.PLATFORM_CHAIN
    if len(boards) == 1 and not scope.police_force_ids:
        return chain.board_chain(next(iter(boards)))
    if len(scope.police_force_ids) == 1 and not boards and not scope.school_ids:
        return chain.force_chain(next(iter(scope.police_force_ids)))
    return chain.PLATFORM_CHAIN


def chain_of(request: Request, note: AuditNote) -> str:
    """The chain of a request's entry, from what the request already knows
    (no statement of its own):

    * a request that reached a case (``app.audit.note.record_case_access``):
      the chain of the board of the case's school, whoever asked, so that a
      case's history is one chain (a police liaison's read of a case handed
      off to its force too);
    * any other request with a principal: the caller's own (``home_chain``),
      also when it was refused on a case it may not see, whose board its
      entry must not reveal;
    * a request without one (sign-ins, no valid token): the platform's.

    Why an entry that concerns two organizations, kept in one chain, is
    still provable: docs/audit.md#chains."""
    if note.chain is not None:
        return note.chain
    principal = getattr(request.state, "principal", None)
    if principal is not None:
        return home_chain(principal.scope)
    return chain.PLATFORM_CHAIN


def _tie_to_case(session: Session, request: Request, note: AuditNote) -> None:
    """The entry of a request that did not reach its case (refused: 401, 403,
    404 for a case the caller may not see, 422 before the handler ran, ...)
    still names the case its path leads to, so that the case's access log,
    the audit events about the case and the privacy officer's access review
    show who tried.  Its organizations stay the caller's, exactly as for an
    id that leads nowhere: the entry tells no one more than the answer did
    about the case's organizations.

    The cases know what leads to one: the application hands their resolver
    over as ``case_of_path`` in its state (``app.main``)."""
    if note.case is not None or not note.path_ids:
        return
    note.case_id = request.state.case_of_path(session, note.path_ids)


def _status_of(exc: Exception) -> tuple[int, str | None]:
    if isinstance(exc, Problem):
        return exc.status, exc.code
    if isinstance(exc, RequestValidationError):
        return 422, "validation_failed"
    if isinstance(exc, StarletteHTTPException):
        return exc.status_code, None
    if isinstance(exc, IntegrityError):
        return 409, "conflict"
    if isinstance(exc, OperationalError | PoolTimeout):
        return 503, "service_unavailable"
    return 500, "internal_error"


_HANDLED = (Problem, RequestValidationError, StarletteHTTPException, IntegrityError, OperationalError, PoolTimeout)


def _error_answer(exc: Exception, request: Request) -> Exception:
    """What the client is answered for a failed request: the exception itself
    when the problem handlers know it (``_HANDLED``); anything else is logged
    and becomes a 500 that says nothing."""
    if isinstance(exc, _HANDLED):
        return exc
    log_unexpected(exc, request)
    return InternalError()


def _append_and_commit(
    metrics: AppendWatcher | None, session: Session, draft: chain.EntryDraft, chain_name: str = chain.PLATFORM_CHAIN
) -> chain.Appended:
    """``chain.append_and_commit``, timed for the metrics when they are on."""
    if metrics is None:
        return chain.append_and_commit(session, draft, chain_name)
    started = time.perf_counter()
    appended = chain.append_and_commit(session, draft, chain_name)
    metrics.observe_append(time.perf_counter() - started)
    return appended


def _write(
    request: Request, note: AuditNote, status: int, *, own_transaction: bool, response: Response | None = None
) -> None:
    session: Session | None = getattr(request.state, "session", None)
    metrics = getattr(request.state, "metrics", None)
    if session is None:
        with Session(request.state.engine) as fresh:
            _tie_to_case(fresh, request, note)
            appended = _append_and_commit(metrics, fresh, _draft(request, note, status), chain_of(request, note))
        _tell_appended(getattr(request.state, "audit_appended", None), appended)
        return
    if own_transaction:
        session.rollback()
    try:
        _tie_to_case(session, request, note)
        if response is not None:
            keep_answer(session, note, response, request.state.cipher)
        appended = _append_and_commit(metrics, session, _draft(request, note, status), chain_of(request, note))
    except Exception:
        session.rollback()
        raise
    _tell_appended(getattr(request.state, "audit_appended", None), appended)


def _tell_appended(listener: Callable[[chain.Appended], None] | None, appended: chain.Appended) -> None:
    """Tell the application (its checkpoint cadence, ``app.main``) of an
    entry committed; what it does with that is not the request's concern."""
    if listener is None:
        return
    try:
        listener(appended)
    except Exception:
        logger.error("the audit checkpoint cadence could not be told of an entry")


async def _append(
    request: Request,
    note: AuditNote,
    status: int,
    *,
    own_transaction: bool,
    failure: str,
    response: Response | None = None,
) -> None:
    """Write the request's entry (``_write``, in a thread); if it cannot be
    written, the request is refused with 503 (fail closed)."""
    try:
        async with step_slot(request):
            await run_in_threadpool(_write, request, note, status, own_transaction=own_transaction, response=response)
    except Exception:
        logger.error(failure)
        metrics = getattr(request.state, "metrics", None)
        if metrics is not None:
            metrics.append_failed()
        raise ServiceUnavailable() from None


def write_refusal(
    engine: Engine,
    *,
    status: int,
    reason: str,
    client_address: str | None,
    user_agent: str | None,
    request_id: str,
    caller_request_id: str | None,
    appended: Callable[[chain.Appended], None] | None = None,
    metrics: AppendWatcher | None = None,
) -> None:
    """The entry of a request refused before any route (body too large, not
    JSON): its own transaction, anonymous (no token was read); the service's
    request id and the caller's apart, as for every entry."""
    draft = chain.EntryDraft(
        client_address=chain.clean(client_address, 64),
        user_agent=chain.clean(user_agent, 256),
        request_id=chain.clean(request_id, 64),
        caller_request_id=chain.clean(caller_request_id, 64),
        action="refused_before_routing",
        outcome=_outcome(status),
        status_code=status,
        reason=reason,
    )
    with Session(engine) as session:
        entry = _append_and_commit(metrics, session, draft)
    _tell_appended(appended, entry)


def _open_note(request: Request, action: str, template: str) -> AuditNote:
    """The request's note, reachable as ``request.state.audit``, with what its
    path names."""
    note = AuditNote(action=action)
    request.state.audit = note
    _note_path(note, template, request.path_params)
    return note


def _note_path(note: AuditNote, template: str, params: dict[str, Any]) -> None:
    """The resource a route's path names: its last ``{..._id}`` parameter."""
    segments = template.strip("/").split("/")
    for position, segment in enumerate(segments):
        name = segment.strip("{}")
        if segment.startswith("{") and name in params:
            note.resource_type = segments[position - 1] if position else name
            note.resource_id = params[name]
            note.path_ids[name] = str(params[name])


def _note_response(note: AuditNote, response: Response, lists: bool) -> None:
    if response.status_code == 304:
        return
    location = response.headers.get("location")
    if location:
        collection, _, created_id = location.rstrip("/").rpartition("/")
        note.resource_type = collection.rpartition("/")[2]
        note.resource_id = created_id
    if lists and not note.returned_ids:
        body = json.loads(bytes(response.body))
        note.returned_ids = [item.get("id") for item in body.get("items", []) if isinstance(item, dict)]


def _db_slot(request: Request, slots: str | None = "db_slots") -> contextlib.AbstractAsyncContextManager[Any]:
    """At most as many requests at once as the pool has connections: a request
    holds its connection between its turns in the thread pool, so more would
    leave threads waiting for connections held by requests waiting for
    threads (until the pool's timeout).  Sign-in has slots of its own, taken
    for each database step rather than throughout (``SignInRoute``)."""
    return (getattr(request.state, slots, None) if slots else None) or contextlib.nullcontext()


class StepSlot:
    """The slot a request of a route with step slots takes for each database
    step, reusable: ``async with`` takes it for one step.  ``hold`` takes it
    for the request's last step and keeps it until the route class has
    committed the request's entry (``release``): the last step's changes and
    the entry are committed in one transaction, and that transaction is never
    open while the request waits for a slot."""

    def __init__(self, slots: asyncio.Semaphore | None) -> None:
        self._slots = slots
        self._held = False
        self._taken: list[bool] = []

    async def __aenter__(self) -> None:
        taken = not self._held and self._slots is not None
        if taken:
            assert self._slots is not None
            await self._slots.acquire()
        self._taken.append(taken)

    async def __aexit__(self, *_: object) -> None:
        if self._taken.pop() and self._slots is not None:
            self._slots.release()

    async def hold(self) -> None:
        """Take the slot until ``release``, for the last step and the entry."""
        if not self._held and self._slots is not None:
            await self._slots.acquire()
        self._held = True

    def release(self) -> None:
        if self._held and self._slots is not None:
            self._slots.release()
        self._held = False


def step_slot(request: Request) -> StepSlot:
    """The slot a request of a ``SignInRoute`` takes for each database step
    (its entry's write included); none for the other routes, which hold
    theirs throughout."""
    slot = getattr(request.state, "step_slot", None)
    if slot is None:
        slot = StepSlot(None)
        request.state.step_slot = slot
    return slot


async def _replayed(request: Request, note: AuditNote, replay: IdempotentReplay) -> Response:
    """The stored answer of an earlier request with the same Idempotency-Key."""
    note.reason = "idempotent_replay"
    replayed = replay.response()
    await _append(
        request,
        note,
        replayed.status_code,
        own_transaction=True,
        failure="audit entry for a replayed request could not be written",
    )
    return replayed


async def _record_refusal(request: Request, note: AuditNote, exc: Exception) -> None:
    """The entry of a failed request, in a transaction of its own."""
    status, reason = _status_of(exc)
    note.reason = note.reason or getattr(request.state, "token_failure", None) or reason
    await _append(
        request, note, status, own_transaction=True, failure="audit entry for a refused request could not be written"
    )


class AuditedRoute(APIRoute):
    """The route class of every API router (see the module docstring)."""

    # The request state's semaphore a request of this route holds throughout
    # (None: none), and the one it takes for each database step (None: none).
    slots: str | None = "db_slots"
    step_slots: str | None = None

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        action = self.name
        template = self.path_format
        lists = isinstance(self.response_model, type) and issubclass(self.response_model, Page)
        with_case = answers_with_case(self.response_model)

        slots, step_slots = self.slots, self.step_slots

        async def audited_handler(request: Request) -> Response:
            slot = StepSlot(getattr(request.state, step_slots, None) if step_slots else None)
            request.state.step_slot = slot
            try:
                async with _db_slot(request, slots):
                    return await _audited(request)
            finally:
                slot.release()

        async def _audited(request: Request) -> Response:
            note = _open_note(request, action, template)
            context_token = CURRENT_NOTE.set(note)
            try:
                response = conditional(request, note, await handler(request), with_case)
                _note_response(note, response, lists)
            except IdempotentReplay as replay:
                return await _replayed(request, note, replay)
            except Exception as exc:
                await _record_refusal(request, note, exc)
                answer = _error_answer(exc, request)
                if answer is exc:
                    raise
                raise answer from None
            finally:
                CURRENT_NOTE.reset(context_token)
            # The answer is kept for its Idempotency-Key, and the entry appended,
            # in the request's transaction: one commit, before the answer leaves.
            await _append(
                request,
                note,
                response.status_code,
                own_transaction=False,
                response=response,
                failure="audit entry could not be written: the request is refused",
            )
            return response

        return audited_handler


class SignInRoute(AuditedRoute):
    """The token endpoint's route class: audited the same way, but a sign-in
    takes one of its own few slots (``SIGNIN_SLOTS``) for each database step
    (``step_slot``: its own steps, then its entry's write), never one of those
    of the requests that carry a token, and none while it waits for or
    computes a password hash.  A flood of sign-ins queues behind itself only,
    and the hash's queue is bounded by the hasher itself."""

    slots = None
    step_slots = "signin_slots"


class SteppedRoute(AuditedRoute):
    """The route class of an authenticated route that waits for a password
    hash (``POST /auth/password``): audited the same way, but it takes one of
    the request slots for each database step (its principal's resolution,
    its own steps, its entry's write) rather than throughout, so that while
    it waits for or computes a hash it holds no slot, no connection and no
    thread of the shared pool."""

    slots = None
    step_slots = "db_slots"
