"""The storage contract: what a backend registered through ``aftersales_storage_backends``
must provide. The desk speaks only this; ``aftersales.testing`` checks a backend keeps it.

Storage is event-sourced. Each aggregate (a case, a staff member, ...) is a ``kind`` and an
``id`` with an append-only list of events and a snapshot of its current state, both plain
JSON-ready dicts. A write names the version it read (``expected_version``, 0 for a new
aggregate): if the stored version differs the backend raises :class:`ConflictError` and
writes nothing. The events, the snapshot and the case index of one write are one
transaction: after a crash either all of them are there or none.
"""

from __future__ import annotations

import abc
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from typing import Any

import attrs


@attrs.frozen
class Record:
    """A stored snapshot and the version of the last event folded into it."""

    kind: str
    id: str
    version: int
    data: Mapping[str, Any]


@attrs.frozen
class ClockFact:
    """One SLA clock of a case as judged at the case's latest action: what the SLA report
    tallies without decoding the case. Times taken are seconds, as floats; instants UTC text.

    A clock whose state still moves with time alone (due, neither met nor ended) has state
    ``running`` and its ``due`` (and ``excused_until``, the new time of a delay notice that
    excuses it): read at a later instant it is running before ``due``, then excused until
    ``excused_until``, then breached. Every other state is final until the case's next
    action."""

    milestone: str
    priority: str
    state: str  # met, breached, excused, not_applicable, pending (not started) or running
    working: float | None = None  # start to met, as the target counts (met clocks)
    clock: float | None = None  # start to met, in clock time
    overrun: float | None = None  # past the deadline, as the target counts (breaches)
    due: str | None = None  # a running clock's deadline
    excused_until: str | None = None  # a running clock's delay notice: excused until then

    def at(self, when: str) -> str:
        """The state read at ``when`` (UTC text, not before the case's latest action):
        ``running`` becomes ``excused`` or ``breached`` once due."""
        if self.state != "running" or self.due is None or when < self.due:
            return self.state
        return "excused" if self.excused_until and when < self.excused_until else "breached"


@attrs.frozen
class FactRow:
    """A clock fact as :meth:`CaseSearch.clock_facts` reads it, with its case's groups."""

    number: str
    reported_at: str
    engineer: str | None
    team: str | None  # the team whose queue the case was in
    customer: str
    fact: ClockFact


FACT_GROUPS = ("priority", "milestone", "engineer", "team", "customer")
"""The columns :meth:`CaseSearch.clock_fact_groups` groups clock facts by."""


@attrs.define
class FactGroup:
    """The clock facts of one group (``key``: the values of the grouping columns), summed:
    clocks by state, the seconds the met ones took (working and clock time, in the same
    order), and the five largest overruns as ``(seconds, reported_at, number, milestone)``,
    the largest first (among equal ones the earlier reported case, then the lower number)."""

    key: tuple[str | None, ...]
    states: dict[str, int] = attrs.Factory(dict)
    working: array[float] = attrs.Factory(lambda: array("d"))
    clock: array[float] = attrs.Factory(lambda: array("d"))
    worst: list[tuple[float, str, str, str]] = attrs.Factory(list)

    def add(self, row: FactRow) -> None:
        """One clock fact."""
        f = row.fact
        self.count(f.state, f.working, f.clock, f.overrun, row.reported_at, row.number,
                   f.milestone)  # fmt: skip

    def count(
        self, state: str, working: float | None, clock: float | None, overrun: float | None,
        reported_at: str, number: str, milestone: str,
    ) -> None:  # fmt: skip
        """One clock: its state, the seconds it took to meet (working and clock time) and
        how late it was, of the case ``number`` reported at ``reported_at`` (UTC text)."""
        self.states[state] = self.states.get(state, 0) + 1
        if working is not None and clock is not None:
            self.working.append(working)
            self.clock.append(clock)
        if overrun:
            self._keep_worst([(overrun, reported_at, number, milestone)])

    def merge(self, other: FactGroup) -> None:
        """Add another group's figures to this one's."""
        for state, n in other.states.items():
            self.states[state] = self.states.get(state, 0) + n
        self.working.extend(other.working)
        self.clock.extend(other.clock)
        self._keep_worst(other.worst)

    def _keep_worst(self, items: Iterable[tuple[float, str, str, str]]) -> None:
        self.worst.extend(items)
        self.worst.sort(key=worst_order)
        del self.worst[5:]


