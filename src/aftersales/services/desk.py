"""``ServiceDesk``: the composition root. It opens the plugins, the policy and the store, and
builds the services on them, each handed the ones below it."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import attrs
import pluggy

from aftersales.core import redact
from aftersales.core.boundary import guard, public_api
from aftersales.core.errors import PolicyError, ValidationError
from aftersales.core.model import DEFAULT_LEVELS, Case, Notification
from aftersales.policy import Policy, load_policy
from aftersales.ports.hooks import Hooks, RegisteredMetric
from aftersales.ports.hookspecs import StorageFactory
from aftersales.ports.manager import blocked_names, describe, make_manager
from aftersales.ports.storage import Storage
from aftersales.services.api_tokens import ApiTokenService
from aftersales.services.appraisals import AppraisalService
from aftersales.services.basis import Basis, DeskClock, PolicyBook
from aftersales.services.careers import StaffService
from aftersales.services.case_book import CaseBook
from aftersales.services.cases import CaseService
from aftersales.services.clocks import Clocks
from aftersales.services.complaints import ComplaintService
from aftersales.services.contracts import ContractService
from aftersales.services.coverage import InstalledBase
from aftersales.services.customer_messages import CustomerMessenger, MessageSettings
from aftersales.services.customers import CustomerService
from aftersales.services.expenses import ExpenseService
from aftersales.services.feedback import FeedbackService
from aftersales.services.history import HistoryService
from aftersales.services.machines import MachineService
from aftersales.services.maintenance import MaintenanceService
from aftersales.services.notifications import NotificationService, OutboxSettings
from aftersales.services.parts import PartsService
from aftersales.services.product_problems import ProductProblemService
from aftersales.services.safety import SafetyService
from aftersales.services.sla import SlaService
from aftersales.services.staff import StaffDirectory
from aftersales.services.survey_tokens import SurveyTokens
from aftersales.services.training import TrainingService

logger = logging.getLogger("aftersales")


def _ladder(levels: Iterable[str]) -> tuple[str, ...]:
    ladder = tuple([levels] if isinstance(levels, str) else levels)
    if not ladder or not all(isinstance(x, str) and x.strip() for x in ladder):
        raise ValidationError("levels is a non-empty list of level names, lowest first")
    if len(set(ladder)) != len(ladder):
        raise ValidationError(f"levels {', '.join(ladder)}: a level appears twice")
    return ladder


@attrs.frozen
class PolicyMove:
    """An open case that re-applying the desk's policy would move (``desk.policy_moves``)."""

    case_id: str
    number: str
    from_version: str
    to_version: str
    priority: str  # now
    new_priority: str  # under the desk's policy
    rule: str  # file:line of the priority rule that decides


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
        messages: MessageSettings | None = None,
    ) -> None:
        self.plugins: pluggy.PluginManager = make_manager(plugins, entry_points=entry_points)
        self.hooks = Hooks(self.plugins)
        self._add_notifiers(notify or {})
        self.functions = self.hooks.policy_functions()
        self.metrics: dict[str, RegisteredMetric] = self.hooks.metrics()
        if isinstance(policy, (str, os.PathLike)):
            policy = load_policy(Path(policy), functions=self.functions, metrics=list(self.metrics))
        if not isinstance(policy, Policy):
            raise ValidationError(f"policy must be a Policy or a path, not {type(policy).__name__}")
        self._check_metrics(policy)
        self.policy = policy
        self.levels: tuple[str, ...] = _ladder(levels)
        outbox = OutboxSettings() if outbox is None else outbox
        self.backends: dict[str, StorageFactory] = self.hooks.storage_backends()
        self.storage = storage if isinstance(storage, Storage) else self._open(storage)
        self._policies = PolicyBook(self.storage, self.functions, policy)
        self._clock = DeskClock(policy.tz, clock)
        basis = Basis(self.storage, self._policies, self._clock, self.hooks)

        # Each service is handed the ones below it, never the desk: the wiring is one way
        # (docs/architecture.md draws it).
        directory = StaffDirectory(basis, self.levels)
        notifications = NotificationService(basis, directory, outbox)
        book = CaseBook(basis)
        clocks = Clocks(basis)
        self.notifications = notifications
        self.parts = PartsService(basis, staff=directory, notifications=notifications, cases=book)
        self.training = TrainingService(basis, staff=directory, notifications=notifications)
        self.customers = CustomerService(basis, staff=directory)
        self.machines = MachineService(basis, staff=directory, customers=self.customers,
                                       cases=book)  # fmt: skip
        self.contracts = ContractService(basis, staff=directory, customers=self.customers,
                                         machines=self.machines)  # fmt: skip
        installed = InstalledBase(basis, customers=self.customers, machines=self.machines,
                                  contracts=self.contracts)  # fmt: skip
        messenger = CustomerMessenger(basis, customers=self.customers, staff=directory,
                                      settings=messages or MessageSettings(),
                                      tokens=SurveyTokens(basis))  # fmt: skip
        self.cases = CaseService(
            book,
            clocks=clocks,
            staff=directory,
            notifications=notifications,
            parts=self.parts,
            training=self.training,
            installed=installed,
            messenger=messenger,
        )
        self.maintenance = MaintenanceService(basis, machines=self.machines, cases=self.cases)
        self.complaints = ComplaintService(basis, staff=directory, notifications=notifications,
                                           cases=self.cases)  # fmt: skip
        self.product_problems = ProductProblemService(
            basis, staff=directory, notifications=notifications, cases=self.cases
        )
        self.feedback = FeedbackService(cases=self.cases, complaints=self.complaints,
                                        problems=self.product_problems,
                                        notifications=notifications, staff=directory)  # fmt: skip
        self.safety = SafetyService(
            basis, staff=directory, notifications=notifications, cases=self.cases
        )
        self.expenses = ExpenseService(
            basis, staff=directory, notifications=notifications, cases=book
        )
        self.appraisals = AppraisalService(
            basis,
            staff=directory,
            notifications=notifications,
            cases=book,
            clocks=clocks,
            metrics=self.metrics,
            training=self.training,
        )
        self.tokens = ApiTokenService(basis, staff=directory)
        self.staff = StaffService(
            directory, training=self.training, safety=self.safety, appraisals=self.appraisals
        )
        reminders = (
            self.cases.close_due,
            self.parts.remind_stocktakes,
            self.training.remind_expiring,
            self.safety.remind_tools,
            self.safety.remind_incidents,
            self.appraisals.remind_follow_ups,
            self.maintenance.open_due,
            self.complaints.remind_overdue,
            self.feedback.send_due,
        )
        self.sla = SlaService(
            basis, cases=book, notifications=notifications, staff=directory, reminders=reminders
        )
        # histories are built on a scratch desk in memory (built-in plugins only: no
        # notifier of this desk's hears of events that happened years ago)
        self.history = HistoryService(
            basis, staff=directory, cases=self.cases,
            scratch=self._scratch,
        )  # fmt: skip

    def _scratch(self) -> ServiceDesk:
        """A desk in memory under this desk's policy, for building imported cases."""
        desk = ServiceDesk(self.policy, "memory://", entry_points=False)
        desk.cases.keep_in_memory()
        return desk

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

    def policy_for(self, version: str) -> Policy:
        """The policy a case was reported (or re-applied) under, by its version."""
        return self._policies.version(version)

    def policy_moves(self, case_ids: Iterable[str] | None = None) -> list[PolicyMove]:
        """What :meth:`reapply_policy` would do, changing nothing: for ``case_ids`` (or every
        open case still under an older version), the version it would leave and the priority
        this desk's policy would give it, with the rule that decides."""
        cases = self._behind() if case_ids is None else [self.cases.get(i) for i in case_ids]
        moves = []
        for case in cases:
            if case.visit is not None:  # a maintenance case keeps its plan's priority
                name, location = case.priority, case.priority_location
            else:
                decision = self.policy.priority_for(case.record())
                name, location = decision.name, decision.location
            moves.append(PolicyMove(case.id, case.number, case.policy_version, self.policy.version,
                                    case.priority, name, location))  # fmt: skip
        return moves

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
            case_ids = [c.id for c in self._behind()]
        return [self.cases.reapply_policy(i, by=by, reason=reason, at=at) for i in case_ids]

    def _behind(self) -> list[Case]:
        """The open cases still under an older policy version than the desk's."""
        return [c for c in self.cases.open() if c.policy_version != self.policy.version]

    # -- plugins ------------------------------------------------------------------------------
    def _add_notifiers(self, notify: Mapping[str, Mapping[str, Any]]) -> None:
        factories = self.hooks.notifier_factories()
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

    def notify(self, notifications: Iterable[Notification]) -> None:
        """Write notifications to the outbox and deliver them (see ``desk.notifications``)."""
        notes = list(notifications)
        if notes:
            self.notifications.send(notes, notes[0].at)

    # -- time -----------------------------------------------------------------------------
    def now(self) -> datetime:
        """The desk's clock: what ``at=`` means when it is left out."""
        return self._clock.now()

    def at(self, value: datetime | None) -> datetime:
        """``value`` checked (aware) and in the policy's zone, or the clock's now."""
        return self._clock.at(value)

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
        return describe(self.plugins)


__all__ = ["PolicyMove", "ServiceDesk"]
