"""The ``sqlite://`` storage backend: one file on disk, WAL mode, one transaction per action.

URLs follow SQLAlchemy's convention: ``sqlite:///service.db`` is relative to the working
directory, ``sqlite:////var/lib/aftersales/service.db`` is absolute. ``?synchronous=full``
makes every commit wait for the disk; the default, ``normal``, keeps every committed action
through a crash of the process (SIGKILL included) and may lose the last ones on a power cut.

Writers take SQLite's write lock when their transaction begins (``BEGIN IMMEDIATE``), so a
version check and the write it guards cannot interleave with another process's write.
The schema is versioned: :data:`MIGRATIONS` are applied in order, each once, recorded in
``schema_migrations``.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aftersales.core.errors import StorageError, ValidationError
from aftersales.plugins.sql_reads import (
    SQLReads,
    case_records,
    faults_translated,
)
from aftersales.plugins.sql_writes import SQLWrites
from aftersales.ports.hookspecs import StorageRegistrar, hookimpl
from aftersales.ports.storage import (
    CaseQuery,
    Record,
    Transaction,
)

MIGRATIONS: tuple[str, ...] = (
    # 1: events, snapshots, counters, and the case index find_cases reads. Events and
    # snapshots are rowid tables: a JSON row of a few kB then sits in its leaf page, where a
    # WITHOUT ROWID table spills it to overflow pages (measured: ~1.6x the commits/s).
    """
    CREATE TABLE events (
        kind TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
        type TEXT NOT NULL, at TEXT NOT NULL, by TEXT NOT NULL, data TEXT NOT NULL,
        UNIQUE (kind, id, version)
    );
    CREATE TABLE snapshots (
        kind TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, data TEXT NOT NULL,
        UNIQUE (kind, id)
    );
    CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE case_index (
        id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, status TEXT NOT NULL,
        engineer TEXT, reported_at TEXT NOT NULL, serial TEXT, fault_code TEXT,
        accepted_at TEXT, priority TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX case_by_reported ON case_index (reported_at, id);
    CREATE INDEX case_by_status ON case_index (status, reported_at, id);
    CREATE INDEX case_by_engineer ON case_index (engineer, reported_at, id);
    CREATE INDEX case_by_machine ON case_index (serial, fault_code, accepted_at);
    """,
    # 2: SLA ticks: when to look at a case next, and the notifications recorded once each
    """
    ALTER TABLE case_index ADD COLUMN next_alert_at TEXT;
    CREATE INDEX case_by_next_alert ON case_index (next_alert_at)
        WHERE next_alert_at IS NOT NULL;
    CREATE TABLE sent (
        case_id TEXT NOT NULL, key TEXT NOT NULL, at TEXT NOT NULL,
        notification TEXT NOT NULL, failed TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (case_id, key)
    );
    CREATE INDEX sent_undelivered ON sent (case_id) WHERE failed != '[]';
    """,
    # 3: appraisals read a month's accepted repairs and follow-up calls
    """
    ALTER TABLE case_index ADD COLUMN followed_up_at TEXT;
    CREATE INDEX case_by_accepted ON case_index (accepted_at) WHERE accepted_at IS NOT NULL;
    CREATE INDEX case_by_followed_up ON case_index (followed_up_at)
        WHERE followed_up_at IS NOT NULL;
    """,
    # 4: which cases came back as warranty rework (first-time-fix and rework metrics)
    """
    ALTER TABLE case_index ADD COLUMN rework_of TEXT;
    CREATE INDEX case_by_rework_of ON case_index (rework_of) WHERE rework_of IS NOT NULL;
    """,
    # 5: the transactional outbox (the sent table keeps only the once-keys from now on)
    """
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
        plugin TEXT NOT NULL, notification TEXT NOT NULL, created_at TEXT NOT NULL,
        next_try_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending', last_error TEXT, delivered_at TEXT
    );
    CREATE INDEX outbox_due ON outbox (next_try_at) WHERE status = 'pending';
    CREATE INDEX outbox_by_status ON outbox (status, seq);
    """,
    # 6: the final verdicts of finished cases' clocks, which the SLA report tallies: kept in
    # report-time order (WITHOUT ROWID: the primary key is the table's order), so a month's
    # verdicts are one contiguous run of pages
    """
    ALTER TABLE case_index ADD COLUMN finished_at TEXT;
    CREATE INDEX case_unfinished ON case_index (reported_at, id, finished_at);
    CREATE TABLE clock_facts (
        reported_at TEXT NOT NULL, case_id TEXT NOT NULL, milestone TEXT NOT NULL,
        finished_at TEXT NOT NULL, number TEXT NOT NULL, priority TEXT NOT NULL,
        engineer TEXT, team TEXT, customer TEXT NOT NULL, state TEXT NOT NULL,
        working REAL, clock REAL, overrun REAL,
        PRIMARY KEY (reported_at, case_id, milestone)
    ) WITHOUT ROWID;
    CREATE INDEX clock_facts_by_case ON clock_facts (case_id);
    """,
    # 7: every case's clocks judged at its latest action (a running clock keeps its deadline
    # and the time a delay notice excuses it until), so a period's report reads no case
    """
    ALTER TABLE case_index RENAME COLUMN finished_at TO judged_at;
    DROP INDEX case_unfinished;
    CREATE INDEX case_unjudged ON case_index (reported_at, id, judged_at);
    ALTER TABLE clock_facts RENAME COLUMN finished_at TO judged_at;
    ALTER TABLE clock_facts ADD COLUMN due TEXT;
    ALTER TABLE clock_facts ADD COLUMN excused_until TEXT;
    """,
    # 8: an open case's SLA alerts worked out with its latest action, so the tick sends them
    # without reading the case
    """
    ALTER TABLE case_index ADD COLUMN alert_plan TEXT;
    """,
    # 9: when each aggregate (a machine's maintenance) is next due for a job
    """
    CREATE TABLE schedule (kind TEXT NOT NULL, id TEXT NOT NULL, due_at TEXT NOT NULL,
                           PRIMARY KEY (kind, id)) WITHOUT ROWID;
    CREATE INDEX schedule_due ON schedule (kind, due_at, id);
    """,
)
"""The schema, one script per version. Append new versions; never edit an applied one."""

_SYNCHRONOUS = {"off": "OFF", "normal": "NORMAL", "full": "FULL", "extra": "EXTRA"}


def parse_url(url: str) -> tuple[str, str]:
    """The database path and the ``synchronous`` setting of a ``sqlite://`` URL."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite" or not parts.path.startswith("/") or parts.netloc:
        raise ValidationError(
            f"bad SQLite URL {url!r}; write sqlite:///relative/path.db or "
            "sqlite:////absolute/path.db"
        )
    path = parts.path[1:]
    if not path:
        raise ValidationError(f"the SQLite URL {url!r} names no file")
    options = parse_qs(parts.query)
    sync = options.pop("synchronous", ["normal"])[-1].lower()
    if sync not in _SYNCHRONOUS or options:
        raise ValidationError(
            f"bad options in {url!r}; the only one is synchronous=off|normal|full|extra"
        )
    return path, _SYNCHRONOUS[sync]


