"""What the two SQL backends share when they write: the version-checked append, the case
index upsert, the alert ledger and the outbox. The SQL is written once with ``?`` marks; a
dialect says its mark, how it runs a statement for many rows, and the two statements that
differ (the counter upsert, and claiming outbox items, where PostgreSQL skips locked rows)."""

from __future__ import annotations

import abc
import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs

from aftersales.core.errors import ConflictError
from aftersales.plugins.sql_reads import (
    OUTBOX_COLUMNS,
    case_records,
    outbox_item,
    read_snapshot,
)
from aftersales.ports.storage import (
    CaseIndex,
    CaseQuery,
    DueCase,
    OutboxItem,
    Record,
    SentNotification,
    Transaction,
)

as_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
"""JSON as the stores keep it: compact, non-ASCII kept as it is."""

_INDEX_COLUMNS = (
    "id, number, status, engineer, reported_at, serial, fault_code, accepted_at, priority, "
    "next_alert_at, followed_up_at, rework_of, judged_at, alert_plan"
)
_IN_CHUNK = 500  # ids per IN (...) list: under SQLite's bound-parameter limit


FACT_COLUMNS = (
    "case_id, milestone, reported_at, judged_at, number, priority, engineer, team, customer, "
    "state, working, clock, overrun, due, excused_until"
)
"""The columns of a clock fact, in the order the desk writes them."""


