"""What the two SQL backends share: the committed reads and the outbox row format. SQLite
and PostgreSQL keep the same schema; their reads differ only in the parameter mark and in
how ids are put in byte order."""

from __future__ import annotations

import abc
import functools
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import groupby
from operator import itemgetter
from typing import Any, ClassVar, TypeVar

from aftersales.core.errors import AftersalesError
from aftersales.ports.storage import (
    FACT_GROUPS,
    ClockFact,
    FactGroup,
    FactRow,
    OutboxItem,
    Record,
    Storage,
)

OUTBOX_COLUMNS = (
    "id, plugin, notification, created_at, next_try_at, attempts, status, last_error, delivered_at"
)


def outbox_item(row: Sequence[Any]) -> OutboxItem:
    """An outbox row (the columns of OUTBOX_COLUMNS, in order) as an item."""
    id, plugin, note, created, next_try, attempts, status, error, delivered = row
    return OutboxItem(id, plugin, json.loads(note), created, next_try, attempts, status, error,
                      delivered)  # fmt: skip


def read_snapshot(conn: Any, mark: str, kind: str, id: str, *, lock: str = "") -> Record | None:
    """The snapshot of ``kind``/``id`` as ``conn`` sees it (in or out of a transaction);
    ``lock`` is appended to the query (PostgreSQL's writers: `` FOR UPDATE``)."""
    row = conn.execute(
        f"SELECT version, data FROM snapshots WHERE kind = {mark} AND id = {mark}{lock}",
        (kind, id),
    ).fetchone()
    return None if row is None else Record(kind, id, row[0], json.loads(row[1]))


def case_records(rows: Iterable[Sequence[Any]]) -> list[Record]:
    """Case snapshots from ``(id, version, data)`` rows, as the case queries select them."""
    return [Record("case", id, version, json.loads(data)) for id, version, data in rows]


F = TypeVar("F", bound=Callable[..., Any])


