"""Every hook a plugin may implement. Each docstring is the plugin author's manual.

A plugin is a module or an object with functions of these names, marked with
``@aftersales.hookimpl``. Publish it under the entry-point group ``aftersales`` (see
``examples/plugin/``), or hand it to a desk: ``ServiceDesk(..., plugins=[MyPlugin()])``.
Hooks are called with keyword arguments; implement only the parameters you need.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from aftersales.core.model import Case, CaseEvent, Notification
    from aftersales.plugins.storage import Storage

PROJECT = "aftersales"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

StorageFactory = Callable[[str], "Storage"]
"""Opens a storage backend for a URL such as ``sqlite:///service.db``."""


@hookspec
def aftersales_storage_backends(register: Callable[[str, StorageFactory], None]) -> None:
    """Register storage backends: ``register("sqlite", open_sqlite)``.

    ``register(scheme, factory)``: ``factory(url)`` returns an
    :class:`aftersales.plugins.storage.Storage` for URLs of that scheme (``scheme://...``).
    A desk opens its storage with the factory registered for its URL's scheme; registering a
    scheme twice is an error. The backend must keep the contract in
    :mod:`aftersales.plugins.storage`; ``aftersales.testing`` has a suite that checks it.
    Built in: ``memory`` and ``sqlite``.
    """


@hookspec
def aftersales_notify(notification: Notification) -> None:
    """Deliver a notification: called for every one the desk sends, after the transaction
    that stored it (in the outbox, with the event that caused it) has committed.

    ``notification.kind`` says what happened (``case_assigned``, ``warranty_rework``,
    ``acceptance_escalated``, ...), ``recipients`` are staff ids (look them up with
    ``desk.staff.get``), ``subject`` is one line for a human, ``data`` has the details as
    JSON-ready values. Every notifier sees every notification; ignore kinds you do not
    handle. An exception raised here is logged, does not undo the action, and makes the desk
    try again later with backoff, up to ``OutboxSettings.max_tries`` times (then the item is
    listed by ``aftersales notifications failed``). Delivery is at least once; the plugin's
    name (a module's name, or a plugin object's ``name`` attribute, else its class's dotted
    name) must be the same in every process. Built in: a notifier that writes to the
    ``aftersales.notify`` logger, and ``aftersales.testing.Outbox`` for tests.
    """


@hookspec
def aftersales_metrics(register: Callable[..., None]) -> None:
    """Register scoring metrics for appraisals: ``register(name, compute, description)``.

    ``name`` is what a policy's ``measure performance { ... }`` block writes. The desk
    collects every registered name when it starts; a policy naming a metric that no loaded
    plugin registers is refused with a :class:`PolicyError` listing the known ones.
    ``compute(desk, staff_id, period)`` returns the metric's value for one staff member and
    month (``period`` is ``"2026-11"``), or ``None`` when there is nothing to measure.
    """


@hookspec
def aftersales_policy_functions(register: Callable[..., None]) -> None:
    """Register functions that policy expressions may call:
    ``register(name, impl, params, returns, doc)``.

    ``params`` and ``returns`` are :class:`aftersales.ValueType` members (``TEXT``,
    ``NUMBER``, ``BOOL``, ``MONEY``, ``DURATION``, ``LIST``). Expressions are type-checked
    against them when the policy loads, and a function receives ``None`` never: a missing
    argument makes the call ``None`` without calling it. A desk given a policy *path* loads
    it with these functions; ``aftersales.load_policy(path, functions=...)`` takes them too.
    """


@hookspec
def aftersales_case_event(event: CaseEvent, case: Case) -> None:
    """Observe every case event once it is stored: ``case`` is the case after it.

    For ERP synchronisation, audit trails, dashboards. Called in the order events happen
    within one desk. An exception raised here is logged and does not undo the action.
    """


__all__ = [
    "PROJECT",
    "StorageFactory",
    "aftersales_case_event",
    "aftersales_metrics",
    "aftersales_notify",
    "aftersales_policy_functions",
    "aftersales_storage_backends",
    "hookimpl",
    "hookspec",
]
