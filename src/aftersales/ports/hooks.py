"""``Hooks``: the one typed way the desk and its services call the plugins.

pluggy calls every implementation of a hook in turn and stops at the first exception. That
is right for the registration hooks (a broken plugin should stop the desk from opening), but
not for observers and notifiers, where one plugin's failure must not cost the others their
call: those are called one plugin at a time, each through a pluggy hook caller limited to it
(``PluginManager.subset_hook_caller``), never by reaching into pluggy's implementation
objects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import attrs
import click
import pluggy

from aftersales.core.errors import ValidationError
from aftersales.core.model import Case, CaseEvent, Notification, Staff
from aftersales.policy.functions import FunctionRegistry
from aftersales.ports.hookspecs import Metric, NotifierFactory, StorageFactory

logger = logging.getLogger("aftersales")
_Callers = list[tuple[str, pluggy.HookCaller]]


class RegisteredMetric(NamedTuple):
    """A metric a plugin registered (a pair, so ``compute, description = ...`` works)."""

    compute: Metric
    description: str


@attrs.frozen
class Notifier:
    """One loaded notifier plugin: call it with a notification for its outbox item."""

    name: str
    inline: bool  # in-process and cannot block: delivered without the courier thread
    wants_staff: bool  # takes the ``staff`` argument (its recipients' records)
    _call: pluggy.HookCaller

    def __call__(
        self, notification: Notification, staff: Sequence[Staff], delivery: str
    ) -> str | None:
        """Deliver; the plugin's receipt (the channel it reached a customer by), if any."""
        results = self._call(notification=notification, staff=staff, delivery=delivery)
        return next((r for r in results if isinstance(r, str) and r), None)


def _unique(what: str) -> tuple[dict[str, Any], Callable[..., None]]:
    found: dict[str, Any] = {}

    def register(name: str, value: Any) -> None:
        if name in found:
            raise ValidationError(f"two plugins register the {what} {name!r}")
        found[name] = value

    return found, register


class Hooks:
    """Every hook of :mod:`aftersales.ports.hookspecs`, as a typed method."""

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self.manager = manager
        self._single: dict[str, tuple[tuple[int, ...], _Callers]] = {}
        self._notifiers: tuple[tuple[int, ...], dict[str, Notifier]] = ((), {})

    # -- registration: any failure stops the desk opening ------------------------------------
    def storage_backends(self) -> dict[str, StorageFactory]:
        found, register = _unique("storage scheme")
        self.manager.hook.aftersales_storage_backends(register=register)
        return found

    def notifier_factories(self) -> dict[str, NotifierFactory]:
        found, register = _unique("notifier")
        self.manager.hook.aftersales_notifiers(register=register)
        return found

    def metrics(self) -> dict[str, RegisteredMetric]:
        found: dict[str, RegisteredMetric] = {}

        def register(name: str, compute: Metric, description: str = "") -> None:
            if name in found:
                raise ValidationError(f"two plugins register the metric {name!r}")
            found[name] = RegisteredMetric(compute, description)

        self.manager.hook.aftersales_metrics(register=register)
        return found

    def policy_functions(self) -> FunctionRegistry:
        functions = FunctionRegistry()
        self.manager.hook.aftersales_policy_functions(register=functions.register)
        return functions

    # -- one plugin at a time: a failure is that plugin's alone -------------------------------
    def _each(self, hook: str) -> list[tuple[str, pluggy.HookCaller]]:
        """``(plugin name, a caller of just that plugin's implementation)`` per implementer;
        built again only when plugins come or go (asked on every action)."""
        impls = getattr(self.manager.hook, hook).get_hookimpls()
        shape = tuple(id(i.plugin) for i in impls)
        cached = self._single.get(hook)
        if cached is not None and cached[0] == shape:
            return cached[1]
        plugins = [i.plugin for i in impls]
        callers = [
            (impl.plugin_name,
             self.manager.subset_hook_caller(hook, [p for p in plugins if p is not impl.plugin]))
            for impl in impls
        ]  # fmt: skip
        self._single[hook] = (shape, callers)
        return callers

    def case_event(self, event: CaseEvent, case: Case) -> None:
        """Show a stored event to every observer; one that raises is logged, not repeated."""
        for name, call in self._each("aftersales_case_event"):
            try:
                call(event=event, case=case)
            except Exception:
                logger.exception("plugin %s failed in aftersales_case_event (%s)", name,
                                 event.type)  # fmt: skip

    def notifiers(self) -> dict[str, Notifier]:
        """The loaded notifier plugins, by name (asked on every action: kept while the same
        plugins are registered)."""
        impls = self.manager.hook.aftersales_notify.get_hookimpls()
        shape = tuple(id(i.plugin) for i in impls)
        if shape != self._notifiers[0]:
            by_name = {i.plugin_name: i for i in impls}
            made = {
                name: Notifier(
                    name,
                    bool(getattr(by_name[name].plugin, "aftersales_inline", False)),
                    "staff" in by_name[name].argnames,
                    call,
                )
                for name, call in self._each("aftersales_notify")
            }
            self._notifiers = (shape, made)
        return self._notifiers[1]

    def register_commands(self, group: click.Group) -> list[tuple[str, dict[str, click.Command]]]:
        """Each plugin's commands, made on a scratch group of its own: ``(plugin, commands)``;
        a plugin whose hook raises is logged and left out."""
        made: list[tuple[str, dict[str, click.Command]]] = []
        for name, call in self._each("aftersales_register_commands"):
            scratch = click.Group(group.name)
            try:
                call(cli=scratch)
            except Exception as exc:
                logger.warning("plugin %s could not add its commands: %s", name, exc)
                continue
            made.append((name, dict(scratch.commands)))
        return made


__all__ = ["Hooks", "Notifier", "RegisteredMetric"]
