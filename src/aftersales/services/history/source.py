"""A history file read case by case, in memory that does not grow with the file.

Exports list a case's rows together (the Volvo log, a desk's own export) or in time order
(an audit trail: every case's rows interleaved). :func:`open_history` first reads the file
once, cheaply (the case and time columns only), to learn which: rows that are together are
then streamed case by case straight from the file; rows that are not are first copied into
a temporary SQLite file (from the standard library) and read back case by case, in the
order each case first appears. Either way each row keeps its line in the original file, for
the rejects. The first read also counts the cases (for progress bars) and finds the latest
time stamped in the file: where the clocks of cases still open are read by default.

A reader can take a share of the cases (``share=(k, n)``: the k-th of every n cases), so n
processes can each judge their part of one file.
"""

from __future__ import annotations

import csv
import gzip
import json
import lzma
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO
from zoneinfo import ZoneInfo

from aftersales.core.errors import ValidationError
from aftersales.services.history.mapping import HistoryMapping
from aftersales.services.history.timeline import Skipped, TimelineRow, timeline_of

Share = tuple[int, int]
EVERYTHING: Share = (0, 1)


def open_text(path: str | Path) -> AbstractContextManager[IO[str]]:
    """A CSV file for reading, uncompressed or as ``.gz``/``.xz``."""
    file = Path(path)
    if not file.is_file():
        raise ValidationError(f"no file {str(file)!r} (a history: .csv, .csv.gz or .csv.xz)")
    # utf-8-sig: spreadsheet programs start their CSV exports with a byte-order mark
    if file.suffix == ".xz":
        return lzma.open(file, "rt", encoding="utf-8-sig", newline="")
    if file.suffix == ".gz":
        return gzip.open(file, "rt", encoding="utf-8-sig", newline="")
    return open(file, encoding="utf-8-sig", newline="")


@contextmanager
def _reading(path: str | Path) -> Iterator[None]:
    """A file that is no UTF-8 CSV (or no xz/gz) is one ValidationError."""
    try:
        yield
    except (UnicodeDecodeError, lzma.LZMAError, gzip.BadGzipFile, EOFError, csv.Error) as exc:
        raise ValidationError(f"cannot read {path} as CSV text (UTF-8): {exc}") from None


def _cell(cells: list[str], index: int | None) -> str:
    """A row's cell at ``index``, stripped ("" where the row is short or has no such column)."""
    return cells[index].strip() if index is not None and index < len(cells) else ""


