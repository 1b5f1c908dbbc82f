"""``ServiceDesk``: a policy, a store and the plugins, and the services built on them."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import pluggy

from aftersales.core.calendar import require_aware
from aftersales.core.errors import ValidationError
from aftersales.core.model import Case, CaseEvent, Notification
from aftersales.plugins.hookspecs import StorageFactory
from aftersales.plugins.manager import make_manager
from aftersales.plugins.storage import Storage
from aftersales.policy import FunctionRegistry, Policy, load_policy

logger = logging.getLogger("aftersales")


class ServiceDesk:
    """The after-sales desk: everything an integrator calls hangs off one of these.

    ``policy`` is a loaded :class:`Policy` or the path of a policy file (then it is loaded
    with the functions the desk's plugins register). ``storage`` is a URL:
    ``"sqlite:///service.db"`` (the embedded default for production) or ``"memory://"``
    (tests), or any scheme a plugin registers, or a ready :class:`Storage`. ``plugins`` are
    plugin objects or modules for this desk only, on top of the built-ins and the installed
    ones. ``clock`` returns the current aware datetime; it is what ``at=`` defaults to.
    """

    def __init__(
        self,
        policy: Policy | str | os.PathLike[str],
        storage: str | Storage = "memory://",
        *,
        plugins: Iterable[Any] = (),
        clock: Callable[[], datetime] | None = None,
        entry_points: bool = True,
    ) -> None:
        self.plugins: pluggy.PluginManager = make_manager(plugins, entry_points=entry_points)
        self.functions = FunctionRegistry()
        self.plugins.hook.aftersales_policy_functions(register=self.functions.register)
        self.metrics: dict[str, tuple[Callable[..., Any], str]] = {}
        self.plugins.hook.aftersales_metrics(register=self._register_metric)
        if isinstance(policy, (str, os.PathLike)):
            policy = load_policy(Path(policy), functions=self.functions)
        if not isinstance(policy, Policy):
            raise ValidationError(f"policy must be a Policy or a path, not {type(policy).__name__}")
        self.policy = policy
        self._clock = clock
        self.backends: dict[str, StorageFactory] = {}
        self.plugins.hook.aftersales_storage_backends(register=self._register_backend)
        self.storage = storage if isinstance(storage, Storage) else self._open(storage)

        from aftersales.services.cases import CaseService
        from aftersales.services.staff import StaffService

        self.staff = StaffService(self)
        self.cases = CaseService(self)

    # -- plugins ------------------------------------------------------------------------------
    def _register_backend(self, scheme: str, factory: StorageFactory) -> None:
        if scheme in self.backends:
            raise ValidationError(f"two plugins register the storage scheme {scheme!r}")
        self.backends[scheme] = factory

    def _register_metric(
        self, name: str, compute: Callable[..., Any], description: str = ""
    ) -> None:
        if name in self.metrics:
            raise ValidationError(f"two plugins register the metric {name!r}")
        self.metrics[name] = (compute, description)

    def _open(self, url: str) -> Storage:
        scheme = url.split("://", 1)[0] if "://" in url else ""
        factory = self.backends.get(scheme)
        if factory is None:
            known = ", ".join(f"{s}://" for s in sorted(self.backends)) or "none"
            raise ValidationError(
                f"no storage backend for {url!r}; the loaded plugins offer {known}"
            )
        return factory(url)

    def _each(self, hook: str, what: str, **kwargs: Any) -> None:
        """Call every implementation of ``hook`` on its own: one that raises is logged and
        the others still run (pluggy would stop at the first exception)."""
        for impl in getattr(self.plugins.hook, hook).get_hookimpls():
            try:
                impl.function(*(kwargs[name] for name in impl.argnames))
            except Exception:
                logger.exception("plugin %s failed in %s (%s)", impl.plugin_name, hook, what)

    def notify(self, notifications: Iterable[Notification]) -> None:
        """Hand notifications to every notifier; a failing notifier is logged, not raised."""
        for notification in notifications:
            self._each(
                "aftersales_notify",
                notification.kind,
                notification=notification,
            )

    def observe(self, event: CaseEvent, case: Case) -> None:
        """Show an event to every ``aftersales_case_event`` observer."""
        self._each(
            "aftersales_case_event",
            event.type,
            event=event,
            case=case,
        )

    # -- time -----------------------------------------------------------------------------
    def now(self) -> datetime:
        """The desk's clock: what ``at=`` means when it is left out."""
        if self._clock is None:
            return datetime.now(self.policy.tz)
        return require_aware(self._clock(), "the desk's clock")

    def at(self, value: datetime | None) -> datetime:
        """``value`` checked (aware) and in the policy's zone, or the clock's now."""
        if value is None:
            return self.now()
        return require_aware(value, "at").astimezone(self.policy.tz)

    # -- lifetime -------------------------------------------------------------------------
    def close(self) -> None:
        self.storage.close()

    def __enter__(self) -> ServiceDesk:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def describe_plugins(self) -> list[tuple[str, list[str]]]:
        from aftersales.plugins.manager import describe

        return describe(self.plugins)


__all__ = ["ServiceDesk"]