UNSTORABLE = (
    "a text holds a lone surrogate (not valid Unicode), which cannot be stored; nothing was written"
)
BUSY_TIMEOUT = 30.0
"""Seconds a writer waits for another one's lock before the action fails."""


class SQLiteStorage(SQLReads):
    read_only = False

    def __init__(self, url: str) -> None:
        self.url = url
        self.path, self.synchronous = parse_url(url)
        folder = Path(self.path).parent
        if self.path != ":memory:" and not folder.is_dir():
            # a mistyped URL must not leave folders and an empty store behind
            raise StorageError(
                f"cannot create the store {self.path}: its folder {folder} does not exist; "
                f"correct the storage URL, or create the folder first (mkdir -p {folder})"
            )
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._migrate()

    # -- connections ----------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = self._open_connection()
            except sqlite3.Error as exc:
                raise self._fault(exc) from None
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _open_connection(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, isolation_level=None, timeout=BUSY_TIMEOUT, check_same_thread=False
        )
        try:
            conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if "readonly" not in str(exc) and "read-only" not in str(exc):
                raise
            self.read_only = True  # a file we may not write: open it for reading only
        if self.read_only:
            conn.close()
            # immutable: nothing can change a file nobody may write, and SQLite then needs
            # no -shm or -wal file beside it (the folder may be read-only too)
            uri = f"{Path(self.path).resolve().as_uri()}?mode=ro&immutable=1"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None,
                                   timeout=BUSY_TIMEOUT, check_same_thread=False)  # fmt: skip
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _fault(self, exc: BaseException) -> Exception:
        """The StorageError to raise for a sqlite3 error: which file, what is wrong, what to
        do. Anything not from SQLite is returned as it is."""
        text = str(exc)
        path = self.path
        if isinstance(exc, json.JSONDecodeError):
            return StorageError(
                f"{path}: a stored record is not valid JSON ({text}); the file was changed by "
                "hand or damaged: restore it from a backup"
            )
        if not isinstance(exc, sqlite3.Error):
            return exc  # type: ignore[return-value]
        if "locked" in text or "busy" in text:
            return StorageError(
                f"{path} is locked: another process held it for over {BUSY_TIMEOUT:.0f} s (a "
                "long transaction, a backup, a stuck desk); nothing was written: try again, "
                "or find and end what holds it"
            )
        if "readonly" in text or "read-only" in text:
            return StorageError(
                f"{path} is read-only for this process: it can be read (reports, lists), but "
                "writing needs write permission on the file and its folder"
            )
        if "malformed" in text or "not a database" in text or "disk I/O" in text:
            return StorageError(
                f"{path} is damaged ({text}); nothing was written: restore it from a backup "
                "(sqlite3's .recover can salvage what is left)"
            )
        if "no such table" in text or "no such column" in text:
            return StorageError(
                f"{path} is not an aftersales store of a known schema ({text}): point storage "
                "at the right file, or restore it from a backup"
            )
        if "unable to open" in text:
            return StorageError(
                f"cannot open {path} ({text}): check that its folder exists and is readable"
            )
        return StorageError(f"{path}: {type(exc).__name__}: {text}")

    def _migrate(self) -> None:
        conn = self._connect()
        try:
            current = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
        except sqlite3.OperationalError:
            current = None  # a new file
        except sqlite3.Error as exc:
            raise self._fault(exc) from None
        if current is not None and current == len(MIGRATIONS):
            return  # up to date: no write (a read-only file opens for reports)
        if self.read_only:
            raise StorageError(
                f"{self.path} is read-only and its schema (version {current}) needs upgrading "
                f"to {len(MIGRATIONS)}; open it once with write permission"
            )
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._fault(exc) from None
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            if done and max(done) > len(MIGRATIONS):
                raise ValidationError(
                    f"{self.path} has schema version {max(done)}, newer than this aftersales "
                    f"({len(MIGRATIONS)}); upgrade the package"
                )
            for version, script in enumerate(MIGRATIONS, start=1):
                if version in done:
                    continue
                for statement in filter(str.strip, script.split(";")):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?)",
                    (version, datetime.now(timezone.utc).isoformat()),
                )
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback(conn)
            raise self._fault(exc) from None
        except BaseException:
            self._rollback(conn)
            raise

    @property
    def schema_version(self) -> int:
        row = self._connect().execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    # -- writes ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        conn = self._connect()
        if self.read_only:
            raise self._fault(sqlite3.OperationalError("attempt to write a readonly database"))
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._fault(exc) from None
        try:
            yield _SQLiteTransaction(conn)
        except sqlite3.Error as exc:
            self._rollback(conn)
            raise self._fault(exc) from None
        except UnicodeEncodeError:
            self._rollback(conn)
            raise ValidationError(UNSTORABLE) from None
        except BaseException:
            self._rollback(conn)
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback(conn)
            raise self._fault(exc) from None

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        with contextlib.suppress(sqlite3.Error):  # a failed COMMIT may have ended it already
            conn.execute("ROLLBACK")

    # -- reads (the others: SQLReads, with ? marks and SQLite's byte order of ids) ---------
    @faults_translated
    def find_cases(self, query: CaseQuery) -> list[Record]:
        sql, args = find_sql(query)
        return case_records(self._connect().execute(sql, args).fetchall())


