"""Helpers for testing code built on aftersales (and, later, the storage conformance suite)."""

from __future__ import annotations

import threading

from aftersales.core.model import Notification
from aftersales.plugins.hookspecs import hookimpl


class Outbox:
    """A notifier plugin that keeps every notification in ``.notifications``.

    ``outbox = Outbox(); desk = ServiceDesk(policy, plugins=[outbox])``; then assert on
    ``outbox.notifications`` or ``outbox.of("case_assigned")``.
    """

    def __init__(self) -> None:
        self.notifications: list[Notification] = []
        self._lock = threading.Lock()

    @hookimpl
    def aftersales_notify(self, notification: Notification) -> None:
        with self._lock:
            self.notifications.append(notification)

    def of(self, kind: str) -> list[Notification]:
        """The notifications of one kind, in the order they were sent."""
        return [n for n in self.notifications if n.kind == kind]

    def clear(self) -> None:
        with self._lock:
            self.notifications.clear()


__all__ = ["Outbox"]
