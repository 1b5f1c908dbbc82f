"""Every hook a plugin may implement. Each docstring is the plugin author's manual.

A plugin is a module or an object with functions of these names, marked with
``@aftersales.hookimpl``. Publish it under the entry-point group ``aftersales`` (see
``examples/plugin/``), or hand it to a desk: ``ServiceDesk(..., plugins=[MyPlugin()])``.
Hooks are called with keyword arguments; implement only the parameters you need.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import click
import pluggy

from aftersales.core.model import Case, CaseEvent, Notification, Staff
from aftersales.policy import Policy
from aftersales.policy.functions import ValueType
from aftersales.ports.storage import Storage

PROJECT = "aftersales"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

StorageFactory = Callable[[str], Storage]
"""Opens a storage backend for a URL such as ``sqlite:///service.db``."""

NotifierFactory = Callable[[Mapping[str, Any]], object]
"""Makes a notifier plugin object from its settings (a ``[notify.<name>]`` table)."""


class StorageRegistrar(Protocol):
    """What ``aftersales_storage_backends`` is handed."""

    def __call__(self, scheme: str, factory: StorageFactory) -> None: ...


class NotifierRegistrar(Protocol):
    """What ``aftersales_notifiers`` is handed."""

    def __call__(self, name: str, factory: NotifierFactory) -> None: ...


class FunctionRegistrar(Protocol):
    """What ``aftersales_policy_functions`` is handed."""

    def __call__(
        self,
        name: str,
        impl: Callable[..., Any],
        params: Iterable[ValueType | str],
        returns: ValueType | str,
        doc: str = "",
    ) -> object: ...


class StaffCases(Protocol):
    """``view.appraisals``: one member's cases of a month."""

    def cases_of(self, staff_id: str, period: str, kind: str) -> list[Case]:
        """``kind``: ``accepted``, ``followed_up``, ``reported`` (as engineer) or
        ``reported_by`` (as the service agent who took the report)."""
        ...


