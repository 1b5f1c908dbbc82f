"""Stocktakes: count sheets, their settlement with a manager's approval, and reminders."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping
from datetime import datetime

import attrs

from aftersales.core.boundary import public_api
from aftersales.core.convert import from_dict
from aftersales.core.errors import (
    NotFound,
    ValidationError,
    WorkflowError,
)
from aftersales.core.model import Notification
from aftersales.core.parts import (
    CountLine,
    CountSheet,
    Movement,
    Part,
    apply,
)
from aftersales.core.permissions import not_own
from aftersales.core.values import shown
from aftersales.services.parts.base import (
    checked_text,
)
from aftersales.services.parts.stock import Stock


@public_api("desk.parts")
class Stocktake(Stock):
    # -- stocktake ----------------------------------------------------------------------------
    def count(
        self,
        location: str,
        counts: Mapping[str, int],
        *,
        by: str,
        at: datetime | None = None,
    ) -> CountSheet:
        """Record a count sheet for a location: every part the books hold there, and any
        counted there, against the books. Variances are settled with :meth:`settle`."""
        self._actor(by, "parts.count", "count stock")
        self.location(location)
        if not isinstance(counts, Mapping) or not all(isinstance(k, str) for k in counts):
            raise ValidationError("counts maps each SKU to the number counted: {'SEAL-9': 8}")
        books = {p.sku: p.on_hand.get(location, 0) for p in self.parts()}
        unknown = sorted(set(counts) - set(books))
        if unknown:
            raise NotFound(f"no part {shown(unknown[0])} in the catalog")
        for sku, n in counts.items():
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise ValidationError(f"count of {sku} must be a whole number, 0 or more")
        missing = sorted(sku for sku, n in books.items() if n and sku not in counts)
        if missing:
            raise ValidationError(
                f"the books hold {', '.join(missing)} at {location}: count them too (0 if gone)"
            )
        when = self._basis.at(at)
        lines = tuple(
            CountLine(sku, books[sku], counts.get(sku, 0))
            for sku in sorted(set(counts) | {s for s, n in books.items() if n})
        )
        sheet = CountSheet(f"{location}/{when.date().isoformat()}/{uuid.uuid4().hex[:6]}",
                           location, when, by, lines, version=1)  # fmt: skip
        return self._counts.create(sheet, "counted", by, when)

    def settle(
        self, sheet_id: str, *, reason: str, approved_by: str, by: str, at: datetime | None = None
    ) -> CountSheet:
        """Adjust the books to a count sheet: one adjustment per variance, each with the
        reason and a manager's approval (not the counter's own)."""
        sheet = self._counts.get(sheet_id)
        if sheet.settled_by is not None:
            raise WorkflowError(f"count sheet {sheet_id} is settled already")
        self._actor(by, "parts.settle", "settle a stocktake")
        approver = self._approver(approved_by)
        for who, role in ((by, "settle it"), (sheet.counted_by, "counted it")):
            not_own(approver, who, f"approve count sheet {sheet_id}: they {role}",
                    "another manager approves")  # fmt: skip
        reason = checked_text(reason, "the reason")
        when = self._basis.at(at)
        # Every adjustment and the settled mark go in one transaction: a failure writes
        # nothing, and a settled sheet can never be applied twice. Each variance is what
        # the count found wrong in the books, so it is applied to the books as they stand
        # now (moves since the count were real and stay).
        moves: builtins.list[tuple[Part, Part, Movement]] = []
        for line in sheet.variances:
            part = self.part(line.sku)
            movement = Movement(part.sku, part.version + 1, "adjusted", when, by,
                                abs(line.variance), location=sheet.location,
                                reason=f"stocktake {sheet_id}: {reason}",
                                approved_by=approver.id, increase=line.variance > 0)  # fmt: skip
            moves.append((part, apply(part, movement), movement))
        after = attrs.evolve(
            sheet, settled_by=approver.id, reason=reason, version=sheet.version + 1
        )
        with self._moving(moves, when) as tx:
            self._counts.save(sheet, after, "settled", by, when, tx=tx)
        return after

    def stocktake_due(self, now: datetime | None = None) -> builtins.list[tuple[str, datetime]]:
        """Locations whose last count is older than the policy's ``stocktake every`` (or that
        were never counted, then due from when they were added): ``(location, due)``."""
        rules = self._basis.policy.parts
        if rules is None or rules.stocktake_every is None:
            return []
        when = self._basis.at(now)
        last: dict[str, datetime] = {}
        for sheet in self._counts.all():
            if sheet.location not in last or sheet.counted_at > last[sheet.location]:
                last[sheet.location] = sheet.counted_at
        overdue = []
        for record in self._basis.storage.scan("location"):
            since = last.get(record.id)
            if since is None:
                events = self._basis.storage.events("location", record.id)
                since = from_dict(datetime, events[0]["at"])
            due = self._basis.policy.add(since, rules.stocktake_every)
            if due <= when:
                overdue.append((record.id, due))
        return overdue

    def remind_stocktakes(self, now: datetime | None = None) -> builtins.list[Notification]:
        """Send ``stocktake_due`` for each overdue location, once per location and due date
        (the SLA tick calls this); returns what it sent."""
        when = self._basis.at(now)
        rules = self._basis.policy.parts
        overdue = self.stocktake_due(when)
        if not overdue:  # the tick's usual case: no staff lookup
            return []
        people = tuple(self._staff.with_role("storekeeper", "manager"))
        rule = rules.location if rules is not None else None
        return self._notifications.once([
            (f"stocktake:{location}", due.isoformat(),
             Notification("stocktake_due", None, people,
                          f"stocktake of {location} was due {due:%Y-%m-%d}",
                          {"location": location, "due": due.isoformat(), "rule": rule}, when))
            for location, due in overdue
        ], when)  # fmt: skip
