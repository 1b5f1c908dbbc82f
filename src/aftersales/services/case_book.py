"""Reading cases: by id, by number, their events, and searches of the case index. The
services below the workflow (parts, training, safety, expenses, appraisals, the tick) read
cases through this; ``desk.cases`` is this plus the workflow (:mod:`.cases`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

import attrs

from aftersales.core import values
from aftersales.core.boundary import public_api
from aftersales.core.convert import from_dict
from aftersales.core.errors import NotFound, ValidationError
from aftersales.core.model import Case, CaseEvent
from aftersales.core.values import shown
from aftersales.core.workflow import OPEN, STATUSES
from aftersales.policy import Policy
from aftersales.ports.storage import CaseQuery, Record, utc_text
from aftersales.services.basis import Basis
from aftersales.services.bulk import gc_paused
from aftersales.services.cache import SnapshotCache

KIND = "case"
SCAN_PAGE = 500  # cases a scan reads at a time: ~5 MB decoded


@public_api("desk.cases")
class CaseBook:
    def __init__(self, basis: Basis, *, cache: SnapshotCache[Case] | None = None) -> None:
        self._basis = basis
        self._cache = cache or SnapshotCache(basis.storage, KIND, Case)

    def rules(self, case: Case) -> Policy:
        """The policy ``case`` is under (its version, stored by the desk): where every rule
        applied to an existing case comes from, whatever policy the desk was opened with."""
        return self._basis.policies.rules(case)

    def get(self, case_id: str) -> Case:
        """The current case; NotFound if there is none with that id."""
        case = self._cache.get(case_id)
        if case is None:
            raise NotFound(f"no case {shown(case_id)}")
        return case

    def decode(self, record: Record, *, keep: bool = True) -> Case:
        """The case a stored snapshot holds (reusing this desk's copy of that version);
        ``keep=False``: without keeping it for the next read (one pass over many cases)."""
        return self._cache.decode(record, keep=keep)

    def by_ref(self, ref: str) -> Case:
        """The case ``ref`` names: its number (``AS-2026-000123``, any case) or its id; what
        the command line, the HTTP API and the board take."""
        if isinstance(ref, str) and ref.upper().startswith("AS-"):
            return self.by_number(ref.upper())
        return self.get(ref)

    def by_number(self, number: str) -> Case:
        """The case with the human number ``AS-2026-000123``; NotFound if there is none."""
        number = values.name(number, "a case number")
        found = self._basis.storage.find_cases(CaseQuery(number=number))
        if not found:
            raise NotFound(f"no case numbered {shown(number)}")
        return from_dict(Case, found[0].data)

    def history(self, case_id: str) -> list[CaseEvent]:
        """Every event of the case, oldest first."""
        stored = self._basis.storage.events(KIND, case_id)
        if not stored:
            raise NotFound(f"no case {shown(case_id)}")
        return [
            CaseEvent(
                case_id, e["version"], e["type"], from_dict(datetime, e["at"]), e["by"], e["data"]
            )
            for e in stored
        ]

    def find(
        self,
        *,
        status: str | Iterable[str] | None = None,
        engineer: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        newest_first: bool = False,
        after: str | None = None,
    ) -> list[Case]:
        """Cases by status (one or several), assigned engineer, and report time
        (``since`` inclusive, ``until`` exclusive), oldest report first (``newest_first``:
        latest first, so ``limit`` keeps the latest). ``after`` (a case id, say the last
        of the previous page) starts after that case in this order: a cursor that, unlike
        counting pages, neither skips nor repeats a case when new ones are reported. The
        whole result is a list: to go through more cases than fit in memory, :meth:`scan`
        them."""
        if limit is not None:
            limit = values.count(limit, "limit", minimum=1)
        query = self._query(status, engineer, since, until, newest_first, after)
        return list(self._pages(query, SCAN_PAGE, limit))

    def scan(
        self,
        *,
        status: str | Iterable[str] | None = None,
        engineer: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        newest_first: bool = False,
        after: str | None = None,
        page: int = SCAN_PAGE,
    ) -> Iterator[Case]:
        """The cases :meth:`find` finds, one at a time, in the same order: read from the
        store ``page`` cases at a time (each page a query that starts after the last case
        of the one before), so memory stays that of one page whatever the store holds. A
        case reported while the scan runs is met once or not at all; each case is as it was
        when its page was read. The arguments are checked when ``scan`` is called."""
        query = self._query(status, engineer, since, until, newest_first, after)
        return self._pages(query, values.count(page, "page", minimum=1), None)

    def _query(
        self,
        status: str | Iterable[str] | None,
        engineer: str | None,
        since: datetime | None,
        until: datetime | None,
        newest_first: bool,
        after: str | None = None,
    ) -> CaseQuery:
        """The query of a search, its arguments checked (NotFound for an ``after`` case
        that does not exist)."""
        statuses = None
        if status is not None:
            statuses = (
                (status,) if isinstance(status, str) else tuple(values.items(status, "status"))
            )
            for one in statuses:
                if one not in STATUSES:
                    raise ValidationError(
                        f"unknown status {shown(one)}; statuses: {', '.join(STATUSES)}"
                    )
        return CaseQuery(
            status=statuses,
            engineer=values.name(engineer, "engineer", required=False),
            since=None if since is None else utc_text(self._basis.at(since)),
            until=None if until is None else utc_text(self._basis.at(until)),
            newest_first=values.flag(newest_first, "newest_first"),
            after=None if after is None else _key(self.get(after)),
        )

    def matching(self, query: CaseQuery, page: int = SCAN_PAGE) -> Iterator[Case]:
        """The cases a storage query finds (its ``limit`` kept), in its order, read and
        decoded ``page`` at a time: how the services read more cases than they keep, and
        without keeping them in the desk's cache."""
        return self._pages(query, page, query.limit)

    def _pages(self, query: CaseQuery, page: int, limit: int | None) -> Iterator[Case]:
        """The cases of ``query``, ``page`` at a time, ``limit`` in all (None: every one)."""
        storage = self._basis.storage
        after = query.after
        while True:
            wanted = page if limit is None else min(page, limit)
            records = storage.find_cases(attrs.evolve(query, after=after, limit=wanted))
            with gc_paused():
                cases = [self.decode(r, keep=False) for r in records]
            del records  # the rows go before the page's cases are handed out
            yield from cases
            if limit is not None:
                limit -= len(cases)
            if len(cases) < wanted or limit == 0:
                return
            after = _key(cases[-1])

    def open(self, *, engineer: str | None = None) -> list[Case]:
        """Cases not yet closed or cancelled."""
        return self.find(status=OPEN, engineer=engineer)


def _key(case: Case) -> tuple[str, str]:
    """Where ``case`` stands in the index's report-time order."""
    return utc_text(case.reported_at), case.id


__all__ = ["KIND", "SCAN_PAGE", "CaseBook"]
