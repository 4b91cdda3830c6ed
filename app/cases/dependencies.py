"""How a read route reaches its case: one dependency, so that no route checks
visibility and permission by hand.

``CaseFor(capability)`` loads the case its path names through
``service.visible_case`` (one query, which ties the request's audit entry to
the case), answers 404 when the caller may not see it and then 403 when its
role may not use ``capability``, in that order: out of scope is absence.
``DevicePageFor`` does the same for a path that names a device.  Writes do
not use them: their service locks the case first.

FastAPI calls a dependency even when a parameter of another one was invalid,
but not when one of its own was.  A route's other parameters (its page, ...)
therefore come through the case's dependency (``CasePageFor``, or a
subclass of ``CaseReach`` of the route's own), so that a 422 for them comes
before a 404 or 403, and a request refused for them does not reach the case.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends
from sqlmodel import Session

from app.auth.principal import CurrentPrincipal, Principal
from app.cases import service
from app.cases.models import Case, Device
from app.cases.policy import Capability
from app.db import get_session
from app.pagination import PageDep, PageParams

SessionDep = Annotated[Session, Depends(get_session)]


class CaseReach:
    """What the case dependencies share: the case, for a caller who may use
    ``capability`` on it (each dependency adds its own parameters)."""

    def __init__(self, capability: Capability) -> None:
        self.capability = capability

    def reach(self, session: Session, principal: Principal, case_id: uuid.UUID) -> Case:
        case = service.visible_case(session, principal, case_id)
        service.require(principal, self.capability)
        return case


class CaseFor(CaseReach):
    """The case of the path's ``case_id``, for a caller who may use ``capability`` on it."""

    def __call__(self, case_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> Case:
        return self.reach(session, principal, case_id)


class CasePageFor(CaseReach):
    """The case and the page of the list asked for."""

    def __call__(
        self, case_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, page: PageDep
    ) -> tuple[Case, PageParams]:
        return self.reach(session, principal, case_id), page


class DevicePageFor:
    """The device of the path's ``device_id``, for a caller who may use
    ``capability`` on its case, and the page of the list asked for."""

    def __init__(self, capability: Capability) -> None:
        self.capability = capability

    def __call__(
        self, device_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, page: PageDep
    ) -> tuple[Device, PageParams]:
        device, _ = service.visible_device(session, principal, device_id)
        service.require(principal, self.capability)
        return device, page
