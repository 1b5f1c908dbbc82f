"""The ``memory://`` storage backend: everything in this process, nothing on disk.

``memory://`` opens a fresh, private store; ``memory://NAME`` opens the store of that name,
shared by every desk in the process that names it. Snapshots and events are kept as JSON
text, so a caller never shares mutable state with the store, exactly as with a database.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import attrs

from aftersales.core.errors import ConflictError
from aftersales.ports.hookspecs import StorageRegistrar, hookimpl
from aftersales.ports.storage import (
    CaseIndex,
    CaseQuery,
    DueCase,
    FactRow,
    OutboxItem,
    Record,
    SentNotification,
    Storage,
    Transaction,
)

_named: dict[str, MemoryStorage] = {}
_named_lock = threading.Lock()


class MemoryStorage(Storage):
    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._lock = threading.RLock()
        self._snapshots: dict[tuple[str, str], tuple[int, str]] = {}
        self._events: dict[tuple[str, str], list[str]] = {}
        self._index: dict[str, CaseIndex] = {}
        self._sequences: dict[str, int] = {}
        self._sent: dict[tuple[str, str], SentNotification] = {}
        self._outbox: dict[str, OutboxItem] = {}  # in insertion order
        self._schedule: dict[tuple[str, str], str] = {}

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self._lock:
            tx = _MemoryTransaction(self)
            yield tx
            tx.commit()

    def get(self, kind: str, id: str) -> Record | None:
        with self._lock:
            found = self._snapshots.get((kind, id))
        if found is None:
            return None
        return Record(kind, id, found[0], json.loads(found[1]))

    def version(self, kind: str, id: str) -> int | None:
        with self._lock:
            found = self._snapshots.get((kind, id))
        return None if found is None else found[0]

    def events(self, kind: str, id: str) -> list[dict[str, Any]]:
        with self._lock:
            stored = list(self._events.get((kind, id), ()))
        return [json.loads(e) for e in stored]

    def scan(self, kind: str) -> Iterator[Record]:
        with self._lock:
            ids = sorted(i for k, i in self._snapshots if k == kind)
        for id in ids:
            record = self.get(kind, id)
            if record is not None:
                yield record

    def scheduled(self, kind: str, until: str, limit: int) -> list[tuple[str, str]] | None:
        with self._lock:
            due = sorted((at, id) for (k, id), at in self._schedule.items()
                         if k == kind and at <= until)  # fmt: skip
        return [(id, at) for at, id in due[:limit]]

    def outbox(self, status: str | None = None, limit: int | None = None) -> list[OutboxItem]:
        with self._lock:
            found = [i for i in self._outbox.values() if status is None or i.status == status]
        return found if limit is None else found[:limit]

    def clock_facts(
        self, since: str, until: str, judged_by: str, *, running: bool | None = None
    ) -> Iterator[FactRow]:
        with self._lock:
            found = [
                FactRow(i.number, i.reported_at, i.engineer, i.team, i.customer or "", fact)
                for i in self._index.values()
                if since <= i.reported_at < until
                and i.judged_at is not None
                and i.judged_at <= judged_by
                for fact in i.facts or ()
                if running is None or running == (fact.state == "running")
            ]
        return iter(found)

    def find_cases(self, query: CaseQuery) -> list[Record]:
        with self._lock:
            rows = [
                (i.next_alert_at if query.alert_due is not None else i.reported_at, id)
                for id, i in self._index.items()
                if _matches(i, query)
            ]
        rows.sort(reverse=query.newest_first)
        if query.after is not None:
            after = query.after
            rows = [r for r in rows if (r < after if query.newest_first else r > after)]
        if query.limit is not None:
            rows = rows[: query.limit]
        return [r for r in (self.get("case", id) for _, id in rows) if r is not None]


def _within(value: str | None, since: str | None, until: str | None) -> bool:
    if since is None and until is None:
        return True
    return (
        value is not None and (since is None or value >= since) and (until is None or value < until)
    )


def _matches(index: CaseIndex, q: CaseQuery) -> bool:
    return (
        (q.status is None or index.status in q.status)
        and (q.engineer is None or index.engineer == q.engineer)
        and (q.since is None or index.reported_at >= q.since)
        and (q.until is None or index.reported_at < q.until)
        and (q.serial is None or index.serial == q.serial)
        and (q.number is None or index.number == q.number)
        and (q.rework_of is None or index.rework_of == q.rework_of)
        and (
            q.touched_in is None
            or any(
                _within(v, *q.touched_in)
                for v in (index.reported_at, index.accepted_at, index.followed_up_at)
                if v is not None
            )
        )
        and (
            q.alert_due is None
            or (index.next_alert_at is not None and index.next_alert_at <= q.alert_due)
        )
        and (q.fault_code is None or index.fault_code == q.fault_code)
        and (
            q.unjudged_by is None
            or index.judged_at is None
            or index.judged_at > q.unjudged_by
            or index.facts is None
        )
        and _within(index.accepted_at, q.accepted_since, q.accepted_until)
        and _within(index.followed_up_at, q.followed_up_since, q.followed_up_until)
    )


class _MemoryTransaction(Transaction):
    def __init__(self, store: MemoryStorage) -> None:
        self.store = store
        self.snapshots: dict[tuple[str, str], tuple[int, str]] = {}
        self.events: dict[tuple[str, str], list[str]] = {}
        self.index: dict[str, CaseIndex] = {}
        self.sequences: dict[str, int] = {}
        self.sent: dict[tuple[str, str], SentNotification] = {}
        self.outbox: dict[str, OutboxItem] = {}
        self.pruned: set[str] = set()
        self.schedules: dict[tuple[str, str], str | None] = {}

    def sent_keys(self, case_ids: Sequence[str]) -> dict[str, set[str]]:
        wanted = set(case_ids)
        found: dict[str, set[str]] = {}
        for c, k in [*self.store._sent, *self.sent]:
            if c in wanted:
                found.setdefault(c, set()).add(k)
        return found

    def record_sent(self, sent: Sequence[SentNotification]) -> int:
        recorded = 0
        for s in sent:
            key = (s.case_id, s.key)
            if key not in self.sent and key not in self.store._sent:
                self.sent[key] = s
                recorded += 1
        return recorded

    def enqueue(self, items: Sequence[OutboxItem]) -> None:
        for item in items:
            self.outbox[item.id] = item

    def claim(
        self, now: str, lease_until: str, plugins: Sequence[str], limit: int
    ) -> list[OutboxItem]:
        current = {**self.store._outbox, **self.outbox}
        due = [i for i in current.values() if i.status == "pending" and i.next_try_at <= now
               and i.plugin in plugins]  # fmt: skip
        due.sort(key=lambda i: i.next_try_at)  # stable: insertion order among equals
        claimed = [attrs.evolve(i, next_try_at=lease_until) for i in due[:limit]]
        self.outbox.update((i.id, i) for i in claimed)
        return claimed

    def settle(self, items: Sequence[OutboxItem]) -> None:
        for item in items:
            if item.id in self.outbox or item.id in self.store._outbox:
                self.outbox[item.id] = item

    def prune_outbox(self, before: str) -> int:
        current = {**self.store._outbox, **self.outbox}
        old = {
            i.id for i in current.values()
            if i.status == "delivered" and i.delivered_at is not None and i.delivered_at < before
        } - self.pruned  # fmt: skip
        self.pruned |= old
        for item_id in old:
            self.outbox.pop(item_id, None)
        return len(old)

    def schedule(self, kind: str, items: Sequence[tuple[str, str | None]]) -> None:
        for id, at in items:
            self.schedules[(kind, id)] = at

    def set_next_alert(self, moments: Sequence[tuple[str, str | None]]) -> None:
        for case_id, at in moments:
            found = self.index.get(case_id) or self.store._index.get(case_id)
            if found is not None:
                self.index[case_id] = attrs.evolve(found, next_alert_at=at)

    def set_alert_plans(self, plans: Sequence[tuple[str, str | None, str | None]]) -> None:
        for case_id, at, plan in plans:
            found = self.index.get(case_id) or self.store._index.get(case_id)
            if found is not None:
                self.index[case_id] = attrs.evolve(found, next_alert_at=at, alert_plan=plan)

    def due_plans(self, now: str, limit: int) -> list[DueCase] | None:
        index = {**self.store._index, **self.index}  # one writer at a time: all this one's
        due = sorted((i.next_alert_at, id) for id, i in index.items()
                     if i.next_alert_at is not None and i.next_alert_at <= now)[:limit]  # fmt: skip
        return [
            DueCase(id, plan, self.get("case", id) if plan is None else None)
            for id, plan in ((id, index[id].alert_plan) for _, id in due)
        ]

    def get(self, kind: str, id: str) -> Record | None:
        found = self.snapshots.get((kind, id)) or self.store._snapshots.get((kind, id))
        return None if found is None else Record(kind, id, found[0], json.loads(found[1]))

    def next_number(self, sequence: str) -> int:
        value = self.sequences.get(sequence, self.store._sequences.get(sequence, 0)) + 1
        self.sequences[sequence] = value
        return value

    def append(
        self,
        kind: str,
        id: str,
        expected_version: int,
        events: Sequence[Mapping[str, Any]],
        snapshot: Mapping[str, Any],
        index: CaseIndex | None = None,
    ) -> None:
        key = (kind, id)
        current = self.get(kind, id)
        version = 0 if current is None else current.version
        if version != expected_version:
            raise ConflictError(
                f"{kind} {id} is at version {version}, not {expected_version}: "
                "someone else changed it; read it again and retry"
            )
        new_version = expected_version + len(events)
        self.snapshots[key] = (new_version, json.dumps(snapshot))
        pending = self.events.setdefault(key, [])
        pending.extend(json.dumps(e) for e in events)
        if index is not None:
            before = self.index.get(id) or self.store._index.get(id)
            if index.facts is None and before is not None:  # the stored facts stay
                index = attrs.evolve(index, facts=before.facts)
            self.index[id] = index

    def commit(self) -> None:
        s = self.store
        s._snapshots.update(self.snapshots)
        for key, events in self.events.items():
            s._events.setdefault(key, []).extend(events)
        s._index.update(self.index)
        s._sequences.update(self.sequences)
        s._sent.update(self.sent)
        s._outbox.update(self.outbox)
        for item_id in self.pruned:
            s._outbox.pop(item_id, None)
        for key, at in self.schedules.items():
            if at is None:
                s._schedule.pop(key, None)
            else:
                s._schedule[key] = at


def open_memory(url: str) -> MemoryStorage:
    name = url.split("://", 1)[1]
    if not name:
        return MemoryStorage(url)
    with _named_lock:
        if name not in _named:
            _named[name] = MemoryStorage(url)
        return _named[name]


@hookimpl
def aftersales_storage_backends(register: StorageRegistrar) -> None:
    register("memory", open_memory)