def faults_translated(method: F) -> F:
    """A read whose driver and JSON errors become the backend's ``_fault`` (a StorageError
    naming the store); the hot reads ``get`` and ``version`` do the same inline."""

    @functools.wraps(method)
    def read(self: SQLReads, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            raise self._translated(exc) from None

    return read  # type: ignore[return-value]


class SQLReads(Storage):
    """The reads of a storage whose connections (one per thread, from :meth:`_connect`)
    have ``execute(sql, params)`` returning a cursor, as sqlite3's and psycopg's do."""

    MARK: ClassVar[str] = "?"
    BY_ID: ClassVar[str] = "id"  # an ORDER BY term that sorts ids byte by byte
    BYTE_ORDER: ClassVar[str] = ""  # what makes a text column sort byte by byte

    _lock: threading.Lock
    _connections: list[Any]
    _local: threading.local

    @abc.abstractmethod
    def _connect(self) -> Any:
        """This thread's connection, opened on first use."""

    def _fault(self, exc: BaseException) -> Exception:
        """The error to raise for ``exc``, a driver's or a JSON error (backends say which
        store and what to do); anything else is returned as it is."""
        return exc  # type: ignore[return-value]

    def _translated(self, exc: Exception) -> Exception:
        return exc if isinstance(exc, AftersalesError) else self._fault(exc)

    def get(self, kind: str, id: str) -> Record | None:
        if "\x00" in id:
            return None  # no stored id holds NUL (PostgreSQL cannot even be asked)
        try:
            return read_snapshot(self._connect(), self.MARK, kind, id)
        except Exception as exc:
            raise self._translated(exc) from None

    def version(self, kind: str, id: str) -> int | None:
        if "\x00" in id:
            return None
        m = self.MARK
        try:
            row = (
                self._connect()
                .execute(f"SELECT version FROM snapshots WHERE kind = {m} AND id = {m}", (kind, id))
                .fetchone()
            )
        except Exception as exc:
            raise self._translated(exc) from None
        return None if row is None else int(row[0])

    @faults_translated
    def events(self, kind: str, id: str) -> list[dict[str, Any]]:
        if "\x00" in id:
            return []
        m = self.MARK
        rows = self._connect().execute(
            f"SELECT version, type, at, by, data FROM events WHERE kind = {m} AND id = {m} "
            "ORDER BY version",
            (kind, id),
        )
        return [
            {"version": v, "type": t, "at": at, "by": by, "data": json.loads(data)}
            for v, t, at, by, data in rows.fetchall()
        ]

    @faults_translated
    def scan(self, kind: str) -> Iterator[Record]:
        rows = self._connect().execute(
            f"SELECT id, version, data FROM snapshots WHERE kind = {self.MARK} "
            f"ORDER BY {self.BY_ID}",
            (kind,),
        )
        # decoded here, not while the caller iterates: a damaged row fails this call
        return iter([Record(kind, id, version, json.loads(data))
                     for id, version, data in rows.fetchall()])  # fmt: skip

    def scheduled(self, kind: str, until: str, limit: int) -> list[tuple[str, str]] | None:
        m, c = self.MARK, self.BYTE_ORDER
        try:
            rows = (
                self._connect()
                .execute(
                    f"SELECT id, due_at FROM schedule WHERE kind = {m} AND due_at{c} <= {m} "
                    f"ORDER BY due_at{c}, id{c} LIMIT {m}",
                    (kind, until, limit),
                )
                .fetchall()
            )
        except Exception as exc:
            raise self._translated(exc) from None
        return [(id, at) for id, at in rows]

    @faults_translated
    def clock_facts(
        self, since: str, until: str, judged_by: str, *, running: bool | None = None
    ) -> Iterator[FactRow]:
        m = self.MARK
        which = {None: "", True: " AND state = 'running'", False: " AND state <> 'running'"}
        rows = self._connect().execute(
            "SELECT number, reported_at, engineer, team, customer, milestone, priority, state, "
            "working, clock, overrun, due, excused_until FROM clock_facts "
            f"WHERE reported_at >= {m} AND reported_at < {m} AND judged_at <= {m}" + which[running],
            (since, until, judged_by),
        )
        return (FactRow(n, r, e, t, c, ClockFact(*fact)) for n, r, e, t, c, *fact in rows)

    @faults_translated
    def clock_fact_groups(
        self, since: str, until: str, judged_by: str, by: tuple[str, ...]
    ) -> list[FactGroup]:
        """Summed where the facts are: counts by state, the times taken and the five worst
        overruns of each group, in three grouped queries."""
        wrong = [c for c in by if c not in FACT_GROUPS]
        if wrong:
            raise ValueError(f"cannot group clock facts by {wrong[0]!r}")
        m, c = self.MARK, self.BYTE_ORDER
        keys = ", ".join(by) if by else "''"
        where = (f"reported_at >= {m} AND reported_at < {m} AND judged_at <= {m} "
                 "AND state <> 'running'")  # fmt: skip
        args = (since, until, judged_by)
        conn = self._connect()
        groups: dict[tuple[Any, ...], FactGroup] = {}

        def group(key: tuple[Any, ...]) -> FactGroup:
            found = groups.get(key)
            if found is None:
                found = groups[key] = FactGroup(key)
            return found

        width = max(len(by), 1)
        query = (
            f"SELECT {keys}, state, count(*) FROM clock_facts WHERE {where} GROUP BY {keys}, state"
        )
        for row in conn.execute(query, args):
            group(tuple(row[:width]) if by else ()).states[row[width]] = int(row[width + 1])
        taken = (f"SELECT {keys}, working, clock FROM clock_facts WHERE {where} "
                 f"AND working IS NOT NULL AND clock IS NOT NULL ORDER BY {keys}")  # fmt: skip
        # a group's rows come together: they are added a run at a time, in C (a row at a
        # time in Python was most of a month's report over a million cases)
        cursor = conn.execute(taken, args)
        key_of, working, clock = itemgetter(*range(width)), itemgetter(width), itemgetter(width + 1)
        while rows := cursor.fetchmany(20_000):
            for key, run in groupby(rows, key_of):
                found = group((key if width > 1 else (key,)) if by else ())
                listed = list(run)
                found.working.extend(map(working, listed))
                found.clock.extend(map(clock, listed))
        order = f"overrun DESC, reported_at{c}, number{c}, milestone{c}"
        named = ", ".join(f"{k} AS g{n}" for n, k in enumerate(by)) if by else "'' AS g0"
        outer = ", ".join(f"g{n}" for n in range(width))
        worst = (f"SELECT {outer}, overrun, reported_at, number, milestone FROM (SELECT {named}, "
                 f"overrun, reported_at, number, milestone, ROW_NUMBER() OVER (PARTITION BY "
                 f"{keys} ORDER BY {order}) AS rn FROM clock_facts WHERE {where} AND overrun "
                 f"> 0) ranked WHERE rn <= 5 ORDER BY {order}")  # fmt: skip
        for row in conn.execute(worst, args):
            group(tuple(row[:width]) if by else ()).worst.append(tuple(row[width:]))
        return list(groups.values())

    @faults_translated
    def outbox(self, status: str | None = None, limit: int | None = None) -> list[OutboxItem]:
        sql = f"SELECT {OUTBOX_COLUMNS} FROM outbox"
        args: list[Any] = []
        if status is not None:
            sql += f" WHERE status = {self.MARK}"
            args.append(status)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += f" LIMIT {self.MARK}"
            args.append(limit)
        return [outbox_item(row) for row in self._connect().execute(sql, args).fetchall()]

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()


__all__ = ["OUTBOX_COLUMNS", "SQLReads", "faults_translated", "outbox_item", "read_snapshot"]
