"""The pluggy plugin manager: built-ins, entry points, plugins handed to a desk.

Each desk has its own manager, so plugins given to one desk do not leak into another.
Plugins come from three places, in this order: the built-ins (:data:`DEFAULT_PLUGINS`,
registered exactly like third-party ones), the ``aftersales`` entry-point group of the
installed distributions, and ``ServiceDesk(..., plugins=[...])``. The environment variable
``AFTERSALES_BLOCK_PLUGINS`` (comma-separated plugin names, e.g.
``aftersales.plugins.log_notifier,acme-sms``) keeps named ones from loading.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import pluggy

from aftersales.policy.functions import FunctionRegistry
from aftersales.ports import hookspecs
from aftersales.ports.hooks import Hooks

DEFAULT_PLUGINS = (
    "aftersales.plugins.memory",
    "aftersales.plugins.sqlite",
    "aftersales.plugins.postgres",
    "aftersales.plugins.log_notifier",
    "aftersales.plugins.email_notifier",
    "aftersales.plugins.webhook_notifier",
    "aftersales.plugins.functions",
    "aftersales.plugins.metrics",
)
"""The built-in plugins, by module name."""

BLOCK_VARIABLE = "AFTERSALES_BLOCK_PLUGINS"
logger = logging.getLogger("aftersales")


def blocked_names() -> set[str]:
    """Plugin names listed in ``AFTERSALES_BLOCK_PLUGINS``."""
    return {n.strip() for n in os.environ.get(BLOCK_VARIABLE, "").split(",") if n.strip()}


def plugin_name(plugin: Any) -> str:
    """A name that is the same in every process: the module's name for a module, else the
    object's ``name`` attribute, else its class's dotted name (outbox items are kept per
    notifier by this name, and may be delivered by another process)."""
    if isinstance(plugin, ModuleType):
        return plugin.__name__
    named = getattr(plugin, "name", None)
    if isinstance(named, str) and named:
        return named
    kind = type(plugin)
    return f"{kind.__module__}.{kind.__qualname__}"


class PluginManager(pluggy.PluginManager):
    """pluggy's manager, which also lists the installed plugins it could not load."""

    def __init__(self, project_name: str) -> None:
        super().__init__(project_name)
        self.broken: list[tuple[str, str]] = []  # (plugin name, why it was left out)


_REPORTED: set[tuple[str, str]] = set()


def _load_installed(pm: PluginManager, blocked: set[str]) -> None:
    """The ``aftersales`` entry points of the installed distributions, each on its own: one
    that cannot be imported, or implements a hook that does not exist (a misspelt name), is
    left out and logged in one line, and the others load (pluggy's own loader stops at the
    first)."""
    for dist in importlib.metadata.distributions():
        for ep in dist.entry_points:
            if ep.group != hookspecs.PROJECT or ep.name in blocked or pm.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
                pm.register(plugin, name=ep.name)
                pm.check_pending()
            except Exception as exc:
                if pm.has_plugin(ep.name):
                    pm.unregister(name=ep.name)
                reason = " ".join(f"{type(exc).__name__}: {exc}".split())
                pm.broken.append((ep.name, reason))
                if (ep.name, reason) not in _REPORTED:
                    _REPORTED.add((ep.name, reason))
                    logger.warning("plugin %s not loaded (%s); the others work without it. "
                                   "%s=%s stops trying it", ep.name, reason, BLOCK_VARIABLE,
                                   ep.name)  # fmt: skip


def make_manager(plugins: Iterable[Any] = (), *, entry_points: bool = True) -> PluginManager:
    """A manager with the hook specs, the built-ins, installed plugins and ``plugins``."""
    pm = PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    blocked = blocked_names()
    for name in blocked:
        pm.set_blocked(name)
    for name in DEFAULT_PLUGINS:
        if name not in blocked:
            pm.register(importlib.import_module(name), name)
    if entry_points:
        _load_installed(pm, blocked)
    for plugin in plugins:
        name = plugin_name(plugin)
        if name in blocked:
            continue
        if pm.has_plugin(name):  # two objects of one class: number them
            name = next(f"{name}#{n}" for n in range(2, 10**6) if not pm.has_plugin(f"{name}#{n}"))
        if name not in blocked:
            pm.register(plugin, name)
    pm.check_pending()
    return pm


def vocabulary(pm: pluggy.PluginManager) -> tuple[FunctionRegistry, list[str]]:
    """The policy functions and metric names the plugins of ``pm`` register: what a policy
    file may use when it is loaded for them."""
    hooks = Hooks(pm)
    return hooks.policy_functions(), list(hooks.metrics())


def describe(pm: pluggy.PluginManager) -> list[tuple[str, list[str]]]:
    """Each loaded plugin's name and the hooks it implements."""
    rows = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: item[0]):
        if plugin is None:
            continue
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or ())
        rows.append((name, hooks))
    return rows


__all__ = [
    "BLOCK_VARIABLE",
    "DEFAULT_PLUGINS",
    "PluginManager",
    "blocked_names",
    "describe",
    "make_manager",
    "plugin_name",
    "vocabulary",
]
