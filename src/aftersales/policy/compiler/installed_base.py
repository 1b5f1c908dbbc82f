"""The installed-base statements: ``sales warranty``, ``fault family`` and ``maintenance``
plans."""

from __future__ import annotations

from decimal import Decimal

from lark import Token, Tree

from aftersales.core.duration import UNIT_WORDS, Duration, Unit
from aftersales.policy.compiler.base import (
    Built,
    Node,
    subtree_of,
    subtrees_of,
    token_of,
    tokens_of,
)
from aftersales.policy.compiler.operations import Operations
from aftersales.policy.expressions import unquote
from aftersales.policy.model import FaultFamily, MaintenancePlan, SalesWarrantyRule

MAX_HOURS = Decimal(1_000_000)
"""The largest operating-hour figure a rule may name (a machine's whole life is far less)."""


class InstalledBaseSection(Operations):
    """Compiles what the policy says of machines rather than of cases."""

    def line_of_rule(self, tree: Tree[Token]) -> str | None:
        """The product line a ``for line X`` clause names (None: no clause)."""
        clause = subtree_of(tree, "line_clause")
        if clause is None:
            return None
        tok = clause.children[0]
        assert isinstance(tok, Token)
        text = unquote(tok, self.r) if tok.type == "STRING" else str(tok)
        if not text.strip():
            self.error(tok, "the line is empty", 'name the product line: for line "excavator"')
        return text

    def hours_term(self, tree: Tree[Token]) -> Decimal | None:
        """The figure of ``N operating hours``; an error for any other unit."""
        number, unit = tree.children
        assert isinstance(number, Token) and isinstance(unit, Token)
        if UNIT_WORDS[str(unit)] is not Unit.HOUR:
            self.error(
                unit,
                f"operating time is counted in hours, not {unit}",
                f"write {number} operating hours",
            )
            return None
        value = Decimal(str(number))
        if not 0 < value <= MAX_HOURS:
            self.error(
                number,
                f"{number} operating hours is out of range",
                f"write a figure above 0 and at most {MAX_HOURS:,}",
            )
            return None
        return value

    def terms(
        self, tree: Tree[Token], what: str
    ) -> tuple[bool, Decimal | None, tuple[Node, Duration] | None]:
        """The one or two terms of ``A [or B]``: at most one of operating hours and one of
        calendar time. Returns (ok, hours, (node, duration))."""
        hours: Decimal | None = None
        period: tuple[Node, Duration] | None = None
        ok = True
        for term in subtrees_of(tree, "operating_hours", "duration"):
            if term.data == "operating_hours":
                if hours is not None:
                    self.error(
                        term,
                        f"{what} names operating hours twice",
                        "give one figure of hours and one of months",
                    )
                    ok = False
                value = self.hours_term(term)
                ok = ok and value is not None
                hours = value if value is not None else hours
                continue
            duration = self.duration(term)
            if duration is None:
                ok = False
            elif period is not None:
                self.error(
                    term,
                    f"{what} names calendar time twice",
                    "give one period (6 months) and one figure of operating hours",
                )
                ok = False
            elif duration.working:
                self.error(
                    term,
                    f"{what} runs on the calendar, not in working time",
                    f"write {duration.amount} {duration.unit.value}s",
                )
                ok = False
            else:
                period = (term, duration)
        return ok, hours, period

    # -- sales warranty ------------------------------------------------------------------------
    def sales_warranty_stmt(self, tree: Tree[Token], built: Built) -> None:
        line = self.line_of_rule(tree)
        ok, hours, period = self.terms(tree, "a sales warranty")
        months: int | None = None
        if period is not None:
            node, duration = period
            if duration.unit not in (Unit.MONTH, Unit.YEAR):
                self.error(
                    node,
                    f"a sales warranty counts months or years, not {duration.unit.value}s",
                    "write 24 months or 2 years",
                )
                ok = False
            else:
                months = int(duration.amount) * (12 if duration.unit is Unit.YEAR else 1)
        if not ok or not self.once(
            ("sales warranty", line or ""),
            tree,
            "a sales warranty " + (f"for line {line}" if line else "for every line"),
        ):
            return
        built.sales_warranties.append(
            SalesWarrantyRule(months, None if hours is None else float(hours), line, self.loc(tree))
        )

    # -- fault families ------------------------------------------------------------------------
    def fault_family_stmt(self, tree: Tree[Token], built: Built) -> None:
        name_tok, *code_toks = tokens_of(tree, "STRING")
        name = unquote(name_tok, self.r).strip()
        if not name:
            self.error(name_tok, "a fault family needs a name", 'fault family "hydraulics": ...')
            return
        if not self.once(("fault family", name), tree, f'the fault family "{name}"'):
            return
        codes: list[str] = []
        for tok in code_toks:
            code = unquote(tok, self.r).strip()
            if not code:
                self.error(tok, "a fault code is empty", 'write the code: "HYD-PUMP"')
                continue
            if code in codes:
                self.error(tok, f'the fault code "{code}" is listed twice')
                continue
            other = next((f for f in built.fault_families if code in f.codes), None)
            if other is not None:
                self.error(
                    tok,
                    f'the fault code "{code}" is in two families',
                    f'it is in "{other.name}" at {other.location}',
                )
                continue
            codes.append(code)
        if not codes:
            return
        built.fault_families.append(FaultFamily(name, tuple(codes), self.loc(tree)))

    # -- maintenance plans ---------------------------------------------------------------------
    def maintenance_block(self, tree: Tree[Token], built: Built) -> None:
        name_tok = token_of(tree, "STRING")
        assert name_tok is not None
        name = unquote(name_tok, self.r).strip()
        line = self.line_of_rule(tree)
        ok, hours, period = self.terms(tree, "a maintenance plan")
        if not name:
            self.error(
                name_tok,
                "a maintenance plan needs a name",
                'maintenance "500-hour service" for line ...',
            )
            return
        if not self.once(("maintenance", name), tree, f'the maintenance plan "{name}"'):
            return
        every = None if period is None else period[1]
        if every is not None and every.unit in (Unit.MINUTE, Unit.HOUR):
            self.error(
                period[0] if period else tree,
                "a maintenance plan falls due by days, weeks, months or years on the "
                "calendar, or by operating hours",
                f"write {every.amount} operating hours, or a period such as 6 months",
            )
            ok = False
        checklist: list[str] = []
        kit: list[tuple[str, int]] = []
        window: Duration | None = None
        for item in tree.children:
            if not isinstance(item, Tree) or item.data not in (
                "checklist_stmt",
                "kit_stmt",
                "window_stmt",
            ):
                continue
            if not self.once(
                (f"maintenance {name}", item.data),
                item,
                f"{item.data.removesuffix('_stmt')} of this plan",
            ):
                continue
            if item.data == "checklist_stmt":
                checklist.extend(self._checklist(item))
            elif item.data == "kit_stmt":
                kit.extend(self._kit(item))
            else:
                window = self.duration(subtree_of(item, "duration"))
                if window is not None and window.working:
                    self.calendar_refs.append((None, item))
        if window is None:
            self.error(
                tree,
                f'the maintenance plan "{name}" has no window',
                "add `window 10 working days`: how long a due visit may take",
            )
            ok = False
        if not ok or line is None or window is None:
            return
        built.maintenance.append(
            MaintenancePlan(
                name,
                line,
                None if hours is None else float(hours),
                every,
                window,
                tuple(checklist),
                tuple(kit),
                self.loc(tree),
            )
        )

    def _checklist(self, item: Tree[Token]) -> list[str]:
        out: list[str] = []
        for tok in tokens_of(item, "STRING"):
            text = unquote(tok, self.r).strip()
            if not text:
                self.error(tok, "a checklist item is empty")
            elif text in out:
                self.error(tok, f'the checklist item "{text}" is listed twice')
            else:
                out.append(text)
        return out

    def _kit(self, item: Tree[Token]) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        for part in subtrees_of(item, "kit_item"):
            sku_tok = token_of(part, "STRING")
            qty_tok = token_of(part, "NUMBER")
            assert sku_tok is not None
            sku = unquote(sku_tok, self.r).strip()
            quantity = 1
            if qty_tok is not None:
                if "." in qty_tok or not 1 <= int(qty_tok) <= 10_000:
                    self.error(
                        qty_tok, f"a kit quantity is a whole number from 1 to 10,000, not {qty_tok}"
                    )
                    continue
                quantity = int(qty_tok)
            if not sku:
                self.error(sku_tok, "a kit part's SKU is empty", 'write "FILTER-9" 2')
            elif any(s == sku for s, _ in out):
                self.error(
                    sku_tok,
                    f'the part "{sku}" is in the kit twice',
                    "give it once with its quantity",
                )
            else:
                out.append((sku, quantity))
        return out


__all__ = ["InstalledBaseSection"]
