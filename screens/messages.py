"""Messages the app posts to itself and its screens."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from cockpit.fleet.snapshot import FleetSnapshot


@dataclass
class FleetUpdated(Message):
    """The hub published a new snapshot. Only the newest one waiting in the queue matters."""

    snapshot: FleetSnapshot
    """The fleet as the hub merged it last; older ones still queued are dropped."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FleetUpdated)
