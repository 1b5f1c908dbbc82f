"""``Repository``: one kind of stored aggregate, the shape every service reads and writes
through: ``get`` (NotFound), ``find`` (None), ``all``, ``create`` and ``save``
(read, evolve, append the event naming the version read), and ``take_due`` for a job that
finds its work by the store's schedule."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from aftersales.core import values
from aftersales.core.convert import from_dict, to_dict
from aftersales.core.errors import ConflictError, NotFound
from aftersales.core.values import shown
from aftersales.ports.storage import EventWriter, Record, Storage, event_record, utc_text


class _Versioned(Protocol):
    @property
    def version(self) -> int: ...


T = TypeVar("T", bound=_Versioned)


class Repository(Generic[T]):
    """Aggregates of ``kind`` decoded as ``cls``; ``noun`` is how messages name one
    (``expense claim``), ``key`` its id (default: its ``id`` attribute)."""

    def __init__(
        self,
        storage: Storage,
        kind: str,
        cls: type[T],
        noun: str,
        key: Callable[[T], str] = lambda value: value.id,  # type: ignore[attr-defined]
    ) -> None:
        self.storage = storage
        self.kind = kind
        self.cls = cls
        self.noun = noun
        self.key = key

    # -- reading -------------------------------------------------------------------------------
    def find(self, id: object) -> T | None:
        """The aggregate, or None if there is none with that id."""
        record = self.storage.get(self.kind, values.key(id, f"{self.noun} id"))
        return None if record is None else from_dict(self.cls, record.data)

    def get(self, id: object, missing: str | None = None) -> T:
        """The aggregate; NotFound (``missing``, or "no <noun> <id>") if there is none."""
        found = self.find(id)
        if found is None:
            raise NotFound(missing or f"no {self.noun} {shown(id)}")
        return found

    def all(self, decode: Callable[[Record], T] | None = None) -> list[T]:
        """Every aggregate of the kind, in id order; ``decode`` (a snapshot cache's) turns a
        stored record into its object, reusing the one already decoded."""
        if decode is not None:
            return [decode(r) for r in self.storage.scan(self.kind)]
        return [from_dict(self.cls, r.data) for r in self.storage.scan(self.kind)]

    def take_due(self, now: datetime, limit: int = 10_000) -> list[T] | None:
        """The aggregates the store's schedule has due by ``now`` (at most ``limit``), each
        taken off the schedule, so a job looks at each once per date it was scheduled for;
        None where the store keeps no schedule (the job reads them all)."""
        due = self.storage.scheduled(self.kind, utc_text(now), limit)
        if due is None:
            return None
        found = [value for id, _ in due if (value := self.find(id)) is not None]
        with self.storage.transaction() as tx:
            tx.schedule(self.kind, [(id, None) for id, _ in due])
        return found

    def events(self, id: str) -> list[dict[str, Any]]:
        return self.storage.events(self.kind, id)

    # -- writing -------------------------------------------------------------------------------
    @contextmanager
    def _writer(self, tx: EventWriter | None) -> Iterator[EventWriter]:
        if tx is not None:
            yield tx
        else:
            with self.storage.transaction() as own:
                yield own

    def create(
        self,
        value: T,
        event: str,
        by: str,
        at: datetime,
        data: Mapping[str, Any] | None = None,
        *,
        tx: EventWriter | None = None,
    ) -> T:
        """Store a new aggregate (its version is 1) with its first event; ConflictError if
        one with its id exists. ``tx``: write in that transaction instead of one of its own."""
        key = self.key(value)
        try:
            with self._writer(tx) as writer:
                record = event_record(1, event, by, at, dict(data or {}))
                writer.append(self.kind, key, 0, [record], to_dict(value))
        except ConflictError:
            raise ConflictError(f"there is already a {self.noun} {shown(key)}") from None
        return value

    def save(
        self,
        before: T,
        after: T,
        event: str,
        by: str,
        at: datetime,
        data: Mapping[str, Any] | None = None,
        *,
        tx: EventWriter | None = None,
    ) -> T:
        """Append the event that turned ``before`` into ``after`` (whose version is the
        next); ConflictError if someone else changed it since ``before`` was read."""
        with self._writer(tx) as writer:
            record = event_record(after.version, event, by, at, dict(data or {}))
            writer.append(self.kind, self.key(after), before.version, [record], to_dict(after))
        return after


__all__ = ["Repository"]
