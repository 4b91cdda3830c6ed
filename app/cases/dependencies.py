"""How a read route reaches its case: one dependency, so that no route checks
visibility and permission by hand.

``CaseFor(capability)`` loads the case its path names through
``service.visible_case`` (one query, which ties the request's audit entry to
the case), answers 404 when the caller may not see it and then 403 when its
role may not use ``capability``, in that order: out of scope is absence.
``DeviceFor`` does the same for a path that names a device.  Writes do not
use them: their service locks the case first.

A route declares the dependency after its other parameters: FastAPI calls
dependencies in the order they are declared.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends
from sqlmodel import Session

from app.auth.principal import CurrentPrincipal
from app.cases import service
from app.cases.models import Case, Device
from app.cases.policy import Capability
from app.db import get_session

SessionDep = Annotated[Session, Depends(get_session)]


class CaseFor:
    """The case of the path's ``case_id``, for a caller who may use ``capability`` on it."""

    def __init__(self, capability: Capability) -> None:
        self.capability = capability

    def __call__(self, case_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> Case:
        case = service.visible_case(session, principal, case_id)
        service.require(principal, self.capability)
        return case


class DeviceFor:
    """The device of the path's ``device_id`` (and its case), for a caller who
    may use ``capability`` on its case."""

    def __init__(self, capability: Capability) -> None:
        self.capability = capability

    def __call__(self, device_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> tuple[Device, Case]:
        found = service.visible_device(session, principal, device_id)
        service.require(principal, self.capability)
        return found
