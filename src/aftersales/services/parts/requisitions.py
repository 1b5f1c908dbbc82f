"""Requisitions: engineers ask for parts for a case, approvers approve, the store issues,
and the parts a case used or returned are tracked to it."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from aftersales.core.boundary import public_api
from aftersales.core.errors import (
    ValidationError,
)
from aftersales.core.model import Case
from aftersales.core.parts import (
    REQUISITION_STATES,
    CaseParts,
    Movement,
    Requisition,
    RequisitionLine,
    apply,
    approved_requisition,
    check_requisition_move,
    issued_requisition,
    rejected_requisition,
)
from aftersales.core.permissions import permit
from aftersales.core.values import shown
from aftersales.ports.storage import Transaction
from aftersales.services.ids import uuid7
from aftersales.services.parts.base import (
    UNACCOUNTED_AFTER,
    Consumption,
    checked_text,
    lines_of,
)
from aftersales.services.parts.stock import Stock


@public_api("desk.parts")
class Requisitions(Stock):
    # -- requisitions -------------------------------------------------------------------------
    def request(
        self,
        case_id: str,
        lines: Iterable[Mapping[str, Any]],
        *,
        by: str,
        at: datetime | None = None,
    ) -> Requisition:
        """The case's assigned engineer asks for parts (``[{"sku": ..., "quantity": ...}]``).
        The policy's ``approve requisition`` rules pick who must approve; with none matching,
        it is approved at once."""
        case = self._cases.get(case_id)
        permit(self._staff.actor(by), "parts.request", f"request parts for {case.number}",
               related=case.engineer == by,
               who=f"its engineer ({case.engineer or 'none yet'})")  # fmt: skip
        wanted = [
            RequisitionLine(sku, quantity) for sku, quantity in lines_of(lines, "a requisition")
        ]
        value = sum((self.part(li.sku).unit_cost * li.quantity for li in wanted), Decimal(0))
        rules = self._basis.policy.parts
        # money in conditions is an amount in the policy's currency (checked when it loads)
        record = {"value": value, "quantity": sum(li.quantity for li in wanted)}
        rule = rules.requisition_approval_for(record) if rules is not None else None
        chain = rule.chain if rule is not None else ()  # a rule without "when" holds always
        when = self._basis.at(at)
        requisition = Requisition(
            uuid7(), case_id, by, tuple(wanted), value, tuple(chain),
            None if not chain or rule is None else rule.location,
            "requested" if chain else "approved", when, version=1,
        )  # fmt: skip
        self._save_requisition(None, requisition, "requested", by, when)
        return requisition

    def requisition(self, id: str) -> Requisition:
        return self._requisitions.get(id)

    def requisitions(self, *, status: str | None = None) -> builtins.list[Requisition]:
        if status is not None and status not in REQUISITION_STATES:
            raise ValidationError(
                f"unknown requisition status {shown(status)}; statuses: "
                f"{', '.join(REQUISITION_STATES)}"
            )
        found = self._requisitions.all()
        return sorted(
            (r for r in found if status is None or r.status == status),
            key=lambda r: r.requested_at,
        )

    def approve(self, id: str, *, by: str, at: datetime | None = None) -> Requisition:
        """Approve the next step of the chain: ``by`` holds that role, did not ask for the
        parts, and did not approve an earlier step."""
        req = self.requisition(id)
        when = self._basis.at(at)
        after = approved_requisition(req, self._staff.actor(by), when)
        self._save_requisition(req, after, "approved", by, when)
        return after

    def reject(self, id: str, *, by: str, reason: str, at: datetime | None = None) -> Requisition:
        req = self.requisition(id)
        when = self._basis.at(at)
        reason = checked_text(reason, "the reason")
        after = rejected_requisition(req, self._staff.actor(by), reason)
        self._save_requisition(req, after, "rejected", by, when)
        return after

    def issue(
        self, id: str, *, from_location: str, by: str, to_location: str | None = None,
        at: datetime | None = None,
    ) -> Requisition:  # fmt: skip
        """A storekeeper issues an approved requisition: every line moves from
        ``from_location`` to the engineer's van (or ``to_location``), in one transaction."""
        self._actor(by, "parts.issue", "issue parts")
        req = self.requisition(id)
        check_requisition_move(req, "issue")  # before the locations are looked up
        target = to_location or self._van(req.engineer)
        self.location(from_location)
        self.location(target)
        when = self._basis.at(at)
        moves = []
        for line in req.lines:
            part = self.part(line.sku)
            movement = Movement(part.sku, part.version + 1, "issued", when, by, line.quantity,
                                location=from_location, to_location=target,
                                case_id=req.case_id)  # fmt: skip
            moved = apply(part, movement)  # refuses before writing
            # what is issued is no longer held for the requisition
            moved = attrs.evolve(moved, reserved=max(0, part.reserved - line.quantity))
            moves.append((part, moved, movement))
        ledger = self._case_parts(req.case_id)
        issued = dict(ledger.issued)
        for line in req.lines:
            issued[line.sku] = issued.get(line.sku, 0) + line.quantity
        after_ledger = attrs.evolve(ledger, location=target, issued=issued, last_issued_at=when,
                                    version=ledger.version + 1)  # fmt: skip
        after = issued_requisition(req, target)
        with self._moving(moves, when) as tx:
            self._append_ledger(tx, ledger, after_ledger, "issued", by, when)
            self._requisitions.save(req, after, "issued", by, when, {"to": target}, tx=tx)
        return after

    def return_parts(
        self, case_id: str, lines: Iterable[Mapping[str, Any]], *, to_location: str, by: str,
        at: datetime | None = None,
    ) -> CaseParts:  # fmt: skip
        """Bring back parts issued for a case and not used."""
        ledger = self._case_parts(case_id)
        case = self._cases.get(case_id)
        if by != case.engineer:
            self._actor(by, "parts.return_parts", "return parts")
        self.location(to_location)
        when = self._basis.at(at)
        returned = dict(ledger.returned)
        moves = []
        for sku, quantity in lines_of(lines, "a return"):
            if ledger.outstanding(sku) < quantity:
                raise ValidationError(
                    f"only {ledger.outstanding(sku)} of {sku} issued for {case.number} are "
                    f"neither used nor returned; cannot return {quantity}"
                )
            part = self.part(sku)
            movement = Movement(sku, part.version + 1, "returned", when, by, quantity,
                                location=ledger.location, to_location=to_location,
                                case_id=case_id)  # fmt: skip
            moves.append((part, apply(part, movement), movement))
            returned[sku] = returned.get(sku, 0) + quantity
        after_ledger = attrs.evolve(ledger, returned=returned, version=ledger.version + 1)
        with self._moving(moves, when) as tx:
            self._append_ledger(tx, ledger, after_ledger, "returned", by, when)
        return after_ledger

    def case_parts(self, case_id: str) -> CaseParts:
        """What the case got from stock, used and returned."""
        return self._case_parts(case_id)

    def consumption(
        self, case: Case, parts_used: Iterable[Mapping[str, Any]], by: str, at: datetime
    ) -> Consumption | None:
        """Check that a repair's ``parts_used`` were issued for the case (catalog parts only:
        a part the desk does not stock is recorded on the repair report as given), and return
        what writes their consumption in the repair's own transaction, with the reorder
        notices the stock they take away calls for (sent with the repair, as every other
        movement sends its own)."""
        ledger = self._case_parts(case.id)
        consumed = dict(ledger.consumed)
        moves = []
        for item in parts_used:
            sku, quantity = str(item["sku"]), int(item["quantity"])
            if self._basis.storage.version("part", sku) is None:
                continue
            if ledger.outstanding(sku) < quantity:
                raise ValidationError(
                    f"{case.number} used {quantity} of {sku}, but only "
                    f"{ledger.outstanding(sku)} were issued for it and not used or returned; "
                    "request and issue the parts first"
                )
            part = self.part(sku)
            movement = Movement(sku, part.version + 1, "consumed", at, by, quantity,
                                location=ledger.location, case_id=case.id)  # fmt: skip
            moves.append((part, apply(part, movement), movement))
            consumed[sku] = consumed.get(sku, 0) + quantity
        if not moves:
            return None
        after_ledger = attrs.evolve(ledger, consumed=consumed, version=ledger.version + 1)

        def write(tx: Transaction) -> None:  # inside the repair's own transaction
            self._write_moves(tx, moves)
            self._append_ledger(tx, ledger, after_ledger, "consumed", by, at)

        notes = self._reorder_notes([(before, part_after) for before, part_after, _ in moves], at)
        return Consumption(write, tuple(notes))

    def unaccounted(
        self, *, now: datetime | None = None, after: timedelta = UNACCOUNTED_AFTER
    ) -> builtins.list[tuple[str, str, str, int]]:
        """Parts issued for a case more than ``after`` ago and neither used nor returned:
        ``(engineer, case_id, sku, quantity)``, a variance against the engineer."""
        when = self._basis.at(now)
        rows = []
        for ledger in self._ledgers.all():
            if ledger.last_issued_at is None or when - ledger.last_issued_at < after:
                continue
            engineer = self._cases.get(ledger.case_id).engineer or "(none)"
            for sku in ledger.issued:
                if ledger.outstanding(sku) > 0:
                    rows.append((engineer, ledger.case_id, sku, ledger.outstanding(sku)))
        return sorted(rows)

    def _van(self, engineer: str) -> str:
        vans = self._locations.all()
        for van in vans:
            if van.kind == "van" and van.engineer == engineer:
                return van.id
        raise ValidationError(f"{engineer} has no van; give to_location= for the issue")

    def _case_parts(self, case_id: str) -> CaseParts:
        return self._ledgers.find(case_id) or CaseParts(case_id)

    def _append_ledger(
        self, tx: Transaction, before: CaseParts, after: CaseParts, kind: str, by: str,
        at: datetime,
    ) -> None:  # fmt: skip
        self._ledgers.save(before, after, kind, by, at, tx=tx)

    def _save_requisition(
        self, before: Requisition | None, req: Requisition, kind: str, by: str, at: datetime
    ) -> None:
        """Store a requisition; one that becomes approved reserves its parts, in the same
        transaction."""
        reserve = req.status == "approved" and kind in ("requested", "approved")
        parts = [(self.part(line.sku), line.quantity) for line in req.lines] if reserve else []
        with self._basis.storage.transaction() as tx:
            if before is None:
                self._requisitions.create(req, kind, by, at, tx=tx)
            else:
                self._requisitions.save(before, req, kind, by, at, tx=tx)
            for part, quantity in parts:
                after = attrs.evolve(part, reserved=part.reserved + quantity,
                                     version=part.version + 1)  # fmt: skip
                held = {"quantity": quantity, "requisition": req.id}
                self._catalog.save(part, after, "reserved", by, at, held, tx=tx)
