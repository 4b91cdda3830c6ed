"""Where a device stands in its chain of custody: the one derivation that the
protocol's guards, the device answers and the recording of the next step
share.  A device's state is the kind of its last custody event (by
sequence); a device is recorded with its confiscation, so one without events
counts as confiscated."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.cases.models import CustodyEvent, CustodyEventKind


@dataclass(frozen=True)
class Custody:
    """The custody events of some devices, each device's in order."""

    events: dict[uuid.UUID, list[CustodyEvent]]

    @classmethod
    def load(cls, session: Session, device_ids: list[uuid.UUID]) -> Custody:
        """One query for every device named (none for no device)."""
        events: dict[uuid.UUID, list[CustodyEvent]] = {}
        if device_ids:
            rows = session.exec(
                select(CustodyEvent)
                .where(col(CustodyEvent.device_id).in_(device_ids))
                .order_by(col(CustodyEvent.sequence))
            ).all()
            for event in rows:
                events.setdefault(event.device_id, []).append(event)
        return cls(events)

    def history(self, device_id: uuid.UUID) -> list[CustodyEvent]:
        return self.events.get(device_id, [])

    def state(self, device_id: uuid.UUID) -> CustodyEventKind:
        history = self.history(device_id)
        return CustodyEventKind(history[-1].kind) if history else CustodyEventKind.confiscated