def worst_order(item: tuple[float, str, str, str]) -> tuple[float, str, str, str]:
    """The order of the worst overruns: the largest first, then the earlier reported case."""
    return (-item[0], item[1], item[2], item[3])


@attrs.frozen
class CaseIndex:
    """The columns ``find_cases`` filters on, written with every case snapshot.

    Instants are UTC ISO 8601 text (``2026-11-27T08:00:00+00:00``), so text order is time
    order.
    """

    number: str
    status: str
    engineer: str | None
    reported_at: str
    serial: str | None
    fault_code: str | None
    accepted_at: str | None
    priority: str
    next_alert_at: str | None = None  # when the SLA tick should look at the case again
    followed_up_at: str | None = None
    rework_of: str | None = None  # the case this one repeats under warranty
    # when its clock facts were written (its latest action); None where none were, as for
    # cases stored before the store kept facts
    judged_at: str | None = None
    team: str | None = None
    customer: str | None = None
    # its clocks judged at judged_at: None keeps what is stored; a tuple replaces it (empty:
    # none to keep, as for a cancelled case)
    facts: tuple[ClockFact, ...] | None = None
    # the SLA alerts the case's clocks will raise, worked out with its latest action (JSON
    # text the desk writes and reads; a store keeps it as it is): None where they cannot be
    # known ahead (a case on hold) or the store keeps none
    alert_plan: str | None = None


@attrs.frozen
class DueCase:
    """A case the SLA tick is due to look at (:meth:`Transaction.due_plans`): its alert
    plan, or, where it has none, its snapshot."""

    id: str
    plan: str | None
    record: Record | None


@attrs.frozen
class CaseQuery:
    """What ``find_cases`` looks for; ``None`` means any. Results are ordered by report time,
    then id (``newest_first`` reverses it, so ``limit`` keeps the latest); ``since`` is
    inclusive and ``until`` exclusive.

    ``after`` pages through a large result by its keys, not by an offset: the report time
    (UTC text, as the index stores it) and the id of the last case of the previous page; the
    results are those that come after it in the query's order (before it, for
    ``newest_first``). Each page is a query of its own, so a store's memory is bounded by the
    page, and a case reported while the pages are read appears once or not at all, never
    twice. Ids compare byte by byte. Not with ``alert_due``, which orders by alert time."""

    status: tuple[str, ...] | None = None
    engineer: str | None = None
    since: str | None = None
    until: str | None = None
    serial: str | None = None
    fault_code: str | None = None
    accepted_since: str | None = None
    accepted_until: str | None = None
    followed_up_since: str | None = None
    followed_up_until: str | None = None
    rework_of: str | None = None
    touched_in: tuple[str, str] | None = None  # reported, accepted or followed up in [a, b)
    number: str | None = None
    limit: int | None = None
    newest_first: bool = False
    alert_due: str | None = None  # next_alert_at at or before this; ordered by it
    # cases the clock facts do not answer at this instant: judged after it (an action came
    # later), or never judged (stored before the store kept facts)
    unjudged_by: str | None = None
    after: tuple[str, str] | None = None  # (reported_at, id) of the previous page's last case

    def __attrs_post_init__(self) -> None:
        if self.after is not None and self.alert_due is not None:
            raise ValueError("CaseQuery: after pages the report-time order; alert_due orders "
                             "by alert time, so the two do not go together")  # fmt: skip


