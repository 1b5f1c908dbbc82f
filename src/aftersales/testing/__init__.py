"""Helpers for testing code built on aftersales: ``Outbox`` (a notifier that keeps what it
gets) and ``StorageContract`` (the storage conformance suite)."""

from __future__ import annotations

import threading
from typing import Any

from aftersales.core.model import Notification
from aftersales.ports.hookspecs import hookimpl


class Outbox:
    """A notifier plugin that keeps every notification in ``.notifications``.

    ``outbox = Outbox(); desk = ServiceDesk(policy, plugins=[outbox])``; then assert on
    ``outbox.notifications`` or ``outbox.of("case_assigned")``. With
    ``reaches_customers=True`` it also stands in for the gateway that reaches customers:
    it confirms each customer's message as delivered by its channel (the receipt that makes
    a delay notice count), as the e-mail and webhook notifiers do.
    """

    aftersales_inline = True  # in memory: never blocks, so no courier thread

    def __init__(self, *, reaches_customers: bool = False) -> None:
        self.notifications: list[Notification] = []
        self.reaches_customers = reaches_customers
        self._lock = threading.Lock()

    @hookimpl
    def aftersales_notify(self, notification: Notification) -> str | None:
        with self._lock:
            self.notifications.append(notification)
        to = notification.to
        return to.channel if to is not None and self.reaches_customers else None

    def of(self, kind: str) -> list[Notification]:
        """The notifications of one kind, in the order they were sent."""
        return [n for n in self.notifications if n.kind == kind]

    def clear(self) -> None:
        with self._lock:
            self.notifications.clear()


def __getattr__(name: str) -> Any:
    # StorageContract needs pytest: imported only when asked for
    if name == "StorageContract":
        from aftersales.testing.contract import StorageContract

        return StorageContract
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Outbox", "StorageContract"]
