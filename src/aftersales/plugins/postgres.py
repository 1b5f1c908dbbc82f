"""The ``postgresql://`` storage backend: one database shared by several application servers.

Needs the ``postgres`` extra (``pip install 'aftersales[postgres]'``, psycopg 3). The URL is
libpq's (``postgresql://user:password@host:5432/db``, or ``postgresql:///db`` over the local
socket); ``?schema=NAME`` keeps the tables in that schema (created if missing), so several
desks can share one database.

Each action is one transaction at READ COMMITTED, and writers run in parallel: they lock
only the rows they write. The version check is part of the snapshot's ``UPDATE ... WHERE
version = ...`` (a writer that finds the row locked waits, then sees the new version and
writes nothing: ConflictError); a new aggregate's ``INSERT ... ON CONFLICT DO NOTHING``
does the same for two creators of one id. Case numbers come from a counter row locked until
commit, so they stay gapless (a rolled-back report uses no number; only reports of the same
year wait for each other, for the length of one transaction). The SLA tick takes its due
cases with ``FOR UPDATE SKIP LOCKED`` and outbox claims skip locked rows too, so several
desks share the tick; the ``sent`` table's primary key and ``record_sent``'s count make each
alert once whatever the timing. A deadlock or serialization failure is a ConflictError:
retry. Readers are never blocked. The schema is versioned like SQLite's: :data:`MIGRATIONS`
applied in order, each once, recorded in ``schema_migrations`` (migrations alone take an
advisory lock, so two servers starting at once do not apply one twice).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aftersales.core import redact
from aftersales.core.errors import ConflictError, StorageError, ValidationError
from aftersales.plugins.sql_reads import (
    SQLReads,
    case_records,
    faults_translated,
    read_snapshot,
)
from aftersales.plugins.sql_writes import SQLWrites
from aftersales.plugins.sqlite import UNSTORABLE, find_sql
from aftersales.ports.hookspecs import StorageRegistrar, hookimpl
from aftersales.ports.storage import (
    CaseQuery,
    Record,
    Transaction,
)

MIGRATION_LOCK = 0x61667473  # "afts": the advisory lock of a schema migration

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE events (
        kind TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
        type TEXT NOT NULL, at TEXT NOT NULL, by TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (kind, id, version)
    );
    CREATE TABLE snapshots (
        kind TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    );
    CREATE TABLE sequences (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
    CREATE TABLE case_index (
        id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, status TEXT NOT NULL,
        engineer TEXT, reported_at TEXT NOT NULL, serial TEXT, fault_code TEXT,
        accepted_at TEXT, priority TEXT NOT NULL, next_alert_at TEXT, followed_up_at TEXT,
        rework_of TEXT
    );
    CREATE INDEX case_by_reported ON case_index (reported_at, id);
    CREATE INDEX case_by_status ON case_index (status, reported_at, id);
    CREATE INDEX case_by_engineer ON case_index (engineer, reported_at, id);
    CREATE INDEX case_by_machine ON case_index (serial, fault_code, accepted_at);
    CREATE INDEX case_by_next_alert ON case_index (next_alert_at)
        WHERE next_alert_at IS NOT NULL;
    CREATE INDEX case_by_accepted ON case_index (accepted_at) WHERE accepted_at IS NOT NULL;
    CREATE INDEX case_by_followed_up ON case_index (followed_up_at)
        WHERE followed_up_at IS NOT NULL;
    CREATE INDEX case_by_rework_of ON case_index (rework_of) WHERE rework_of IS NOT NULL;
    CREATE TABLE sent (
        case_id TEXT NOT NULL, key TEXT NOT NULL, at TEXT NOT NULL, notification TEXT NOT NULL,
        PRIMARY KEY (case_id, key)
    );
    CREATE TABLE outbox (
        seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE,
        plugin TEXT NOT NULL, notification TEXT NOT NULL, created_at TEXT NOT NULL,
        next_try_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending', last_error TEXT, delivered_at TEXT
    );
    CREATE INDEX outbox_due ON outbox (next_try_at) WHERE status = 'pending';
    CREATE INDEX outbox_by_status ON outbox (status, seq);
    """,
    # 2: the final verdicts of finished cases' clocks, which the SLA report tallies
    """
    ALTER TABLE case_index ADD COLUMN finished_at TEXT;
    CREATE INDEX case_unfinished ON case_index (reported_at, id, finished_at);
    CREATE TABLE clock_facts (
        case_id TEXT NOT NULL, milestone TEXT NOT NULL, reported_at TEXT NOT NULL,
        finished_at TEXT NOT NULL, number TEXT NOT NULL, priority TEXT NOT NULL,
        engineer TEXT, team TEXT, customer TEXT NOT NULL, state TEXT NOT NULL,
        working DOUBLE PRECISION, clock DOUBLE PRECISION, overrun DOUBLE PRECISION,
        PRIMARY KEY (case_id, milestone)
    );
    CREATE INDEX clock_facts_by_reported ON clock_facts (reported_at) INCLUDE (finished_at,
        number, priority, engineer, team, customer, state, milestone, working, clock, overrun);
    """,
    # 3: every case's clocks judged at its latest action (a running clock keeps its deadline
    # and the time a delay notice excuses it until), so a period's report reads no case
    """
    ALTER TABLE case_index RENAME COLUMN finished_at TO judged_at;
    DROP INDEX case_unfinished;
    CREATE INDEX case_unjudged ON case_index (reported_at, id, judged_at);
    ALTER TABLE clock_facts RENAME COLUMN finished_at TO judged_at;
    ALTER TABLE clock_facts ADD COLUMN due TEXT;
    ALTER TABLE clock_facts ADD COLUMN excused_until TEXT;
    DROP INDEX clock_facts_by_reported;
    CREATE INDEX clock_facts_by_reported ON clock_facts (reported_at) INCLUDE (judged_at,
        number, priority, engineer, team, customer, state, milestone, working, clock, overrun,
        due, excused_until);
    """,
    # 4: an open case's SLA alerts worked out with its latest action, so the tick sends them
    # without reading the case
    """
    ALTER TABLE case_index ADD COLUMN alert_plan TEXT;
    """,
    # 5: when each aggregate (a machine's maintenance) is next due for a job
    """
    CREATE TABLE schedule (kind TEXT NOT NULL, id TEXT NOT NULL, due_at TEXT NOT NULL,
                           PRIMARY KEY (kind, id));
    CREATE INDEX schedule_due ON schedule (kind, due_at COLLATE "C", id COLLATE "C");
    """,
)
"""The schema, one script per version. Append new versions; never edit an applied one."""

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def parse_url(url: str) -> tuple[str, str | None]:
    """The libpq URL without our own ``schema`` option, and that schema."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValidationError(
            f"bad PostgreSQL URL {redact.url(url)!r}; write postgresql://user@host/db"
        )
    options = parse_qsl(parts.query)
    schema = next((v for k, v in options if k == "schema"), None)
    if schema is not None and not _SCHEMA.fullmatch(schema):
        raise ValidationError(f"schema {schema!r}: lower-case letters, digits and _ only")
    rest = urlencode([(k, v) for k, v in options if k != "schema"])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, rest, parts.fragment)), schema


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the extra is installed wherever tests run
        raise ValidationError(
            "postgresql:// storage needs psycopg: pip install 'aftersales[postgres]'"
        ) from None
    return psycopg


class PostgresStorage(SQLReads):
    MARK = "%s"
    BY_ID = 'id COLLATE "C"'  # byte order, as SQLite's, whatever the database's locale
    BYTE_ORDER = ' COLLATE "C"'

    def __repr__(self) -> str:  # never the password
        return f"PostgresStorage({redact.url(self.url)!r})"

    def __init__(self, url: str) -> None:
        self.url = url
        self.conninfo, self.schema = parse_url(url)
        self._pg = _psycopg()
        self._local = threading.local()
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self._migrate()

    def _connect(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = self._pg.connect(self.conninfo, autocommit=True)
            except self._pg.Error as exc:
                shown = redact.scrub(str(exc), redact.password_of(self.url))
                raise StorageError(
                    f"cannot connect to {redact.url(self.url)}: {shown.strip()}"
                ) from None
            if self.schema is not None:
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
                conn.execute(f"SET search_path TO {self.schema}")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _migrate(self) -> None:
        conn = self._connect()
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
            if done and max(done) > len(MIGRATIONS):
                raise ValidationError(
                    f"{redact.url(self.url)} has schema version {max(done)}, newer than this "
                    f"aftersales ({len(MIGRATIONS)}); upgrade the package"
                )
            for version, script in enumerate(MIGRATIONS, start=1):
                if version not in done:
                    conn.execute(script)
                    conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))

    @property
    def schema_version(self) -> int:
        row = self._connect().execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        conn = self._connect()
        try:
            with conn.transaction():
                yield _PostgresTransaction(conn)
        except UnicodeEncodeError:
            raise ValidationError(UNSTORABLE) from None
        except self._pg.DataError as exc:
            if "0x00" not in str(exc) and "NUL" not in str(exc):
                raise self._fault(exc) from None
            raise ValidationError(
                "a text holds a NUL character, which PostgreSQL cannot store; nothing was written"
            ) from None
        except self._pg.Error as exc:
            raise self._fault(exc) from None

    def _fault(self, exc: BaseException) -> Exception:
        """A StorageError naming the database (never its password) for a driver error."""
        if isinstance(exc, json.JSONDecodeError):
            return StorageError(
                f"{redact.url(self.url)}: a stored record is not valid JSON ({exc}); it was "
                "changed by hand or damaged: restore it from a backup"
            )
        if not isinstance(exc, self._pg.Error):
            return exc  # type: ignore[return-value]
        text = redact.scrub(" ".join(str(exc).split()), redact.password_of(self.url))
        errors = self._pg.errors
        if isinstance(exc, (errors.DeadlockDetected, errors.SerializationFailure)):
            return ConflictError(
                f"{redact.url(self.url)}: another desk's write crossed this one ({text}); "
                "nothing was written: read again and retry"
            )
        if isinstance(exc, self._pg.errors.UndefinedTable):
            return StorageError(
                f"{redact.url(self.url)} is not an aftersales store of a known schema ({text}):"
                " point storage at the right database and schema"
            )
        if isinstance(exc, self._pg.OperationalError):
            return StorageError(
                f"{redact.url(self.url)}: the database cannot be reached or refused ({text}); "
                "nothing was written: check the server and try again"
            )
        return StorageError(f"{redact.url(self.url)}: {type(exc).__name__}: {text}")

    @faults_translated
    def find_cases(self, query: CaseQuery) -> list[Record]:
        sql, args = postgres_find_sql(query)
        return case_records(self._connect().execute(sql, args).fetchall())


def postgres_find_sql(query: CaseQuery) -> tuple[str, list[Any]]:
    """SQLite's query for ``query`` in PostgreSQL's dialect: %s marks, and text ordered byte
    by byte as SQLite orders it."""
    sql, args = find_sql(query, byte_order=' COLLATE "C"')
    sql = sql.replace("?", "%s").replace("CROSS JOIN", "JOIN")
    return re.sub(r"ORDER BY (.*?)(?= LIMIT|$)", _c_collation, sql), args


def _c_collation(match: re.Match[str]) -> str:
    """Text columns compared byte by byte, as SQLite and the memory store do (ISO times and
    ids sort the same everywhere, whatever the database's locale)."""
    terms = []
    for term in match.group(1).split(","):
        column, _, direction = term.strip().partition(" ")
        terms.append(f'{column} COLLATE "C"' + (f" {direction}" if direction else ""))
    return "ORDER BY " + ", ".join(terms)


class _PostgresTransaction(SQLWrites):
    MARK = "%s"
    NEXT_NUMBER = (
        "INSERT INTO sequences VALUES (?, 1) ON CONFLICT (name) "
        "DO UPDATE SET value = sequences.value + 1 RETURNING value"
    )
    # byte order for the ids, as SQLite sorts them; rows another desk is claiming skipped
    CLAIM = (
        "SELECT {columns} FROM outbox WHERE status = 'pending' AND next_try_at <= ? "
        'AND plugin IN ({plugins}) ORDER BY next_try_at COLLATE "C", seq LIMIT ? '
        "FOR UPDATE SKIP LOCKED"
    )

    # the due cases' index rows locked for this transaction; rows another desk's tick (or an
    # action in progress) holds are skipped: that desk decides them, or the next tick does
    DUE_LOCK = " FOR UPDATE OF i SKIP LOCKED"
    DUE_ORDER = 'i.next_alert_at COLLATE "C", i.id COLLATE "C"'

    def _find_sql(self, query: CaseQuery) -> tuple[str, list[Any]]:
        return postgres_find_sql(query)

    def get(self, kind: str, id: str) -> Record | None:
        # held until this transaction ends: what it reads to write back (a supplier's record
        # of inspections, the certificates' watch) no other writer changes meanwhile
        return read_snapshot(self.conn, self.MARK, kind, id, lock=" FOR UPDATE")

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        with self.conn.cursor() as cur:
            cur.executemany(sql, rows)
            return int(cur.rowcount)


def open_postgres(url: str) -> PostgresStorage:
    return PostgresStorage(url)


@hookimpl
def aftersales_storage_backends(register: StorageRegistrar) -> None:
    register("postgresql", open_postgres)
    register("postgres", open_postgres)