class SQLWrites(Transaction, abc.ABC):
    """One write transaction on a connection whose ``execute(sql, params)`` returns a
    cursor (``rowcount``, ``fetchone``, ``fetchall``), as sqlite3's and psycopg's do."""

    MARK: ClassVar[str] = "?"
    NEXT_NUMBER: ClassVar[str]  # upsert of the counter, returning its new value
    CLAIM: ClassVar[str]  # due pending items of some plugins: ``{plugins}`` is their marks
    DUE_LOCK: ClassVar[str] = ""  # after the due cases' query: hold them for this transaction
    DUE_ORDER: ClassVar[str] = "i.next_alert_at, i.id"  # soonest first, ids byte by byte
    MANY_COUNTS: ClassVar[bool] = False  # _executemany's count sums every row's

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    # -- the dialect ---------------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql if self.MARK == "?" else sql.replace("?", self.MARK)

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(self._sql(sql), params)

    @abc.abstractmethod
    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """Run ``sql`` (already in the dialect's marks) for each row; rows affected."""

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        return self._executemany(self._sql(sql), rows) if rows else 0

    # -- events and snapshots ------------------------------------------------------------------
    def get(self, kind: str, id: str) -> Record | None:
        return read_snapshot(self.conn, self.MARK, kind, id)

    def next_number(self, sequence: str) -> int:
        return int(self._execute(self.NEXT_NUMBER, (sequence,)).fetchone()[0])

    def append(
        self,
        kind: str,
        id: str,
        expected_version: int,
        events: Sequence[Mapping[str, Any]],
        snapshot: Mapping[str, Any],
        index: CaseIndex | None = None,
    ) -> None:
        new_version = expected_version + len(events)
        if expected_version == 0:
            written = self._execute(
                "INSERT INTO snapshots VALUES (?, ?, ?, ?) ON CONFLICT (kind, id) DO NOTHING",
                (kind, id, new_version, as_json(snapshot)),
            ).rowcount
        else:  # the version check and the write in one statement
            written = self._execute(
                "UPDATE snapshots SET version = ?, data = ? "
                "WHERE kind = ? AND id = ? AND version = ?",
                (new_version, as_json(snapshot), kind, id, expected_version),
            ).rowcount
        if written != 1:
            row = self._execute(
                "SELECT version FROM snapshots WHERE kind = ? AND id = ?", (kind, id)
            ).fetchone()
            raise ConflictError(
                f"{kind} {id} is at version {0 if row is None else row[0]}, not "
                f"{expected_version}: someone else changed it; read it again and retry"
            )
        self._many(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(kind, id, e["version"], e["type"], e["at"], e["by"], as_json(e["data"]))
             for e in events],
        )  # fmt: skip
        if index is not None:
            self._execute(
                # an upsert, not a replace: the store then touches only the indexes whose
                # columns changed (usually just the status one)
                f"INSERT INTO case_index ({_INDEX_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
                "engineer = excluded.engineer, accepted_at = excluded.accepted_at, "
                "priority = excluded.priority, next_alert_at = excluded.next_alert_at, "
                "followed_up_at = excluded.followed_up_at, fault_code = excluded.fault_code, "
                "judged_at = excluded.judged_at, alert_plan = excluded.alert_plan",
                (id, index.number, index.status, index.engineer, index.reported_at,
                 index.serial, index.fault_code, index.accepted_at, index.priority,
                 index.next_alert_at, index.followed_up_at, index.rework_of,
                 index.judged_at, index.alert_plan),
            )  # fmt: skip
            if index.facts is not None:
                self._write_facts(id, index)

    def _write_facts(self, id: str, index: CaseIndex) -> None:
        """Replace a case's clock facts, in the transaction of the action they judge."""
        self._execute("DELETE FROM clock_facts WHERE case_id = ?", (id,))
        if index.facts and index.judged_at is not None:
            self._many(
                f"INSERT INTO clock_facts ({FACT_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(id, f.milestone, index.reported_at, index.judged_at, index.number,
                  f.priority, index.engineer, index.team, index.customer or "", f.state,
                  f.working, f.clock, f.overrun, f.due, f.excused_until)
                 for f in index.facts],
            )  # fmt: skip

    # -- the alert ledger ----------------------------------------------------------------------
    def sent_keys(self, case_ids: Sequence[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for start in range(0, len(case_ids), _IN_CHUNK):
            chunk = tuple(case_ids[start : start + _IN_CHUNK])
            marks = ", ".join("?" for _ in chunk)
            rows = self._execute(f"SELECT case_id, key FROM sent WHERE case_id IN ({marks})", chunk)
            for case_id, key in rows:
                found.setdefault(case_id, set()).add(key)
        return found

    def record_sent(self, sent: Sequence[SentNotification]) -> int:
        sql = (
            "INSERT INTO sent (case_id, key, at, notification) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING"
        )
        rows = [(s.case_id, s.key, s.at, as_json(s.notification)) for s in sent]
        if self.MANY_COUNTS:
            return self._many(sql, rows)
        # one by one where the driver counts only the last row: the count of repeats skipped
        # must be exact
        return sum(int(self._execute(sql, row).rowcount) for row in rows)

    @abc.abstractmethod
    def _find_sql(self, query: CaseQuery) -> tuple[str, list[Any]]:
        """The dialect's SELECT of case rows ``(id, version, data)`` answering ``query``."""

    def due_cases(self, now: str, limit: int) -> list[Record] | None:
        sql, args = self._find_sql(CaseQuery(alert_due=now, limit=limit))
        return case_records(self.conn.execute(sql + self.DUE_LOCK, args).fetchall())

    def schedule(self, kind: str, items: Sequence[tuple[str, str | None]]) -> None:
        self._many("DELETE FROM schedule WHERE kind = ? AND id = ?",
                   [(kind, id) for id, at in items if at is None])  # fmt: skip
        self._many(
            "INSERT INTO schedule (kind, id, due_at) VALUES (?, ?, ?) "
            "ON CONFLICT (kind, id) DO UPDATE SET due_at = excluded.due_at",
            [(kind, id, at) for id, at in items if at is not None],
        )

    def set_next_alert(self, moments: Sequence[tuple[str, str | None]]) -> None:
        self._many(
            "UPDATE case_index SET next_alert_at = ? WHERE id = ?",
            [(at, case_id) for case_id, at in moments],
        )

    def due_plans(self, now: str, limit: int) -> list[DueCase] | None:
        # the snapshot looked up only where there is no plan
        rows = self._execute(
            "SELECT i.id, i.alert_plan, s.version, s.data FROM case_index i "
            "LEFT JOIN snapshots s ON i.alert_plan IS NULL AND s.kind = 'case' AND s.id = i.id "
            f"WHERE i.next_alert_at <= ? ORDER BY {self.DUE_ORDER} LIMIT ?{self.DUE_LOCK}",
            (now, limit),
        ).fetchall()
        return [
            DueCase(id, plan, None if data is None else Record("case", id, version,
                                                                json.loads(data)))
            for id, plan, version, data in rows
        ]  # fmt: skip

    def set_alert_plans(self, plans: Sequence[tuple[str, str | None, str | None]]) -> None:
        self._many(
            "UPDATE case_index SET next_alert_at = ?, alert_plan = ? WHERE id = ?",
            [(at, plan, case_id) for case_id, at, plan in plans],
        )

    # -- the outbox ----------------------------------------------------------------------------
    def enqueue(self, items: Sequence[OutboxItem]) -> None:
        self._many(
            "INSERT INTO outbox (id, plugin, notification, created_at, next_try_at, attempts, "
            "status) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(i.id, i.plugin, as_json(i.notification), i.created_at, i.next_try_at,
              i.attempts, i.status) for i in items],
        )  # fmt: skip

    def claim(
        self, now: str, lease_until: str, plugins: Sequence[str], limit: int
    ) -> list[OutboxItem]:
        if not plugins:
            return []
        sql = self.CLAIM.format(columns=OUTBOX_COLUMNS, plugins=", ".join("?" for _ in plugins))
        rows = self._execute(sql, (now, *plugins, limit)).fetchall()
        items = [attrs.evolve(outbox_item(r), next_try_at=lease_until) for r in rows]
        self._many(
            "UPDATE outbox SET next_try_at = ? WHERE id = ?", [(lease_until, i.id) for i in items]
        )
        return items

    def settle(self, items: Sequence[OutboxItem]) -> None:
        self._many(
            "UPDATE outbox SET attempts = ?, status = ?, next_try_at = ?, last_error = ?, "
            "delivered_at = ? WHERE id = ?",
            [(i.attempts, i.status, i.next_try_at, i.last_error, i.delivered_at, i.id)
             for i in items],
        )  # fmt: skip

    def prune_outbox(self, before: str) -> int:
        cursor = self._execute(
            "DELETE FROM outbox WHERE status = 'delivered' AND delivered_at < ?", (before,)
        )
        return int(cursor.rowcount)


__all__ = ["SQLWrites", "as_json"]
