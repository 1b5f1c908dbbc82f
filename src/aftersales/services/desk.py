"""``ServiceDesk``: a policy, a store and the plugins, and the services built on them."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

import pluggy

from aftersales.core import redact
from aftersales.core.boundary import guard, public_api
from aftersales.core.errors import ConflictError, NotFound, PolicyError, ValidationError
from aftersales.core.model import DEFAULT_LEVELS, Case, CaseEvent, Notification
from aftersales.core.values import moment
from aftersales.plugins.hookspecs import NotifierFactory, StorageFactory
from aftersales.plugins.manager import blocked_names, make_manager
from aftersales.plugins.storage import Storage
from aftersales.policy import FunctionRegistry, Policy, load_policy, parse_policy
from aftersales.services.notifications import OutboxSettings

logger = logging.getLogger("aftersales")
POLICY_KIND = "policy"


def _ladder(levels: Iterable[str]) -> tuple[str, ...]:
    ladder = tuple([levels] if isinstance(levels, str) else levels)
    if not ladder or not all(isinstance(x, str) and x.strip() for x in ladder):
        raise ValidationError("levels is a non-empty list of level names, lowest first")
    if len(set(ladder)) != len(ladder):
        raise ValidationError(f"levels {', '.join(ladder)}: a level appears twice")
    return ladder


@public_api("desk")
class ServiceDesk:
    """The after-sales desk: everything an integrator calls hangs off one of these.

    ``policy`` is a loaded :class:`Policy` or the path of a policy file (then it is loaded
    with the functions the desk's plugins register). ``storage`` is a URL:
    ``"sqlite:///service.db"`` (the embedded default for production) or ``"memory://"``
    (tests), or any scheme a plugin registers, or a ready :class:`Storage`. ``plugins`` are
    plugin objects or modules for this desk only, on top of the built-ins and the installed
    ones. ``clock`` returns the current aware datetime; it is what ``at=`` defaults to.
    ``levels`` is the career ladder, lowest first (default: engineer, senior_engineer,
    supervisor, manager). ``outbox`` says how often and how patiently failed notifications
    are retried (:class:`OutboxSettings`). ``notify`` makes notifiers from settings, the
    ``[notify.<name>]`` tables of ``aftersales.toml``: ``{"email": {"host": ...}}`` (see
    :mod:`aftersales.plugins.email_notifier` and :mod:`~aftersales.plugins.webhook_notifier`).
    """

    def __init__(
        self,
        policy: Policy | str | os.PathLike[str],
        storage: str | Storage = "memory://",
        *,
        plugins: Iterable[Any] = (),
        clock: Callable[[], datetime] | None = None,
        entry_points: bool = True,
        levels: Iterable[str] = DEFAULT_LEVELS,
        outbox: OutboxSettings | None = None,
        notify: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.plugins: pluggy.PluginManager = make_manager(plugins, entry_points=entry_points)
        self._add_notifiers(notify or {})
        self.functions = FunctionRegistry()
        self.plugins.hook.aftersales_policy_functions(register=self.functions.register)
        self.metrics: dict[str, tuple[Callable[..., Any], str]] = {}
        self.plugins.hook.aftersales_metrics(register=self._register_metric)
        if isinstance(policy, (str, os.PathLike)):
            policy = load_policy(Path(policy), functions=self.functions, metrics=list(self.metrics))
        if not isinstance(policy, Policy):
            raise ValidationError(f"policy must be a Policy or a path, not {type(policy).__name__}")
        self._check_metrics(policy)
        self.policy = policy
        self.levels: tuple[str, ...] = _ladder(levels)
        outbox = OutboxSettings() if outbox is None else outbox
        self._clock = clock
        self.backends: dict[str, StorageFactory] = {}
        self.plugins.hook.aftersales_storage_backends(register=self._register_backend)
        self.storage = storage if isinstance(storage, Storage) else self._open(storage)

        from aftersales.services.appraisals import AppraisalService
        from aftersales.services.cases import CaseService
        from aftersales.services.expenses import ExpenseService
        from aftersales.services.notifications import NotificationService
        from aftersales.services.parts import PartsService
        from aftersales.services.safety import SafetyService
        from aftersales.services.sla import SlaService
        from aftersales.services.staff import StaffService
        from aftersales.services.training import TrainingService

        self._policies: dict[str, Policy] = {}
        self._keep_policy(policy)
        self.staff = StaffService(self)
        self.cases = CaseService(self)
        self.sla = SlaService(self)
        self.appraisals = AppraisalService(self)
        self.parts = PartsService(self)
        self.expenses = ExpenseService(self)
        self.training = TrainingService(self)
        self.safety = SafetyService(self)
        self.notifications = NotificationService(self, outbox)

    # -- policies -------------------------------------------------------------------------
    def _check_metrics(self, policy: Policy) -> None:
        """Every metric the policy measures must come from a loaded plugin."""
        if policy.appraisal is None:
            return
        known = ", ".join(sorted(self.metrics)) or "none"
        for targets in policy.appraisal.measures.values():
            for target in targets:
                if target.metric not in self.metrics:
                    filename, _, line = target.location.rpartition(":")
                    raise PolicyError(
                        f'no loaded plugin provides the metric "{target.metric}"',
                        filename=filename or policy.filename,
                        line=int(line) if line.isdigit() else None,
                        hint=f"the loaded plugins provide: {known}",
                    )

    def _keep_policy(self, policy: Policy) -> None:
        """Store the policy's text under its version, so cases reported under it keep their
        rules when a newer policy is loaded; a different text under a stored version is
        refused."""
        self._policies[policy.version] = policy
        if not policy.source:
            return  # built without text (tests that construct a Policy by hand)
        snapshot = {"version": policy.version, "name": policy.name, "source": policy.source}
        for _ in range(2):
            record = self.storage.get(POLICY_KIND, policy.version)
            if record is not None:
                if record.data.get("source") != policy.source:
                    raise PolicyError(
                        f"{policy.filename}: the store already holds a different policy with "
                        f"version {policy.version!r}",
                        filename=policy.filename,
                        hint="give the changed policy a new version in its policy block",
                    )
                return
            event = {
                "version": 1,
                "type": "policy_stored",
                "at": datetime.now(timezone.utc).isoformat(),  # when stored, not a case time
                "by": "",
                "data": {"filename": policy.filename},
            }
            try:
                with self.storage.transaction() as tx:
                    tx.append(POLICY_KIND, policy.version, 0, [event], snapshot)
                return
            except ConflictError:
                continue  # another desk stored it just now: compare with that

    def policy_for(self, version: str) -> Policy:
        """The policy a case was reported (or re-applied) under, by its version."""
        found = self._policies.get(version)
        if found is not None:
            return found
        record = self.storage.get(POLICY_KIND, version)
        if record is None:
            raise NotFound(f"no policy with version {version!r} in the store")
        policy = parse_policy(
            record.data["source"], f"<stored policy {version}>", functions=self.functions
        )
        self._policies[version] = policy
        return policy

    def reapply_policy(
        self,
        *,
        by: str,
        reason: str,
        at: datetime | None = None,
        case_ids: Iterable[str] | None = None,
    ) -> list[Case]:
        """Put open cases under this desk's policy: ``case_ids``, or every open case still
        under an older version. A manager's decision, recorded on each case (see
        ``desk.cases.reapply_policy``). Returns the cases moved."""
        if case_ids is None:
            case_ids = [c.id for c in self.cases.open() if c.policy_version != self.policy.version]
        return [self.cases.reapply_policy(i, by=by, reason=reason, at=at) for i in case_ids]

    # -- plugins ------------------------------------------------------------------------------
    def _register_backend(self, scheme: str, factory: StorageFactory) -> None:
        if scheme in self.backends:
            raise ValidationError(f"two plugins register the storage scheme {scheme!r}")
        self.backends[scheme] = factory

    def _add_notifiers(self, notify: Mapping[str, Mapping[str, Any]]) -> None:
        factories: dict[str, NotifierFactory] = {}

        def register(name: str, factory: NotifierFactory) -> None:
            if name in factories:
                raise ValidationError(f"two plugins register the notifier {name!r}")
            factories[name] = factory

        self.plugins.hook.aftersales_notifiers(register=register)
        blocked = blocked_names()
        for name, settings in notify.items():
            factory = factories.get(name)
            if factory is None:
                known = ", ".join(sorted(factories)) or "none"
                raise ValidationError(
                    f"[notify.{name}]: no loaded plugin makes a notifier {name!r}; the loaded "
                    f"plugins make: {known}"
                )
            if name in blocked:
                continue
            try:
                notifier = factory(settings)
            except ValidationError as exc:
                raise ValidationError(f"[notify.{name}]: {exc}") from exc
            if self.plugins.has_plugin(name):
                raise ValidationError(f"[notify.{name}]: a plugin named {name!r} is loaded already")
            self.plugins.register(notifier, name)

    def _register_metric(
        self, name: str, compute: Callable[..., Any], description: str = ""
    ) -> None:
        if name in self.metrics:
            raise ValidationError(f"two plugins register the metric {name!r}")
        self.metrics[name] = (compute, description)

    def _open(self, url: str) -> Storage:
        if not isinstance(url, str):
            raise ValidationError(
                f"storage is a URL such as 'sqlite:///service.db' or a Storage, not "
                f"{type(url).__name__}"
            )
        scheme = url.split("://", 1)[0] if "://" in url else ""
        factory = self.backends.get(scheme)
        if factory is None:
            known = ", ".join(f"{s}://" for s in sorted(self.backends)) or "none"
            raise ValidationError(
                f"no storage backend for {redact.url(url)!r}; the loaded plugins offer {known}"
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
        """Write notifications to the outbox and deliver them (see ``desk.notifications``)."""
        notes = list(notifications)
        if notes:
            self.notifications.send(notes, notes[0].at)

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
        return moment(self._clock(), "the desk's clock")

    def at(self, value: datetime | None) -> datetime:
        """``value`` checked (aware) and in the policy's zone, or the clock's now."""
        if value is None:
            return self.now()
        return moment(value, "at").astimezone(self.policy.tz)

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

    __init__ = guard(__init__, "ServiceDesk")

    def describe_plugins(self) -> list[tuple[str, list[str]]]:
        from aftersales.plugins.manager import describe

        return describe(self.plugins)


__all__ = ["ServiceDesk"]