def event_record(version: int, kind: str, by: str, at: datetime, data: Any) -> dict[str, Any]:
    """An event as :meth:`Transaction.append` takes it."""
    return {"version": version, "type": kind, "at": at.isoformat(), "by": by, "data": data}


def utc_text(when: datetime) -> str:
    """``when`` as the UTC text the case index stores."""
    return when.astimezone(timezone.utc).isoformat()


@attrs.frozen
class SentNotification:
    """A notification decided once: an SLA alert, a reminder. The desk records its key per
    holder (a case id, ``tool:TW-1``, ...) in the same transaction that decides it, which is
    what makes ticks exactly-once. ``notification`` may be empty."""

    case_id: str
    key: str
    at: str
    notification: Mapping[str, Any]


OUTBOX_STATES = ("pending", "delivered", "failed")


@attrs.frozen
class OutboxItem:
    """One notification for one notifier plugin, in the transactional outbox.

    Written in the transaction of the event that caused it, then delivered: ``pending``
    until the notifier takes it (``delivered``) or it has failed ``attempts`` times and the
    desk gives up (``failed``). ``next_try_at`` (UTC text) is when it may be tried next; a
    desk that claims an item moves it ahead (a lease), so two desks do not deliver it at once.
    """

    id: str
    plugin: str
    notification: Mapping[str, Any]
    created_at: str
    next_try_at: str
    attempts: int = 0
    status: str = "pending"
    last_error: str | None = None
    delivered_at: str | None = None


class EventWriter(abc.ABC):
    """The event-store half of a transaction: read what it sees, number, append."""

    @abc.abstractmethod
    def get(self, kind: str, id: str) -> Record | None:
        """The snapshot as this transaction sees it, held until the transaction ends: no
        other writer changes it meanwhile (a store with parallel writers locks the row; one
        with a single writer has nothing to do), so reading it here and appending to the
        version read cannot conflict. Two transactions creating one id still can: the
        second's append raises ConflictError."""

    @abc.abstractmethod
    def next_number(self, sequence: str) -> int:
        """The next value (1, 2, ...) of a named counter; part of this transaction, so a
        rolled-back write does not use a number up."""

    @abc.abstractmethod
    def append(
        self,
        kind: str,
        id: str,
        expected_version: int,
        events: Sequence[Mapping[str, Any]],
        snapshot: Mapping[str, Any],
        index: CaseIndex | None = None,
    ) -> None:
        """Append ``events`` (each with ``version``, ``type``, ``at``, ``by``, ``data``) and
        replace the snapshot; ConflictError if the stored version is not ``expected_version``.
        ``index`` is given for cases and replaces the case's index row."""


class AlertLedger(abc.ABC):
    """The case-index half of a transaction: which alerts were decided, and when the SLA
    tick looks at a case next."""

    @abc.abstractmethod
    def sent_keys(self, case_ids: Sequence[str]) -> dict[str, set[str]]:
        """Keys of the notifications recorded for each of ``case_ids`` (absent: none)."""

    @abc.abstractmethod
    def record_sent(self, sent: Sequence[SentNotification]) -> int:
        """Record notifications; one whose case and key are already recorded is skipped.
        Returns how many were recorded."""

    @abc.abstractmethod
    def set_next_alert(self, moments: Sequence[tuple[str, str | None]]) -> None:
        """For each ``(case_id, at)``: when the SLA tick should look at the case again
        (None: never)."""

    def due_cases(self, now: str, limit: int) -> list[Record] | None:
        """Case snapshots whose next alert is at or before ``now`` (UTC text), soonest
        first, at most ``limit``, held for this transaction: another transaction's
        ``due_cases`` skips them until it ends (PostgreSQL: ``FOR UPDATE SKIP LOCKED``), so
        desks ticking at once share the due cases instead of deciding them twice. None where
        the store runs one writer at a time: the tick then reads
        ``Storage.find_cases(CaseQuery(alert_due=now))`` inside the transaction."""
        return None

    def due_plans(self, now: str, limit: int) -> list[DueCase] | None:
        """:meth:`due_cases` for a store that keeps :attr:`CaseIndex.alert_plan`: each due
        case's plan as written, and its snapshot only where it has no plan (the tick then
        reads the case), held for this transaction as ``due_cases`` holds them. None where
        the store keeps no plans."""
        return None

    def set_alert_plans(self, plans: Sequence[tuple[str, str | None, str | None]]) -> None:
        """For each ``(case_id, at, plan)``: :meth:`set_next_alert`, and the case's alert
        plan (a tick that read the case works it out for the next). This default keeps no
        plan."""
        self.set_next_alert([(case_id, at) for case_id, at, _ in plans])