class HistoryFile:
    """A history file opened for reading case by case (see the module). Use it in a
    ``with`` block: a temporary copy it made is removed at the end."""

    def __init__(self, path: str | Path, mapping: HistoryMapping | None, zone: ZoneInfo) -> None:
        self.path = Path(path)
        self.mapping = mapping
        self.zone = mapping.zone(zone) if mapping is not None else zone
        self.rows = 0
        self.cases = 0
        self.last: datetime | None = None  # the latest time stamped in the file
        self.grouped = True  # each case's rows are together
        self._spill: Path | None = None
        self._dir: str | None = None
        self.header: tuple[str, ...] = ()
        self._survey()
        if not self.grouped:
            self._copy_grouped()

    # -- the first read -------------------------------------------------------------------------
    def _columns(self) -> tuple[str, str]:
        columns = self.mapping.columns if self.mapping is not None else {}
        return columns.get("case", "case"), columns.get("time", "time")

    def _survey(self) -> None:
        case_column, time_column = self._columns()
        seen: set[str] = set()
        current = None
        with _reading(self.path), open_text(self.path) as handle:
            reader = csv.reader(handle)
            self.header = tuple(next(reader, ()))
            ci = self.header.index(case_column) if case_column in self.header else None
            ti = self.header.index(time_column) if time_column in self.header else None
            for cells in reader:
                self.rows += 1
                key = _cell(cells, ci)
                if key and key != current:
                    if key in seen:
                        self.grouped = False
                    else:
                        seen.add(key)
                    current = key
                if ti is not None and ti < len(cells):
                    self._stamp(cells[ti])
        self.cases = len(seen)

    def _stamp(self, text: str) -> None:
        try:
            at = datetime.fromisoformat(text.strip())
        except ValueError:
            return  # the row's own reading says why
        if at.tzinfo is None:
            at = at.replace(tzinfo=self.zone)
        if self.last is None or at.timestamp() > self.last.timestamp():  # instants, not clocks
            self.last = at

    def _copy_grouped(self) -> None:
        """Rows of one case apart: a copy in SQLite, read back case by case."""
        case_column, _ = self._columns()
        ci = self.header.index(case_column)
        self._dir = tempfile.mkdtemp(prefix="aftersales-history-")
        self._spill = Path(self._dir) / "rows.db"
        order: dict[str, int] = {}
        with _reading(self.path), open_text(self.path) as handle, self._connect() as db:
            reader = csv.reader(handle)
            next(reader, None)
            db.execute("CREATE TABLE rows (ordinal INTEGER, line INTEGER, cells TEXT)")

            def numbered() -> Iterator[tuple[int, int, str]]:
                for line, cells in enumerate(reader, start=2):
                    key = _cell(cells, ci)
                    ordinal = order.setdefault(key, len(order)) if key else 0
                    yield ordinal, line, json.dumps(cells, ensure_ascii=False)

            db.executemany("INSERT INTO rows VALUES (?, ?, ?)", numbered())
            db.execute("CREATE INDEX rows_by_case ON rows (ordinal, line)")

    def _connect(self) -> sqlite3.Connection:
        assert self._spill is not None
        return sqlite3.connect(self._spill, isolation_level=None)

    # -- reading --------------------------------------------------------------------------------
    def numbered(self, share: Share = EVERYTHING) -> Iterator[tuple[int, dict[str, str]]]:
        """``(line, row)`` of every row of the share's cases, each case's rows together;
        rows without a case belong to the first share."""
        k, n = share
        if self._spill is not None:
            with self._connect() as db:
                query = "SELECT line, cells FROM rows WHERE ordinal % ? = ? ORDER BY ordinal, line"
                for line, cells in db.execute(query, (n, k)):
                    yield line, dict(zip(self.header, json.loads(cells), strict=False))
            return
        case_column, _ = self._columns()
        ci = self.header.index(case_column) if case_column in self.header else None
        ordinal, current = -1, None
        with _reading(self.path), open_text(self.path) as handle:
            reader = csv.reader(handle)
            next(reader, None)
            for line, cells in enumerate(reader, start=2):
                key = _cell(cells, ci)
                if key and key != current:
                    ordinal, current = ordinal + 1, key
                if (max(ordinal, 0) if key else 0) % n == k:
                    yield line, dict(zip(self.header, cells, strict=False))

    def timeline(self, share: Share = EVERYTHING) -> Iterator[TimelineRow | Skipped]:
        """The timeline rows of the share's cases (through the mapping, if there is one)."""
        with _reading(self.path):
            if self.mapping is not None:
                yield from self.mapping.timeline_of(self.numbered(share), self.zone, self.header)
            else:
                yield from timeline_of(self.numbered(share), self.zone, self.header)

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = self._spill = None

    def __enter__(self) -> HistoryFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_history(path: str | Path, mapping: HistoryMapping | None, zone: ZoneInfo) -> HistoryFile:
    """A history file for reading case by case: the timeline format, or an export read
    through ``mapping``; naive times in ``zone`` unless the mapping names one."""
    return HistoryFile(path, mapping, zone)


def in_order(rows: Iterable[TimelineRow]) -> list[TimelineRow]:
    """One case's rows in time order, its report first: what is stamped before the report is
    moved up to it (the import says so)."""
    ordered = sorted(rows, key=lambda r: (r.at.timestamp(), r.line))  # instants, not wall clocks
    first = next((r for r in ordered if r.action == "report"), None)
    if first is not None and first is not ordered[0]:
        ordered.remove(first)
        ordered.insert(0, first)
    return ordered


__all__ = ["EVERYTHING", "HistoryFile", "Share", "in_order", "open_history", "open_text"]