class CaseReader(Protocol):
    """``view.cases``: reading cases (``desk.cases``' reading methods)."""

    def get(self, case_id: str) -> Case: ...

    def find(
        self,
        *,
        status: str | Iterable[str] | None = None,
        engineer: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[Case]: ...


class CaseClocks(Protocol):
    """``view.sla``: the SLA clocks of a case."""

    def states(self, case: Case, now: datetime) -> dict[str, str]:
        """Each milestone's clock state at ``now`` (``met``, ``breached``, ``excused``,
        ``running``, ...)."""
        ...


class MetricView(Protocol):
    """What a metric is handed to compute from: the desk's policy, the store to read, the
    cases, one member's cases by month and the SLA clocks of a case. A desk's attributes of
    the same names are all of this, so a metric can be called with a desk too."""

    @property
    def policy(self) -> Policy: ...

    @property
    def storage(self) -> Storage:
        """For reading; a metric never writes."""
        ...

    @property
    def cases(self) -> CaseReader: ...

    @property
    def appraisals(self) -> StaffCases: ...

    @property
    def sla(self) -> CaseClocks: ...


Metric = Callable[[MetricView, str, str], "Decimal | None"]
"""``compute(view, staff_id, period)``: a metric's value for one member and month
(``period`` is ``"2026-11"``), or None when there is nothing to measure."""


class MetricRegistrar(Protocol):
    """What ``aftersales_metrics`` is handed."""

    def __call__(self, name: str, compute: Metric, description: str = "") -> None: ...


@hookspec
def aftersales_storage_backends(register: StorageRegistrar) -> None:
    """Register storage backends: ``register("sqlite", open_sqlite)``.

    ``register(scheme, factory)``: ``factory(url)`` returns an
    :class:`aftersales.Storage` for URLs of that scheme (``scheme://...``).
    A desk opens its storage with the factory registered for its URL's scheme; registering a
    scheme twice is an error. The backend must keep the contract in
    :mod:`aftersales.ports.storage`; ``aftersales.testing`` has a suite that checks it.
    Built in: ``memory``, ``sqlite`` and ``postgresql``.
    """


@hookspec
def aftersales_notify(
    notification: Notification, staff: Sequence[Staff], delivery: str
) -> str | None:
    """Deliver a notification: called for every one the desk sends, after the transaction
    that stored it (in the outbox, with the event that caused it) has committed.

    A message to a customer (kind ``customer_*``) has ``notification.to``: the contact's
    name, ``channel`` (``email``, ``sms``, ``chat``), ``address`` and ``language``, and
    ``notification.text`` (rendered; its first line is the subject) and ``attachments``. The
    notifier that delivers the channel returns it (``"sms"``): that receipt is what makes a
    delay notice count as told (``excuse when notified before due``). Return None for what
    you do not deliver to a customer.

    ``notification.kind`` says what happened (``case_assigned``, ``warranty_rework``,
    ``acceptance_escalated``, ...), ``recipients`` are staff ids, ``subject`` is one line for
    a human, ``data`` has the details as JSON-ready values. ``staff`` are the recipients'
    staff records as they are at delivery (e-mail address, phone, team; ids no longer on
    file are left out). ``delivery`` is the id of this notification's outbox item for this
    plugin: the same on every retry, so a receiver can drop repeats. Every notifier sees
    every notification; ignore kinds you do not handle. An exception raised here is logged,
    does not undo the action, and makes the desk try again later with backoff, up to
    ``OutboxSettings.max_tries`` times (then the item is listed by ``aftersales
    notifications failed``). Delivery is at least once; the plugin's name (a module's name,
    or a plugin object's ``name`` attribute, else its class's dotted name) must be the same
    in every process. Built in: a notifier that writes to the ``aftersales.notify`` logger,
    the e-mail and webhook notifiers (made from settings, see ``aftersales_notifiers``), and
    ``aftersales.testing.Outbox`` for tests.
    """


@hookspec
def aftersales_notifiers(register: NotifierRegistrar) -> None:
    """Register notifiers that are made from settings: ``register("sms", make_sms)``.

    ``make_sms(settings)`` gets the ``[notify.sms]`` table of ``aftersales.toml`` (or
    ``ServiceDesk(notify={"sms": {...}})``) as a dict and returns a plugin object that
    implements ``aftersales_notify``; the desk registers it under the name ``sms``, and only
    when that table is there. Raise :class:`aftersales.ValidationError` for bad settings (the
    desk says which table it came from), and read secrets from the environment, never from
    the settings. Registering a name twice is an error. Built in: ``email`` and ``webhook``.
    """


@hookspec
def aftersales_metrics(register: MetricRegistrar) -> None:
    """Register scoring metrics for appraisals: ``register(name, compute, description)``.

    ``name`` is what a policy's ``measure performance { ... }`` block writes. The desk
    collects every registered name when it starts; a policy naming a metric that no loaded
    plugin registers is refused with a :class:`PolicyError` listing the known ones.
    ``compute(view, staff_id, period)`` returns the metric's value for one staff member and
    month (``period`` is ``"2026-11"``), or ``None`` when there is nothing to measure;
    ``view`` is a :class:`MetricView` (``view.policy``, ``view.storage``, ``view.cases``,
    ``view.appraisals.cases_of(...)``, ``view.sla.states(...)``).
    """


@hookspec
def aftersales_policy_functions(register: FunctionRegistrar) -> None:
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


@hookspec
def aftersales_register_commands(cli: click.Group) -> None:
    """Add commands to the ``aftersales`` command: ``cli`` is its click group.

    ``@cli.command()`` (or ``cli.add_command(group)``) makes ``aftersales NAME``. A command
    works on the configured desk with ``aftersales.cli.context.open_desk()`` and prints with
    ``aftersales.cli.output``; an ``AftersalesError`` it lets out prints one line and exits 1,
    like every built-in command. A plugin whose hook raises is skipped with a warning; the
    other commands still work. A name a built-in command has already is refused.
    """


__all__ = [
    "PROJECT",
    "CaseClocks",
    "CaseReader",
    "FunctionRegistrar",
    "Metric",
    "MetricRegistrar",
    "MetricView",
    "NotifierFactory",
    "NotifierRegistrar",
    "StaffCases",
    "StorageFactory",
    "StorageRegistrar",
    "aftersales_case_event",
    "aftersales_metrics",
    "aftersales_notifiers",
    "aftersales_notify",
    "aftersales_policy_functions",
    "aftersales_register_commands",
    "aftersales_storage_backends",
    "hookimpl",
    "hookspec",
]