class Scheduler(abc.ABC):  # noqa: B024 (every method has a default: a backend may keep none)
    """When an aggregate is next due for a job (a machine's maintenance), kept beside its
    snapshot so a job finds what is due without reading every aggregate."""

    def schedule(self, kind: str, items: Sequence[tuple[str, str | None]]) -> None:  # noqa: B027
        """For each ``(id, at)`` of ``kind``: when it is next due (UTC text; None: never).
        This default keeps nothing: :meth:`EventStore.scheduled` then answers None and the
        job reads every aggregate of the kind."""


class OutboxWriter(abc.ABC):
    """The outbox half of a transaction."""

    @abc.abstractmethod
    def enqueue(self, items: Sequence[OutboxItem]) -> None:
        """Add items to the outbox (their ids are new)."""

    @abc.abstractmethod
    def claim(
        self, now: str, lease_until: str, plugins: Sequence[str], limit: int
    ) -> list[OutboxItem]:
        """Pending items of ``plugins`` with ``next_try_at`` at or before ``now``, oldest
        first, at most ``limit``; each claimed one's ``next_try_at`` becomes
        ``lease_until``, so no other desk claims it meanwhile."""

    @abc.abstractmethod
    def settle(self, items: Sequence[OutboxItem]) -> None:
        """Write back delivery results: ``attempts``, ``status``, ``next_try_at``,
        ``last_error`` and ``delivered_at`` of each item, by id."""

    @abc.abstractmethod
    def prune_outbox(self, before: str) -> int:
        """Delete the ``delivered`` items delivered before ``before`` (UTC text); pending and
        failed ones stay whatever their age. Returns how many were deleted."""


class Transaction(EventWriter, AlertLedger, Scheduler, OutboxWriter):
    """One atomic write. Obtained from :meth:`Storage.transaction`; everything done through it
    is committed when the ``with`` block ends normally and discarded if it raises.

    What a transaction guarantees (the conformance suite, ``aftersales.testing.contract``,
    tests each):

    - all or nothing: an exception inside the ``with`` block, or a failed commit, leaves the
      store as it was (no event without its snapshot, index row, facts or outbox items);
    - every ``append`` names the version it read: if another writer changed the aggregate
      since, committed or not, it raises ConflictError and writes nothing, so of several
      writers naming one version exactly one succeeds;
    - ``next_number`` counts without gaps: a rolled-back transaction does not use a number;
    - ``record_sent`` records a (case, key) once and counts only what it recorded, so a
      desk that records fewer than it decided knows another desk got there first;
    - what ``get`` read, no other writer changes until the transaction ends;
    - ``due_cases`` and ``claim`` hand each due case and outbox item to one transaction at a
      time;
    - ``schedule`` is written with the transaction (a store that keeps schedules).

    Writers of different aggregates may run in parallel (PostgreSQL: row locks only; a
    transaction that waits on another and would deadlock raises ConflictError) or one after
    another (SQLite: one writer at a time, ``BEGIN IMMEDIATE``). While a transaction is open
    the storage's own read methods called on the same thread see what it sees; they do not
    see other writers' uncommitted work, and nothing stops those writers committing
    meanwhile: decisions that must be made once are made through ``append``'s versions,
    ``record_sent``'s count, ``due_cases`` and ``claim``."""


