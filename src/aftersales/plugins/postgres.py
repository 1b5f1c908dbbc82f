"""The ``postgresql://`` storage backend: one database shared by several application servers.

Needs the ``postgres`` extra (``pip install 'aftersales[postgres]'``, psycopg 3). The URL is
libpq's (``postgresql://user:password@host:5432/db``, or ``postgresql:///db`` over the local
socket); ``?schema=NAME`` keeps the tables in that schema (created if missing), so several
desks can share one database.

Each action is one transaction. Writers take a transaction-scoped advisory lock first, so a
version check and the write it guards never interleave with another process's write and a
desk that reads inside its transaction sees a store no one else changes (what makes two
processes ticking at once send each alert once; the ``sent`` table's primary key backs it
up). Readers are never blocked. The schema is versioned like SQLite's: :data:`MIGRATIONS`
applied in order, each once, recorded in ``schema_migrations``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs

from aftersales.core import redact
from aftersales.core.errors import ConflictError, StorageError, ValidationError
from aftersales.plugins.sql_reads import (
    OUTBOX_COLUMNS,
    SQLReads,
    faults_translated,
    outbox_item,
    read_snapshot,
)
from aftersales.plugins.sqlite import UNSTORABLE, find_sql
from aftersales.ports.hookspecs import StorageRegistrar, hookimpl
from aftersales.ports.storage import (
    CaseIndex,
    CaseQuery,
    OutboxItem,
    Record,
    SentNotification,
    Transaction,
)

WRITE_LOCK = 0x61667473  # "afts": the advisory lock every writer holds until it commits

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
)
"""The schema, one script per version. Append new versions; never edit an applied one."""

_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
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
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
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
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
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
        sql, args = find_sql(query)
        # the SQLite query, in PostgreSQL's dialect: %s marks, byte order like SQLite's
        sql = sql.replace("?", "%s").replace("CROSS JOIN", "JOIN")
        sql = re.sub(r"ORDER BY (.*?)(?= LIMIT|$)", _c_collation, sql)
        rows = self._connect().execute(sql, args).fetchall()
        return [Record("case", id, version, json.loads(data)) for id, version, data in rows]


def _c_collation(match: re.Match[str]) -> str:
    """Text columns compared byte by byte, as SQLite and the memory store do (ISO times and
    ids sort the same everywhere, whatever the database's locale)."""
    terms = []
    for term in match.group(1).split(","):
        column, _, direction = term.strip().partition(" ")
        terms.append(f'{column} COLLATE "C"' + (f" {direction}" if direction else ""))
    return "ORDER BY " + ", ".join(terms)


class _PostgresTransaction(Transaction):
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def get(self, kind: str, id: str) -> Record | None:
        return read_snapshot(self.conn, "%s", kind, id)

    def next_number(self, sequence: str) -> int:
        row = self.conn.execute(
            "INSERT INTO sequences VALUES (%s, 1) ON CONFLICT (name) "
            "DO UPDATE SET value = sequences.value + 1 RETURNING value",
            (sequence,),
        ).fetchone()
        return int(row[0])

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
            cursor = self.conn.execute(
                "INSERT INTO snapshots VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (kind, id, new_version, _json(snapshot)),
            )
        else:
            cursor = self.conn.execute(
                "UPDATE snapshots SET version = %s, data = %s "
                "WHERE kind = %s AND id = %s AND version = %s",
                (new_version, _json(snapshot), kind, id, expected_version),
            )
        if cursor.rowcount != 1:
            row = self.conn.execute(
                "SELECT version FROM snapshots WHERE kind = %s AND id = %s", (kind, id)
            ).fetchone()
            raise ConflictError(
                f"{kind} {id} is at version {0 if row is None else row[0]}, not "
                f"{expected_version}: someone else changed it; read it again and retry"
            )
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO events VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [(kind, id, e["version"], e["type"], e["at"], e["by"], _json(e["data"]))
                 for e in events],
            )  # fmt: skip
        if index is not None:
            self.conn.execute(
                "INSERT INTO case_index VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
                "engineer = excluded.engineer, accepted_at = excluded.accepted_at, "
                "priority = excluded.priority, next_alert_at = excluded.next_alert_at, "
                "followed_up_at = excluded.followed_up_at",
                (id, index.number, index.status, index.engineer, index.reported_at,
                 index.serial, index.fault_code, index.accepted_at, index.priority,
                 index.next_alert_at, index.followed_up_at, index.rework_of),
            )  # fmt: skip

    def sent_keys(self, case_ids: Sequence[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        rows = self.conn.execute(
            "SELECT case_id, key FROM sent WHERE case_id = ANY(%s)", (list(case_ids),)
        )
        for case_id, key in rows:
            found.setdefault(case_id, set()).add(key)
        return found

    def record_sent(self, sent: Sequence[SentNotification]) -> int:
        recorded = 0
        for s in sent:
            cursor = self.conn.execute(
                "INSERT INTO sent VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (s.case_id, s.key, s.at, _json(s.notification)),
            )
            recorded += cursor.rowcount
        return recorded

    def enqueue(self, items: Sequence[OutboxItem]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO outbox (id, plugin, notification, created_at, next_try_at, "
                "attempts, status) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [(i.id, i.plugin, _json(i.notification), i.created_at, i.next_try_at,
                  i.attempts, i.status) for i in items],
            )  # fmt: skip

    def claim(
        self, now: str, lease_until: str, plugins: Sequence[str], limit: int
    ) -> list[OutboxItem]:
        rows = self.conn.execute(
            f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE status = 'pending' "
            "AND next_try_at <= %s AND plugin = ANY(%s) "
            'ORDER BY next_try_at COLLATE "C", seq LIMIT %s FOR UPDATE SKIP LOCKED',
            (now, list(plugins), limit),
        ).fetchall()
        items = [attrs.evolve(outbox_item(r), next_try_at=lease_until) for r in rows]
        with self.conn.cursor() as cur:
            cur.executemany(
                "UPDATE outbox SET next_try_at = %s WHERE id = %s",
                [(lease_until, i.id) for i in items],
            )
        return items

    def settle(self, items: Sequence[OutboxItem]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(
                "UPDATE outbox SET attempts = %s, status = %s, next_try_at = %s, "
                "last_error = %s, delivered_at = %s WHERE id = %s",
                [(i.attempts, i.status, i.next_try_at, i.last_error, i.delivered_at, i.id)
                 for i in items],
            )  # fmt: skip

    def prune_outbox(self, before: str) -> int:
        with self.conn.cursor() as cur:
            cur.execute(
                "DELETE FROM outbox WHERE status = 'delivered' AND delivered_at < %s", (before,)
            )
            deleted: int = cur.rowcount
            return deleted

    def set_next_alert(self, moments: Sequence[tuple[str, str | None]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(
                "UPDATE case_index SET next_alert_at = %s WHERE id = %s",
                [(at, case_id) for case_id, at in moments],
            )


def open_postgres(url: str) -> PostgresStorage:
    return PostgresStorage(url)


@hookimpl
def aftersales_storage_backends(register: StorageRegistrar) -> None:
    register("postgresql", open_postgres)
    register("postgres", open_postgres)