"""Compact JSON, non-ASCII text kept as it is (smaller rows for CJK names)."""


def find_sql(query: CaseQuery, byte_order: str = "") -> tuple[str, list[Any]]:
    """The SELECT that answers ``query``, and its parameters; ``byte_order`` is what makes
    a text column compare byte by byte, as the ORDER BY sorts (nothing in SQLite)."""
    where: list[str] = []
    args: list[Any] = []
    if query.after is not None:  # keyset paging: the index on (reported_at, id) seeks to it
        at, id = query.after
        step = "<" if query.newest_first else ">"
        # a row value, not an OR of its parts: only this form is an index range (an OR
        # walked the index from its start on every page)
        where.append(f"(i.reported_at{byte_order}, i.id{byte_order}) {step} (?, ?)")
        args.extend((at, id))
    if query.status is not None:
        where.append(f"i.status IN ({', '.join('?' for _ in query.status)})")
        args.extend(query.status)
    if query.touched_in is not None:  # an OR over three indexed columns: SQLite unions them
        where.append(
            "((i.reported_at >= ? AND i.reported_at < ?) OR (i.accepted_at >= ? AND "
            "i.accepted_at < ?) OR (i.followed_up_at >= ? AND i.followed_up_at < ?))"
        )
        args.extend(query.touched_in * 3)
    for column, value in (
        ("i.engineer = ?", query.engineer),
        ("i.reported_at >= ?", query.since),
        ("i.reported_at < ?", query.until),
        ("i.serial = ?", query.serial),
        ("i.fault_code = ?", query.fault_code),
        ("i.accepted_at >= ?", query.accepted_since),
        ("i.accepted_at < ?", query.accepted_until),
        ("i.followed_up_at >= ?", query.followed_up_since),
        ("i.followed_up_at < ?", query.followed_up_until),
        ("i.number = ?", query.number),
        ("i.rework_of = ?", query.rework_of),
        ("i.next_alert_at <= ?", query.alert_due),
        ("(i.judged_at IS NULL OR i.judged_at > ?)", query.unjudged_by),
    ):
        if value is not None:
            where.append(column)
            args.append(value)
    sql = (
        # CROSS JOIN keeps case_index the outer loop, so its indexes serve the filter
        "SELECT i.id, s.version, s.data FROM case_index i "
        "CROSS JOIN snapshots s ON s.kind = 'case' AND s.id = i.id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + (
            " ORDER BY i.next_alert_at, i.id"
            if query.alert_due is not None
            else " ORDER BY i.reported_at DESC, i.id DESC"
            if query.newest_first
            else " ORDER BY i.reported_at, i.id"
        )
    )
    if query.limit is not None:
        sql += " LIMIT ?"
        args.append(query.limit)
    return sql, args


class _SQLiteTransaction(SQLWrites):
    MANY_COUNTS = True
    NEXT_NUMBER = (
        "INSERT INTO sequences VALUES (?, 1) "
        "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value"
    )
    CLAIM = (
        "SELECT {columns} FROM outbox WHERE status = 'pending' AND next_try_at <= ? "
        "AND plugin IN ({plugins}) ORDER BY next_try_at, seq LIMIT ?"
    )

    def _find_sql(self, query: CaseQuery) -> tuple[str, list[Any]]:
        # one writer at a time: the due cases are this transaction's without a lock
        return find_sql(query)

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        return int(self.conn.executemany(sql, rows).rowcount)


def open_sqlite(url: str) -> SQLiteStorage:
    return SQLiteStorage(url)


@hookimpl
def aftersales_storage_backends(register: StorageRegistrar) -> None:
    register("sqlite", open_sqlite)
