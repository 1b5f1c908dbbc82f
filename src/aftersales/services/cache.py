"""Snapshots already decoded, reused while the store still holds the same version."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Generic, Protocol, TypeVar

import attrs

from aftersales.core import values
from aftersales.core.convert import trusted
from aftersales.ports.storage import Record, Storage


class _Versioned(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=_Versioned)
_EMPTY: tuple[object, ...] = (None, [], {})


class SnapshotCache(Generic[V]):
    """Decoding a case from JSON costs more than the SQL that reads it; asking the store for
    the version alone and reusing the object when it matches saves that on every action.
    Another process's write changes the version, so a stale object is never returned."""

    def __init__(self, storage: Storage, kind: str, cls: type[V], size: int = 4096) -> None:
        self.storage = storage
        self.kind = kind
        self.cls = cls
        self.size = size
        self._items: OrderedDict[str, V] = OrderedDict()
        fields: Any = attrs.fields(cls)  # type: ignore[arg-type]
        self._defaulted = frozenset(f.name for f in fields if f.default is not attrs.NOTHING)
        self._lock = threading.Lock()

    def get(self, id: str) -> V | None:
        version = self.storage.version(self.kind, values.key(id, f"{self.kind} id"))
        if version is None:
            return None
        with self._lock:
            hit = self._items.get(id)
        if hit is not None and hit.version == version:
            return hit
        record = self.storage.get(self.kind, id)
        if record is None:  # pragma: no cover - deleted between the two reads; stores never delete
            return None
        return self.decode(record)

    def decode(self, record: Record, *, keep: bool = True) -> V:
        """The object of a stored snapshot, reusing the cached one of the same version;
        ``keep=False`` does not add it to the cache (a report reading thousands of cases
        once would only push out the ones the desk is working on)."""
        with self._lock:
            hit = self._items.get(record.id)
        if hit is not None and hit.version == record.version:
            return hit
        data = record.data
        # fields left at their empty defaults need no structuring: most of a young case
        data = {k: v for k, v in data.items() if not (k in self._defaulted and v in _EMPTY)}
        value = trusted.structure(data, self.cls)
        if keep:
            self.remember(value)
        return value

    def remember(self, value: V) -> None:
        with self._lock:
            self._items[value.id] = value
            self._items.move_to_end(value.id)
            if len(self._items) > self.size:
                self._items.popitem(last=False)