class EventStore(abc.ABC):
    """Reading aggregates: snapshots, their versions, their events."""

    @abc.abstractmethod
    def get(self, kind: str, id: str) -> Record | None:
        """The latest committed snapshot, or None."""

    def version(self, kind: str, id: str) -> int | None:
        """The latest committed version, or None; backends answer it without the data."""
        record = self.get(kind, id)
        return None if record is None else record.version

    @abc.abstractmethod
    def events(self, kind: str, id: str) -> list[dict[str, Any]]:
        """Every committed event of the aggregate, in version order."""

    @abc.abstractmethod
    def scan(self, kind: str) -> Iterator[Record]:
        """Every snapshot of a kind, in id order."""

    def scheduled(self, kind: str, until: str, limit: int) -> list[tuple[str, str]] | None:
        """``(id, at)`` of the aggregates of ``kind`` due at or before ``until`` (UTC text) by
        :meth:`Transaction.schedule`, soonest first (then by id), at most ``limit``; None
        where the store keeps no schedule."""
        return None


class CaseSearch(abc.ABC):
    """Reading the case index."""

    def clock_facts(
        self, since: str, until: str, judged_by: str, *, running: bool | None = None
    ) -> Iterator[FactRow] | None:
        """The clock facts of the cases reported in ``[since, until)`` and judged by
        ``judged_by`` (UTC texts) (only the ``running`` ones, or only the
        others, when ``running`` is given); None where the store keeps none (the SLA report
        then reads every case). With :attr:`CaseQuery.unjudged_by` a store that keeps facts
        finds the cases they do not cover."""
        return None

    def clock_fact_groups(
        self, since: str, until: str, judged_by: str, by: tuple[str, ...]
    ) -> list[FactGroup] | None:
        """:meth:`clock_facts` that are not ``running`` (their state is final) summed per
        group of the columns ``by`` (from :data:`FACT_GROUPS`); None where the store keeps no
        facts. This default sums the rows; a database backend sums them where they are."""
        rows = self.clock_facts(since, until, judged_by, running=False)
        if rows is None:
            return None
        groups: dict[tuple[str | None, ...], FactGroup] = {}
        for row in rows:
            f = row.fact
            values = {"priority": f.priority, "milestone": f.milestone, "engineer": row.engineer,
                      "team": row.team, "customer": row.customer}  # fmt: skip
            key = tuple(values[c] for c in by)
            group = groups.get(key) or groups.setdefault(key, FactGroup(key))
            group.add(row)
        return list(groups.values())

    @abc.abstractmethod
    def find_cases(self, query: CaseQuery) -> list[Record]:
        """Case snapshots matching ``query``, ordered by report time then id."""


class OutboxReader(abc.ABC):
    """Reading the outbox."""

    @abc.abstractmethod
    def outbox(self, status: str | None = None, limit: int | None = None) -> list[OutboxItem]:
        """Outbox items (of one status), oldest first."""


class Storage(EventStore, CaseSearch, OutboxReader):
    """A storage backend: the three read roles and the transaction that writes them all.
    Safe to use from several threads at once. A service is handed the role it reads
    (:class:`EventStore`, :class:`CaseSearch`, :class:`OutboxReader`)."""

    url: str

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[Transaction]:
        """Begin a write transaction (see :class:`Transaction` for what it guarantees;
        readers are never blocked)."""

    def close(self) -> None:
        """Release connections and files. The storage is not used afterwards."""


__all__ = [
    "FACT_GROUPS",
    "OUTBOX_STATES",
    "AlertLedger",
    "CaseIndex",
    "CaseQuery",
    "CaseSearch",
    "ClockFact",
    "DueCase",
    "EventStore",
    "EventWriter",
    "FactGroup",
    "FactRow",
    "OutboxItem",
    "OutboxReader",
    "OutboxWriter",
    "Record",
    "Scheduler",
    "SentNotification",
    "Storage",
    "Transaction",
    "event_record",
    "utc_text",
    "worst_order",
]
