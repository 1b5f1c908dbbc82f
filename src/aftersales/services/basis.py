"""What every service stands on: the store, the policies by version, the clock and the
plugins. The desk builds one :class:`Basis` and hands it to each service with the services
it may call; no service sees the desk."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import attrs

from aftersales.core.errors import ConflictError, NotFound, PolicyError
from aftersales.core.model import Case
from aftersales.core.values import moment
from aftersales.policy import FunctionRegistry, Policy, parse_policy, same_meaning
from aftersales.ports.hooks import Hooks
from aftersales.ports.storage import Storage, event_record

POLICY_KIND = "policy"


class PolicyBook:
    """Every policy the store holds, by version: the desk's own (``current``) and each one a
    case was reported or re-applied under. The one place a rule applied to a case is looked
    up: :meth:`rules` gives the policy a case is under, whatever policy the desk opened."""

    def __init__(self, storage: Storage, functions: FunctionRegistry, current: Policy) -> None:
        self._storage = storage
        self._functions = functions
        self._lock = threading.Lock()
        self._versions: dict[str, Policy] = {}
        self.current = current
        self._keep(current)

    def _keep(self, policy: Policy) -> None:
        """Store the policy's text under its version, so cases reported under it keep their
        rules when a newer policy is loaded; a different text under a stored version is
        refused."""
        self._versions[policy.version] = policy
        if not policy.source:
            return  # built without text (tests that construct a Policy by hand)
        snapshot = {"version": policy.version, "name": policy.name, "source": policy.source}
        for _ in range(2):
            record = self._storage.get(POLICY_KIND, policy.version)
            if record is not None:
                stored = record.data.get("source")
                # a comment, a blank line or spacing changed: the same rules, the stored text
                # stays (the cases under this version keep the rules they were judged by)
                if stored != policy.source and not same_meaning(str(stored), policy.source):
                    raise PolicyError(
                        f"{policy.filename}: the store already holds a different policy with "
                        f"version {policy.version!r}",
                        filename=policy.filename,
                        hint="a rule changed (not only a comment or spacing): give the changed "
                        "policy a new version in its policy block, then move the open cases "
                        "to it with 'aftersales policy apply'",
                    )
                return
            stored_at = datetime.now(timezone.utc)  # when stored, not a case time
            event = event_record(1, "policy_stored", "", stored_at, {"filename": policy.filename})
            try:
                with self._storage.transaction() as tx:
                    tx.append(POLICY_KIND, policy.version, 0, [event], snapshot)
                return
            except ConflictError:
                continue  # another desk stored it just now: compare with that

    def version(self, version: str) -> Policy:
        """The policy stored under ``version``; NotFound if the store has none."""
        found = self._versions.get(version)
        if found is not None:
            return found
        record = self._storage.get(POLICY_KIND, version)
        if record is None:
            raise NotFound(f"no policy with version {version!r} in the store")
        policy = parse_policy(
            record.data["source"], f"<stored policy {version}>", functions=self._functions
        )
        with self._lock:
            return self._versions.setdefault(version, policy)

    def rules(self, case: Case) -> Policy:
        """The policy ``case`` is under."""
        return self.version(case.policy_version)


@attrs.frozen
class DeskClock:
    """What ``at=`` means when it is left out, and the zone every instant is shown in."""

    tz: ZoneInfo
    source: Callable[[], datetime] | None = None

    def now(self) -> datetime:
        if self.source is None:
            return datetime.now(self.tz)
        return moment(self.source(), "the desk's clock")

    def at(self, value: datetime | None) -> datetime:
        """``value`` checked (aware) and in the policy's zone, or the clock's now."""
        if value is None:
            return self.now()
        return moment(value, "at").astimezone(self.tz)


class Basis:
    """The store, the policies, the clock and the plugins: what every service is given."""

    __slots__ = ("at", "clock", "hooks", "now", "policies", "storage")

    def __init__(
        self, storage: Storage, policies: PolicyBook, clock: DeskClock, hooks: Hooks
    ) -> None:
        self.storage = storage
        self.policies = policies
        self.clock = clock
        self.hooks = hooks
        # bound once: asked several times in every action
        self.at: Callable[[datetime | None], datetime] = clock.at
        self.now: Callable[[], datetime] = clock.now

    @property
    def policy(self) -> Policy:
        """The desk's own policy: the rules of what is new (a report, a claim, a course)."""
        return self.policies.current

    def policy_for(self, version: str) -> Policy:
        return self.policies.version(version)


__all__ = ["POLICY_KIND", "Basis", "DeskClock", "PolicyBook"]
