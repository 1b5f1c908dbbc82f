"""Priorities and deadlines: priority rules, sla and repair blocks, warnings, excuses,
callbacks, warranty, escalation and hold reasons."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from lark import Token, Tree

from aftersales.core.vocabulary import AUTO_CLOSE_AFTER
from aftersales.policy import keywords as kw
from aftersales.policy.compiler.base import (
    Built,
    percent_of,
    subtree_of,
    subtrees_of,
    token_of,
    tokens_of,
)
from aftersales.policy.compiler.header import Header
from aftersales.policy.expressions import (
    located,
    unquote,
)
from aftersales.policy.functions import ValueType
from aftersales.policy.model import (
    AutoClose,
    Decision,
    PriorityRule,
    PriorityTable,
    Sla,
    Target,
    Warranty,
)

MAX_TABLE_CELLS = 10_000
"""Combinations one priority table may cover."""
_ANY = object()  # a ``*`` cell


def _cell_text(value: Any) -> str:
    if value is _ANY:
        return "*"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _combination(fields: Sequence[str], key: Sequence[Any]) -> str:
    return ", ".join(f"{f} = {_cell_text(v)}" for f, v in zip(fields, key, strict=True))


class Deadlines(Header):
    def priority_rules(
        self, rules: list[Tree[Token]], complete: bool, tables: Sequence[Tree[Token]] = ()
    ) -> list[PriorityRule]:
        """The ``priority ... when``/``otherwise`` rules, then the rows of the priority table
        (which decides whatever no rule matches)."""
        table_rules = self.priority_table(tables[0]) if tables else []
        for extra in tables[1:]:
            self.once(("section", "priority table"), tables[0], "")
            self.error(extra, "the priority table appears twice",
                       f"the first is at {self.loc(tables[0])}; merge them")  # fmt: skip
        if tables:
            for rule in rules:
                if isinstance(rule.children[2], Token) and rule.children[2].type == "OTHERWISE":
                    self.error(
                        rule,
                        "an otherwise rule leaves nothing for the priority table to decide",
                        f"remove it: the table at {self.loc(tables[0])} decides every case the "
                        "when rules do not",
                    )
            when_rules = self.when_rules(rules, complete=False)
            return [*when_rules, *table_rules]
        return self.when_rules(rules, complete)

    def when_rules(self, rules: list[Tree[Token]], complete: bool) -> list[PriorityRule]:
        out: list[PriorityRule] = []
        fields = self.case_fields()
        otherwise_at: Tree[Token] | None = None
        for rule in rules:
            name = self.name(rule.children[1], "priority")  # type: ignore[arg-type]
            body = rule.children[2]
            if otherwise_at is not None:
                self.error(
                    rule,
                    "this rule comes after an otherwise rule and never applies",
                    f"the otherwise rule is at {self.loc(otherwise_at)}; move it last",
                )
            if isinstance(body, Token) and body.type == "OTHERWISE":
                otherwise_at = otherwise_at or rule
                out.append(PriorityRule(name, None, self.loc(rule)))
            else:
                out.append(PriorityRule(name, self.condition(body, fields), self.loc(rule)))
        if complete and not rules:
            self.r.at(
                None,
                None,
                "the policy has no priority rules",
                "add at least: priority general otherwise",
            )
        elif rules and otherwise_at is None and complete:
            self.error(
                rules[-1],
                "the last priority rule must be an otherwise rule",
                f"add a final rule, such as: priority {out[-1].name if out else 'general'}"
                " otherwise",
            )
        return out

    def table_domain(self, tok: Token) -> tuple[Any, ...] | None:
        """The values a table column's field can take, or None (after an error)."""
        name = str(tok)
        if name in ("machine_down", "under_warranty") or self.custom.get(name) == ValueType.BOOL:
            return (True, False)
        domain: tuple[Any, ...] | None = {"severity": self.severities,
                                          "channel": kw.CHANNELS}.get(name)  # fmt: skip
        domain = domain or self.choices.get(name)
        if domain is None:
            flags = [n for n, t in self.custom.items() if t == ValueType.BOOL]
            known = ["severity", "channel", "machine_down", "under_warranty", *self.choices, *flags]
            self.error(
                tok,
                f'a priority table cannot tabulate "{name}": it has no fixed set of values',
                "tabulate " + ", ".join(known) + ", or declare the field in the fields block "
                f"as one of its values: {name if name.startswith('custom.') else 'custom.' + name}"
                " one of high, medium, low",
            )
        return domain

    def priority_table(self, tree: Tree[Token]) -> list[PriorityRule]:
        """``priority by F, G { a, b -> p ... }``, checked complete and without overlaps."""
        heads = [c for c in tree.children[1:] if isinstance(c, Token)]
        fields = [str(t) for t in heads]
        domains = [self.table_domain(t) for t in heads]
        twice = [f for i, f in enumerate(fields) if f in fields[:i]]
        if twice:
            self.error(tree, f"{twice[0]} is a column of the table twice")
        if twice or any(d is None for d in domains):
            return []
        known: list[tuple[Any, ...]] = [d for d in domains if d is not None]
        size = 1
        for d in known:
            size *= len(d)
        if size > MAX_TABLE_CELLS:
            self.error(tree, f"the table has {size:,} combinations; at most {MAX_TABLE_CELLS:,}",
                       "tabulate fewer fields, or write when rules")  # fmt: skip
            return []
        covered: dict[tuple[Any, ...], tuple[Decision, Tree[Token]]] = {}
        out: list[PriorityRule] = []
        for row in subtrees_of(tree, "table_row"):
            *cells, priority_tok = row.children
            assert isinstance(priority_tok, Token)
            if len(cells) != len(fields):
                self.error(row, f"this row has {len(cells)} value(s) for {len(fields)} "
                           f"column(s) ({', '.join(fields)})")  # fmt: skip
                continue
            tokens = [c for c in cells if isinstance(c, Token)]  # the grammar's cells are tokens
            values = [
                self.table_cell(c, f, d) for c, f, d in zip(tokens, fields, known, strict=True)
            ]
            if any(v is None for v in values):
                continue
            name = self.name(priority_tok, "priority")
            text = ", ".join(f"{f} = {_cell_text(v)}" for f, v in zip(fields, values, strict=True))
            rule = PriorityRule(name, None, self.loc(row), text)
            decision = Decision(name, rule.location, rule)
            choices = [d if v is _ANY else (v,) for v, d in zip(values, known, strict=True)]
            overlap = None
            for key in itertools.product(*choices):
                if key not in covered:
                    covered[key] = (decision, row)
                elif overlap is None:
                    overlap = key
            if overlap is not None:
                first = covered[overlap][1]
                self.error(row, f"this row overlaps the row at {self.loc(first)} for "
                           f"{_combination(fields, overlap)}",
                           "each combination must be decided by exactly one row")  # fmt: skip
            out.append(rule)
        rows = len(subtrees_of(tree, "table_row"))
        missing = [k for k in itertools.product(*known) if k not in covered]
        if missing and out and len(out) == rows:  # a row in error would only add noise
            more = f" (and {len(missing) - 1:,} more)" if len(missing) > 1 else ""
            self.error(
                tree,
                f"the priority table has no row for {_combination(fields, missing[0])}{more}",
                "add a row for it, or use * for any value: "
                + ", ".join(_cell_text(v) for v in missing[0])
                + " -> PRIORITY",
            )
        elif not out and not self.r.issues:
            self.error(tree, "the priority table has no rows")
        decisions = {k: d for k, (d, _) in covered.items()}
        self.table = PriorityTable(tuple(fields), tuple(known), decisions, self.loc(tree))
        return out

    def table_cell(self, tok: Token, field: str, domain: tuple[Any, ...]) -> Any:
        if tok.type == "STAR":
            return _ANY
        if domain == (True, False):
            if tok.type in ("TRUE", "FALSE"):
                return tok.type == "TRUE"
            self.error(tok, f"{field} is true or false, not {tok}")
            return None
        if tok.type != "NAME":
            self.error(tok, f'{field} is one of {", ".join(domain)}, not "{tok}"')
            return None
        return self.one_of(tok, domain, f"{field} value")

    def decider(self, rules: list[PriorityRule]) -> str:
        """The compiled priority decision: the when rules in order, then the otherwise rule
        or the table (whose rows decide through it)."""
        emitter = self.emitter
        decided = [(r, Decision(r.name, r.location, r)) for r in rules if r.cell is None]
        body: ast.expr
        if self.table is not None:
            key = located(ast.Tuple, [emitter.field(f) for f in self.table.fields], ast.Load())
            body = located(ast.Call, emitter.const(self.table), [key], [])
        else:
            body = emitter.const(decided.pop()[1])  # the otherwise rule
        for rule, decision in reversed(decided):
            assert rule.condition is not None
            body = located(
                ast.IfExp, emitter.emit(rule.condition.node), emitter.const(decision), body
            )
        return emitter.add(body)

    def target(self, milestone: str, tree: Tree[Token], default_after: str) -> Target | None:
        duration = self.duration(subtree_of(tree, "duration"))
        after_tree = subtree_of(tree, "after_clause")
        on_tree = subtree_of(tree, "on_clause")
        after = default_after
        if after_tree is not None:
            tok = after_tree.children[0]
            assert isinstance(tok, Token)
            event = self.one_of(tok, kw.START_EVENTS, "event")
            if event is None:
                return None
            after = event
            own = kw.MILESTONE_EVENT.get(milestone)
            if own is not None and kw.EVENTS.index(after) >= kw.EVENTS.index(own):
                self.error(
                    tok,
                    f"the {milestone} clock cannot start at {after}: {own} meets it",
                    "start it from an earlier event: "
                    + ", ".join(kw.EVENTS[: kw.EVENTS.index(own)]),
                )
                return None
        calendar = None
        if on_tree is not None:
            tok = on_tree.children[0]
            assert isinstance(tok, Token)
            calendar = unquote(tok, self.r)
            if duration is not None and not duration.working:
                self.error(
                    tok,
                    f'a clock-time target counts every minute; "on \\"{calendar}\\""'
                    " only goes with working time",
                    f"write working time ({duration.amount} working "
                    f"{duration.unit.value}s) or drop the calendar",
                )
                return None
        if duration is None:
            return None
        if duration.working:
            self.calendar_refs.append((calendar, on_tree if on_tree is not None else tree))
        return Target(milestone, duration, after, calendar, False, self.loc(tree))

    def sla_block(self, tree: Tree[Token], built: Built) -> None:
        name_tok = tree.children[1]
        assert isinstance(name_tok, Token)
        priority = self.name(name_tok, "priority")
        self.priority_refs.append((priority, name_tok))
        if not self.once(("sla", priority), tree, f"sla {priority}"):
            return
        targets: dict[str, Target] = {}
        repair: dict[str, Target] = {}
        for item in tree.children[2:]:
            assert isinstance(item, Tree)
            if item.data == "sla_repair_stmt":
                complexity_tok = token_of(item, "NAME")
                kinds: Sequence[str] = kw.COMPLEXITIES
                if complexity_tok is not None:
                    kind = self.one_of(complexity_tok, kw.COMPLEXITIES, "complexity")
                    if kind is None:
                        continue
                    kinds = (kind,)
                target = self.target("repair", item, kw.DEFAULT_AFTER["repair"])
                for kind in kinds:
                    if (
                        self.once(
                            ("sla-repair", f"{priority}/{kind}"),
                            item,
                            f"the {kind} repair target of {priority}",
                        )
                        and target
                    ):
                        repair[kind] = target
                continue
            milestone_tok = item.children[0]
            assert isinstance(milestone_tok, Token)
            milestone = self.one_of(milestone_tok, kw.MILESTONES, "milestone")
            if milestone is None:
                continue
            if not self.once(
                ("milestone", f"{priority}/{milestone}"),
                item,
                f"the {milestone} target of {priority}",
            ):
                continue
            if item.data == "appointment_stmt":
                word = item.children[1]
                assert isinstance(word, Token)
                if str(word) != "appointment":
                    self.error(
                        word,
                        f'"{milestone} by {word}" is not a target',
                        f'write "{milestone} by appointment" or "{milestone} within 8 hours"',
                    )
                    continue
                if milestone != "arrival":
                    self.error(item, f"only arrival can be due by appointment, not {milestone}")
                    continue
                targets[milestone] = Target(
                    milestone, None, "contacted", None, True, self.loc(item)
                )
                continue
            if milestone == "repair":
                target = self.target(milestone, item, kw.DEFAULT_AFTER[milestone])
                if target is not None:
                    repair.update(dict.fromkeys(kw.COMPLEXITIES, target))
                continue
            target = self.target(milestone, item, kw.DEFAULT_AFTER[milestone])
            if target is not None:
                targets[milestone] = target
        built.slas[priority] = Sla(priority, targets, repair, self.loc(tree))

    def repair_block(self, tree: Tree[Token], built: Built) -> None:
        for item in subtrees_of(tree, "repair_item"):
            tok = item.children[0]
            assert isinstance(tok, Token)
            kind = self.one_of(tok, kw.COMPLEXITIES, "complexity")
            if kind is None or not self.once(("repair", kind), item, f"the {kind} repair target"):
                continue
            target = self.target("repair", item, kw.DEFAULT_AFTER["repair"])
            if target is not None:
                built.repair[kind] = target

    def warn_stmt(self, tree: Tree[Token], built: Built) -> None:
        values: list[Decimal] = []
        for tok in tokens_of(tree, "PERCENT"):
            value = percent_of(tok)
            if not 0 < value < 100:
                self.error(
                    tok,
                    f"a warning at {tok} never fires before the deadline",
                    "warn at a percentage between 0% and 100%, such as 80%",
                )
            elif values and value <= values[-1]:
                self.error(
                    tok,
                    "warning percentages must rise from left to right",
                    "write them in order, such as: warn at 50%, 80%",
                )
            else:
                values.append(value)
        built.warn_at = tuple(values)

    def excuse_stmt(self, tree: Tree[Token], built: Built) -> None:
        built.excuse = "notified before due"

    def callback_stmt(self, tree: Tree[Token], built: Built) -> None:
        built.callback = self.target("callback", tree, kw.DEFAULT_AFTER["callback"])

    def callback_optional_stmt(self, tree: Tree[Token], built: Built) -> None:
        built.callback_optional = True

    def repair_met_stmt(self, tree: Tree[Token], built: Built) -> None:
        when = self.one_of(tokens_of(tree, "NAME")[0], ("completed", "accepted"), "moment")
        if when is not None:
            built.repair_met_when = when

    def reopen_stmt(self, tree: Tree[Token], built: Built) -> None:
        duration = self.duration(subtree_of(tree, "duration"))
        if duration is not None and duration.working:
            self.calendar_refs.append((None, tree))
        built.reopen_within = duration
        how = tokens_of(tree, "NAME")
        if how and self.one_of(how[0], ("resuming", "restarting"), "way") == "restarting":
            built.repair_restarts_on_reopen = True

    def resolve_stmt(self, tree: Tree[Token], built: Built) -> None:
        roles: list[str] = []
        for tok in tokens_of(tree, "NAME"):
            role = self.one_of(tok, kw.ROLES, "role")
            if role is not None and role in roles:
                self.error(tok, f"{role} is listed twice")
            elif role is not None:
                roles.append(role)
        built.resolve_remotely = tuple(roles)

    def close_auto_stmt(self, tree: Tree[Token], built: Built) -> None:
        duration = self.duration(subtree_of(tree, "duration"))
        after_tree = subtree_of(tree, "after_clause")
        assert after_tree is not None  # the grammar requires it
        event = self.one_of(after_tree.children[0], AUTO_CLOSE_AFTER, "event to close after")  # type: ignore[arg-type]
        if duration is None or event is None:
            return
        if duration.working:
            self.calendar_refs.append((None, tree))
        built.close_automatically = AutoClose(duration, event, self.loc(tree))

    def warranty_stmt(self, tree: Tree[Token], built: Built) -> None:
        duration = self.duration(subtree_of(tree, "duration"))
        after = "accepted"
        after_tree = subtree_of(tree, "after_clause")
        if after_tree is not None:
            event = self.one_of(after_tree.children[0], kw.START_EVENTS, "event")  # type: ignore[arg-type]
            if event is None:
                return
            after = event
        if duration is not None:
            if duration.working:
                self.error(
                    tree,
                    "a warranty runs on the calendar, not in working time",
                    f"write {duration.amount} {duration.unit.value}s",
                )
                return
            built.warranty = Warranty(duration, after, self.loc(tree))

    def escalate_stmt(self, tree: Tree[Token], built: Built) -> None:
        count_tok, noun = tokens_of(tree, "NUMBER")[0], tokens_of(tree, "NAME")[0]
        if self.one_of(noun, ("rejection", "rejections"), "word") is None:
            return
        if "." in count_tok or int(count_tok) < 1:
            self.error(count_tok, "escalate after a whole number of rejections, at least 1")
            return
        built.escalate_after = int(count_tok)

    def hold_stmt(self, tree: Tree[Token], built: Built) -> None:
        reasons = []
        for tok in tokens_of(tree, "NAME"):
            reason = f"waiting for {self.name(tok, 'hold reason')}"
            if reason in reasons:
                self.error(tok, f'"{reason}" is listed twice')
            reasons.append(reason)
        built.hold = tuple(reasons)
