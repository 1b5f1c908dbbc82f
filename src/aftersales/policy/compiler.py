"""From parse tree to :class:`Policy`: every static check of the language, all errors at once."""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from lark import Token, Tree

from aftersales.core.calendar import MINUTES_PER_DAY, WEEKDAYS, WorkCalendar, localize, zone
from aftersales.core.duration import UNIT_WORDS, Duration, Unit
from aftersales.core.errors import ValidationError
from aftersales.core.money import CURRENCY_CODES, Money
from aftersales.core.values import EARLIEST_YEAR, LATEST_YEAR
from aftersales.policy import keywords as kw
from aftersales.policy.diagnostics import Reporter, TooManyIssues, first_token
from aftersales.policy.expressions import (
    ASSIGNMENT_FIELDS,
    CASE_FIELDS,
    CLAIM_FIELDS,
    REQUISITION_FIELDS,
    STOCK_FIELDS,
    Checker,
    CompiledCode,
    Condition,
    Emitter,
    Literal,
    _at,
    read_duration,
    unquote,
)
from aftersales.policy.functions import FunctionRegistry, ValueType
from aftersales.policy.model import (
    Appraisal,
    ApprovalRule,
    CertificateRule,
    Decision,
    Example,
    Expectation,
    ExpenseLimit,
    Expenses,
    FieldDecl,
    Grade,
    MetricTarget,
    Parts,
    Policy,
    PriorityRule,
    Safety,
    Sla,
    Target,
    Training,
    Warranty,
    Weight,
)

Node = Tree[Token] | Token
_TYPE_OF_DECL = {"text": ValueType.TEXT, "number": ValueType.NUMBER, "bool": ValueType.BOOL}
_ONCE = {
    "policy_block": "policy",
    "fields_block": "fields",
    "repair_block": "repair",
    "warn_stmt": "warn at",
    "excuse_stmt": "excuse",
    "callback_stmt": "callback",
    "warranty_stmt": "warranty",
    "escalate_stmt": "escalate",
    "hold_stmt": "hold",
    "appraisal_block": "appraisal",
    "expenses_block": "expenses",
    "parts_block": "parts",
    "training_block": "training",
    "safety_block": "safety",
}


def _toks(tree: Tree[Token], *types: str) -> list[Token]:
    return [c for c in tree.children if isinstance(c, Token) and c.type in types]


def _tok(tree: Tree[Token], *types: str) -> Token | None:
    found = _toks(tree, *types)
    return found[0] if found else None


def _subtrees(tree: Tree[Token], *names: str) -> list[Tree[Token]]:
    return [c for c in tree.children if isinstance(c, Tree) and c.data in names]


def _subtree(tree: Tree[Token], *names: str) -> Tree[Token] | None:
    found = _subtrees(tree, *names)
    return found[0] if found else None


def _percent(tok: Token) -> Decimal:
    return Decimal(str(tok)[:-1])


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}"


MAX_DATE_RANGE = 366
"""Days one holiday or workday range may cover."""
MAX_CALENDAR_DATES = 20_000
"""Holidays and make-up working days one calendar may list (55 years of every day)."""


class PolicyCompiler:
    """Checks and compiles one parsed file. Use :func:`compile_tree`."""

    def __init__(
        self, text: str, filename: str, functions: FunctionRegistry, metrics: Sequence[str]
    ) -> None:
        self.r = Reporter(text, filename)
        self.filename = filename
        self.functions = functions
        self.metrics = tuple(metrics)
        self.timezone = "UTC"
        self.currency: str | None = None
        self.custom: dict[str, ValueType] = {}
        self.seen: dict[tuple[str, str], Node] = {}
        self.priority_refs: list[tuple[str, Token]] = []
        self.calendar_refs: list[tuple[str | None, Node]] = []
        self.grade_refs: list[tuple[str, Token]] = []
        self.declared_calendars: set[str | None] = set()
        self.rating_refs: list[Token] = []
        # Every condition of the file is compiled in one go when the file checks out.
        self.emitter = Emitter()
        self.unbuilt: list[tuple[str, Condition]] = []

    # -- helpers ------------------------------------------------------------------------------
    def error(self, where: Node | None, message: str, hint: str | None = None) -> None:
        self.r.error(where, message, hint)

    def loc(self, where: Node) -> str:
        return self.r.location(where)

    def line_of(self, where: Node) -> int | None:
        first = where if isinstance(where, Token) else first_token(where)
        return None if first is None else first.line

    def name(self, tok: Token, what: str) -> str:
        """A name the policy gives something; reserved words and dotted names refused."""
        text = str(tok)
        if text in kw.RESERVED_WORDS:
            self.error(
                tok,
                f'"{text}" is a reserved word and cannot name a {what}',
                "reserved words: " + ", ".join(sorted(kw.RESERVED_WORDS)),
            )
        elif "." in text:
            self.error(
                tok, f'a {what} name cannot contain "."', f'write "{text.replace(".", "_")}"'
            )
        return text

    def one_of(self, tok: Token, known: Sequence[str], what: str) -> str | None:
        text = str(tok)
        if text in known:
            return text
        self.error(tok, f'unknown {what} "{text}"', kw.did_you_mean(text, known))
        return None

    def once(self, key: tuple[str, str], node: Node, what: str) -> bool:
        """False (after an error) if ``key`` was already seen in this file."""
        if key in self.seen:
            first = self.seen[key]
            self.error(node, f"{what} appears twice", f"the first is at {self.loc(first)}")
            return False
        self.seen[key] = node
        return True

    def checker(self, fields: Mapping[str, ValueType], priorities: Sequence[str] = ()) -> Checker:
        return Checker(self.r, fields, self.functions, self.currency, priorities)

    def condition(
        self, tree: Node, fields: Mapping[str, ValueType], priorities: Sequence[str] = ()
    ) -> Condition | None:
        node = self.checker(fields, priorities).condition(tree)
        if node is None:
            return None
        condition = Condition(self.r.source(tree), self.loc(tree), node, CompiledCode())
        self.unbuilt.append((self.emitter.add(self.emitter.emit(node)), condition))
        return condition

    def duration(self, tree: Tree[Token] | None) -> Duration | None:
        return None if tree is None else read_duration(tree, self.r)

    def money(self, tree: Tree[Token]) -> Money | None:
        amount, code = tree.children
        if not self.checker({}).check_currency(code):  # type: ignore[arg-type]
            return None
        return Money(Decimal(str(amount)), str(code))

    def weights(
        self, items: Iterable[Tree[Token]], what: str, known: Sequence[str] | None = None
    ) -> tuple[Weight, ...]:
        out: list[Weight] = []
        names: set[str] = set()
        for item in items:
            name_tok, pct = item.children
            assert isinstance(name_tok, Token) and isinstance(pct, Token)
            name = self.name(name_tok, what)
            if known is not None:
                self.one_of(name_tok, known, what)  # an unknown name still counts in the sum
            if name in names:
                self.error(name_tok, f'{what} "{name}" is weighted twice')
                continue
            names.add(name)
            out.append(Weight(name, _percent(pct), self.loc(item)))
        return tuple(out)

    def check_sum(self, where: Node, weights: Sequence[Weight], what: str) -> None:
        total = sum((w.percent for w in weights), Decimal(0))
        if weights and total != 100:
            self.error(
                where,
                f"the {what} weights add up to {_fmt(total)}%, not 100%",
                "make the percentages add up to exactly 100%",
            )

    # -- the whole file -------------------------------------------------------------------------
    def compile(self, tree: Tree[Token], complete: bool) -> Policy | None:
        """Check and compile; ``complete`` is False when syntax errors removed statements,
        so whole-file checks (required sections) would only repeat them."""
        sections = [c for c in tree.children if isinstance(c, Tree)]
        policy_blocks = [s for s in sections if s.data == "policy_block"]
        if policy_blocks:
            self.policy_block(policy_blocks[0])
            if sections[0].data != "policy_block":
                self.error(
                    sections[0],
                    "the policy section must come first",
                    f"move the policy section (line {self.line_of(policy_blocks[0])}) "
                    "to the top of the file",
                )
        elif complete:
            self.r.at(
                1,
                1,
                "a policy file starts with a policy section",
                'policy "Company name" { version "1" timezone "Asia/Shanghai" currency CNY }',
            )
        for section in sections:
            key = _ONCE.get(section.data)
            if key is not None:
                self.once(("section", key), section, f"the {key} section")
        # Declarations first, so later sections can refer to them in any order.
        for section in sections:
            if section.data == "fields_block":
                self.fields_block(section)
        calendars: dict[str | None, WorkCalendar] = {}
        for section in sections:
            if section.data == "calendar_block":
                self.calendar_block(section, calendars)
        priorities = self.priority_rules(
            [s for s in sections if s.data == "priority_rule"], complete
        )
        self.priorities_known = tuple(dict.fromkeys(rule.name for rule in priorities))
        built: dict[str, Any] = {"slas": {}, "repair": {}, "examples": []}
        handlers: dict[str, Callable[[Tree[Token], dict[str, Any]], None]] = {
            "sla_block": self.sla_block,
            "repair_block": self.repair_block,
            "warn_stmt": self.warn_stmt,
            "excuse_stmt": self.excuse_stmt,
            "callback_stmt": self.callback_stmt,
            "warranty_stmt": self.warranty_stmt,
            "escalate_stmt": self.escalate_stmt,
            "hold_stmt": self.hold_stmt,
            "appraisal_block": self.appraisal_block,
            "expenses_block": self.expenses_block,
            "parts_block": self.parts_block,
            "training_block": self.training_block,
            "safety_block": self.safety_block,
            "example_block": self.example_block,
        }
        for section in sections:
            handler = handlers.get(section.data)
            if handler is not None:
                handler(section, built)
        self.cross_checks(priorities, built, calendars, complete)
        if self.r.issues:
            return None
        decide_name = self.decider(priorities)
        functions = self.emitter.finish(self.filename)
        for name, condition in self.unbuilt:
            condition.code.give(functions[name])
        return Policy(
            source=self.r.text,
            name=self.policy_name,
            version=self.version,
            timezone=self.timezone,
            currency=self.currency,
            filename=self.filename,
            calendars=calendars,
            fields={
                n: FieldDecl(n, t.value if t is not ValueType.BOOL else "bool", "")
                for n, t in self.custom.items()
            },
            priorities=tuple(priorities),
            slas=built["slas"],
            repair=built["repair"],
            warn_at=built.get("warn_at", ()),
            excuse=built.get("excuse"),
            hold=built.get("hold", ()),
            callback=built.get("callback"),
            warranty=built.get("warranty"),
            escalate_after=built.get("escalate_after"),
            appraisal=built.get("appraisal"),
            expenses=built.get("expenses"),
            parts=built.get("parts"),
            training=built.get("training"),
            safety=built.get("safety"),
            examples=tuple(built["examples"]),
            decide=functions[decide_name],
        )

    # -- policy ---------------------------------------------------------------------------------
    policy_name = ""
    version = ""

    def policy_block(self, tree: Tree[Token]) -> None:
        title = _tok(tree, "STRING")
        self.policy_name = unquote(title, self.r) if title else ""
        has_tz = False
        for item in _subtrees(tree, "version_stmt", "timezone_stmt", "currency_stmt"):
            value = item.children[1]
            assert isinstance(value, Token)
            if not self.once(("policy", item.data), item, item.data.split("_")[0]):
                continue
            if item.data == "version_stmt":
                self.version = unquote(value, self.r)
            elif item.data == "timezone_stmt":
                has_tz = True
                name = unquote(value, self.r)
                try:
                    zone(name)
                    self.timezone = name
                except ValidationError:
                    self.error(
                        value,
                        f'unknown time zone "{name}"',
                        'use an IANA name such as "Asia/Shanghai" or "Europe/Berlin"',
                    )
            else:
                if str(value) not in CURRENCY_CODES:
                    self.error(
                        value,
                        f'unknown currency "{value}"',
                        "use an ISO 4217 code such as CNY, TWD, EUR or USD",
                    )
                else:
                    self.currency = str(value)
        if not has_tz:
            self.error(
                tree,
                "the policy section needs a timezone",
                'add a line such as: timezone "Asia/Shanghai"',
            )

    # -- calendar -------------------------------------------------------------------------------
    def calendar_block(self, tree: Tree[Token], calendars: dict[str | None, WorkCalendar]) -> None:
        title = _tok(tree, "STRING")
        name = unquote(title, self.r) if title is not None else None
        label = "the unnamed calendar" if name is None else f'calendar "{name}"'
        if not self.once(("calendar", name or ""), tree, label):
            return
        self.declared_calendars.add(name)
        issues_before = len(self.r.issues)
        workweek: set[int] = set()
        hours: list[tuple[int, int, Token]] = []
        holidays: dict[date, Node] = {}
        workdays: dict[date, Node] = {}
        seen_week = seen_hours = False
        for item in tree.children:
            if not isinstance(item, Tree):
                continue
            if item.data == "workweek_stmt":
                seen_week = True
                for spec in _subtrees(item, "day_spec"):
                    workweek |= self.weekdays(spec)
            elif item.data == "hours_stmt":
                seen_hours = True
                for rng in _toks(item, "TIME_RANGE"):
                    span = self.time_range(rng)
                    if span is not None:
                        hours.append((*span, rng))
            else:
                target = holidays if item.data == "holiday_stmt" else workdays
                for day in self.dates(_subtree(item, "date_spec")):  # type: ignore[arg-type]
                    target[day] = item
                if len(holidays) + len(workdays) > MAX_CALENDAR_DATES:
                    self.error(
                        item,
                        f"{label} lists more than {MAX_CALENDAR_DATES:,} holidays and working days",
                        "keep the years the desk works in",
                    )
                    return
        if not seen_week:
            self.error(tree, f"{label} has no workweek line", "add one, such as: workweek mon..fri")
        if not seen_hours:
            self.error(
                tree,
                f"{label} has no hours line",
                "add one, such as: hours 08:30-12:00, 13:00-17:30",
            )
        hours.sort()
        for (_, end, _), (start, _, tok) in pairwise(hours):
            if start < end:
                self.error(tok, "working hours overlap", "list each stretch of time once")
        for day, node in workdays.items():
            if day in holidays:
                self.error(
                    node,
                    f"{day} is both a holiday and a working day",
                    f"the holiday is at {self.loc(holidays[day])}; keep one of them",
                )
        if (
            seen_week
            and seen_hours
            and not (workweek and hours)
            and len(self.r.issues) == issues_before
        ):
            self.error(tree, f"{label} has no working hour in a week")
        if not self.r.issues or (workweek and hours):
            with contextlib.suppress(ValidationError):  # already reported above
                calendars[name] = WorkCalendar(
                    self.timezone,
                    workweek,
                    [(a, b) for a, b, _ in hours],
                    holidays,
                    set(workdays) - set(holidays),
                    name=name,
                )

    def weekdays(self, spec: Tree[Token]) -> set[int]:
        days = []
        for tok in _toks(spec, "NAME"):
            day = self.one_of(tok, WEEKDAYS, "weekday")
            if day is None:
                return set()
            days.append(WEEKDAYS.index(day))
        if len(days) == 1:
            return {days[0]}
        first, last = days
        return {(first + i) % 7 for i in range((last - first) % 7 + 1)}

    def time_range(self, tok: Token) -> tuple[int, int] | None:
        start_text, end_text = (part.strip() for part in str(tok).split("-"))
        start, end = self.clock_minutes(tok, start_text), self.clock_minutes(tok, end_text)
        if start is None or end is None:
            return None
        if start == MINUTES_PER_DAY:
            self.error(tok, "24:00 can only end a range", "write 00:00 to start at midnight")
            return None
        if end <= start:
            self.error(
                tok,
                f"the range {tok} ends before it starts",
                "write the earlier time first; a range cannot pass midnight "
                "(use 22:00-24:00 and 00:00-06:00)",
            )
            return None
        return start, end

    def clock_minutes(self, tok: Token, text: str) -> int | None:
        hh, mm = (int(part) for part in text.split(":"))
        if hh > 24 or mm > 59 or (hh == 24 and mm):
            self.error(tok, f'"{text}" is not a time of day', "times run from 00:00 to 24:00")
            return None
        return hh * 60 + mm

    def parse_date(self, tok: Token) -> date | None:
        try:
            return date.fromisoformat(str(tok))
        except ValueError:
            self.error(tok, f'"{tok}" is not a date', "write dates as YYYY-MM-DD")
            return None

    def dates(self, spec: Tree[Token]) -> list[date]:
        ends = [self.parse_date(t) for t in _toks(spec, "DATE")]
        if any(d is None for d in ends):
            return []
        first, last = ends[0], ends[-1]
        assert first is not None and last is not None
        if last < first:
            self.error(spec, f"the range {first}..{last} ends before it starts")
            return []
        for end in {first, last}:
            if not EARLIEST_YEAR <= end.year <= LATEST_YEAR:
                self.error(
                    spec,
                    f"{end} is outside the years a calendar covers",
                    f"write dates from {EARLIEST_YEAR} to {LATEST_YEAR}",
                )
                return []
        if last.toordinal() - first.toordinal() >= MAX_DATE_RANGE:
            self.error(
                spec,
                f"the range {first}..{last} is {last.toordinal() - first.toordinal() + 1:,} "
                f"days long; a range covers at most {MAX_DATE_RANGE} days",
                "list each year's holidays on a line of its own",
            )
            return []
        return [date.fromordinal(o) for o in range(first.toordinal(), last.toordinal() + 1)]

    # -- fields -----------------------------------------------------------------------------
    def fields_block(self, tree: Tree[Token]) -> None:
        for decl in _subtrees(tree, "field_decl"):
            name_tok, type_tok = decl.children
            assert isinstance(name_tok, Token) and isinstance(type_tok, Token)
            name = str(name_tok)
            if not name.startswith("custom.") or name.count(".") != 1:
                self.error(
                    name_tok,
                    f'cannot declare "{name}": only custom fields are declared',
                    f"write custom.{name.split('.')[-1]}",
                )
                continue
            local = name.split(".", 1)[1]
            if local.startswith("_"):
                self.error(name_tok, "a field name cannot start with an underscore")
                continue
            if local in kw.RESERVED_WORDS:
                self.error(name_tok, f'"{local}" is a reserved word and cannot name a field')
                continue
            kind = self.one_of(type_tok, kw.FIELD_TYPES, "field type")
            if kind is None or not self.once(("field", name), decl, f"field {name}"):
                continue
            self.custom[name] = _TYPE_OF_DECL[kind]

    def case_fields(self) -> dict[str, ValueType]:
        return {**CASE_FIELDS, **self.custom}

    # -- priorities -------------------------------------------------------------------------
    def priority_rules(self, rules: list[Tree[Token]], complete: bool) -> list[PriorityRule]:
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
        elif rules and otherwise_at is None:
            self.error(
                rules[-1],
                "the last priority rule must be an otherwise rule",
                f"add a final rule, such as: priority {out[-1].name if out else 'general'}"
                " otherwise",
            )
        return out

    def decider(self, rules: list[PriorityRule]) -> str:
        emitter = self.emitter
        decisions = [Decision(rule.name, rule.location, rule) for rule in rules]
        body: ast.expr = emitter.const(decisions[-1])
        for rule, decision in zip(reversed(rules[:-1]), reversed(decisions[:-1]), strict=True):
            assert rule.condition is not None
            body = _at(ast.IfExp, emitter.emit(rule.condition.node), emitter.const(decision), body)
        return emitter.add(body)

    # -- targets ----------------------------------------------------------------------------
    def target(self, milestone: str, tree: Tree[Token], default_after: str) -> Target | None:
        duration = self.duration(_subtree(tree, "duration"))
        after_tree = _subtree(tree, "after_clause")
        on_tree = _subtree(tree, "on_clause")
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

    def sla_block(self, tree: Tree[Token], built: dict[str, Any]) -> None:
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
                complexity_tok = _tok(item, "NAME")
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
        built["slas"][priority] = Sla(priority, targets, repair, self.loc(tree))

    def repair_block(self, tree: Tree[Token], built: dict[str, Any]) -> None:
        for item in _subtrees(tree, "repair_item"):
            tok = item.children[0]
            assert isinstance(tok, Token)
            kind = self.one_of(tok, kw.COMPLEXITIES, "complexity")
            if kind is None or not self.once(("repair", kind), item, f"the {kind} repair target"):
                continue
            target = self.target("repair", item, kw.DEFAULT_AFTER["repair"])
            if target is not None:
                built["repair"][kind] = target

    # -- deadlines in general ---------------------------------------------------------------
    def warn_stmt(self, tree: Tree[Token], built: dict[str, Any]) -> None:
        values: list[Decimal] = []
        for tok in _toks(tree, "PERCENT"):
            value = _percent(tok)
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
        built["warn_at"] = tuple(values)

    def excuse_stmt(self, tree: Tree[Token], built: dict[str, Any]) -> None:
        built["excuse"] = "notified before due"

    def callback_stmt(self, tree: Tree[Token], built: dict[str, Any]) -> None:
        built["callback"] = self.target("callback", tree, kw.DEFAULT_AFTER["callback"])

    def warranty_stmt(self, tree: Tree[Token], built: dict[str, Any]) -> None:
        duration = self.duration(_subtree(tree, "duration"))
        after = "accepted"
        after_tree = _subtree(tree, "after_clause")
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
            built["warranty"] = Warranty(duration, after, self.loc(tree))

    def escalate_stmt(self, tree: Tree[Token], built: dict[str, Any]) -> None:
        count_tok, noun = _toks(tree, "NUMBER")[0], _toks(tree, "NAME")[0]
        if self.one_of(noun, ("rejection", "rejections"), "word") is None:
            return
        if "." in count_tok or int(count_tok) < 1:
            self.error(count_tok, "escalate after a whole number of rejections, at least 1")
            return
        built["escalate_after"] = int(count_tok)

    def hold_stmt(self, tree: Tree[Token], built: dict[str, Any]) -> None:
        reasons = []
        for tok in _toks(tree, "NAME"):
            reason = f"waiting for {self.name(tok, 'hold reason')}"
            if reason in reasons:
                self.error(tok, f'"{reason}" is listed twice')
            reasons.append(reason)
        built["hold"] = tuple(reasons)

    # -- appraisal --------------------------------------------------------------------------
    def appraisal_block(self, tree: Tree[Token], built: dict[str, Any]) -> None:
        cycle: Duration | None = None
        evaluate = "monthly"
        sources: tuple[Weight, ...] = ()
        indicators: tuple[Weight, ...] = ()
        measures: dict[str, tuple[MetricTarget, ...]] = {}
        measure_trees: list[Tree[Token]] = []
        grades: list[Grade] = []
        reward: list[Token] = []
        improve: list[Token] = []
        dismiss: tuple[int, Token] | None = None
        parts_seen: set[str] = set()
        for item in tree.children[1:]:
            assert isinstance(item, Tree)
            if item.data in (
                "cycle_stmt",
                "evaluate_stmt",
                "sources_block",
                "indicators_block",
                "reward_stmt",
                "improve_stmt",
                "dismiss_stmt",
            ):
                if item.data in parts_seen:
                    self.error(item, f"{item.data.split('_')[0]} appears twice in the appraisal")
                    continue
                parts_seen.add(item.data)
            if item.data == "cycle_stmt":
                cycle = self.duration(_subtree(item, "duration"))
                if cycle is not None and (
                    cycle.working or cycle.unit not in (Unit.MONTH, Unit.YEAR) or not cycle.amount
                ):
                    self.error(
                        item,
                        "an appraisal cycle is a number of months",
                        "write, for example: cycle 3 months",
                    )
                    cycle = None
            elif item.data == "evaluate_stmt":
                found = self.one_of(item.children[1], ("monthly",), "evaluation period")  # type: ignore[arg-type]
                evaluate = found or evaluate
            elif item.data == "sources_block":
                sources = self.weights(_subtrees(item, "weight"), "source", kw.SOURCES)
                self.check_sum(item, sources, "source")
            elif item.data == "indicators_block":
                indicators = self.weights(_subtrees(item, "weight"), "indicator")
                self.check_sum(item, indicators, "indicator")
            elif item.data == "measure_block":
                measure_trees.append(item)
            elif item.data == "grade_rule":
                grade = self.grade_rule(item, grades)
                if grade is not None:
                    grades.append(grade)
            elif item.data == "reward_stmt":
                reward = _toks(item, "NAME")
            elif item.data == "improve_stmt":
                improve = _toks(item, "NAME")
            elif item.data == "dismiss_stmt":
                dismiss = self.dismiss_stmt(item)
        indicator_names = [w.name for w in indicators]
        for item in measure_trees:
            name_tok = item.children[1]
            assert isinstance(name_tok, Token)
            indicator = (
                self.one_of(name_tok, indicator_names, "indicator") if indicator_names else None
            )
            if indicator_names and indicator is None:
                continue
            if indicator is None:
                self.error(name_tok, "measure names an indicator, but there is no indicators block")
                continue
            if not self.once(("measure", indicator), item, f"measure {indicator}"):
                continue
            measures[indicator] = self.metrics_of(item)
        if not sources:
            self.error(
                tree,
                "the appraisal has no sources block",
                "say who rates: sources { supervisor 50%  customer 30%  self 20% }",
            )
        if not indicators:
            self.error(
                tree,
                "the appraisal has no indicators block",
                "say what is rated: indicators { performance 50%  attitude 20%  skills 30% }",
            )
        if not grades:
            self.error(
                tree,
                "the appraisal has no grades",
                "add grades, such as: grade pass when score >= 60 / grade fail otherwise",
            )
        elif grades[-1].threshold is not None:
            self.error(
                tree.children[-1],
                "the last grade must be an otherwise grade",
                "add a final line, such as: grade fail otherwise",
            )
        grade_names = [g.name for g in grades]
        for tok in [*reward, *improve, *([dismiss[1]] if dismiss else [])]:
            self.one_of(tok, grade_names, "grade")
        built["appraisal"] = Appraisal(
            cycle,
            evaluate,
            sources,
            indicators,
            measures,
            tuple(grades),
            tuple(map(str, reward)),
            tuple(map(str, improve)),
            dismiss[0] if dismiss else None,
            str(dismiss[1]) if dismiss else None,
            self.loc(tree),
        )
        self.grades_known = grade_names

    grades_known: Sequence[str] = ()

    def grade_rule(self, item: Tree[Token], earlier: list[Grade]) -> Grade | None:
        name = self.name(item.children[1], "grade")  # type: ignore[arg-type]
        if any(g.name == name for g in earlier):
            self.error(item.children[1], f'grade "{name}" is defined twice')
            return None
        if earlier and earlier[-1].threshold is None:
            self.error(
                item,
                "this grade comes after the otherwise grade and is never given",
                "put the otherwise grade last",
            )
            return None
        if _tok(item, "OTHERWISE") is not None:
            return Grade(name, None, True, self.loc(item))
        subject, op_tree, number = item.children[2:5]
        assert isinstance(subject, Token) and isinstance(op_tree, Tree)
        if str(subject) != "score":
            self.error(
                subject, f'grades are given by score, not "{subject}"', 'did you mean "score"?'
            )
            return None
        op = op_tree.children[0]
        assert isinstance(op, Token)
        if op.type not in ("GE", "GT"):
            self.error(
                op,
                f'grades use ">=" or ">", not "{op}"',
                "list grades from the highest threshold down",
            )
            return None
        threshold = Decimal(str(number))
        if threshold > 100:
            self.error(number, "scores run from 0 to 100")
            return None
        if earlier and earlier[-1].threshold is not None and threshold >= earlier[-1].threshold:
            self.error(
                item,
                f"grades must be ordered from the highest threshold down: {name} "
                f"(>= {_fmt(threshold)}) comes after {earlier[-1].name} "
                f"(>= {_fmt(earlier[-1].threshold)})",
                f"move grade {name} above grade {earlier[-1].name}",
            )
            return None
        return Grade(name, threshold, op.type == "GE", self.loc(item))

    def metrics_of(self, tree: Tree[Token]) -> tuple[MetricTarget, ...]:
        out: list[MetricTarget] = []
        for metric in _subtrees(tree, "metric"):
            name_tok, weight_tok, *target = metric.children
            assert isinstance(name_tok, Token) and isinstance(weight_tok, Token)
            name = self.one_of(name_tok, self.metrics, "metric")
            if name is None:
                if kw.suggest(str(name_tok), self.metrics) is None:
                    self.issues_last_hint("known metrics: " + ", ".join(self.metrics))
                continue
            value_tok = target[0]
            assert isinstance(value_tok, Token)
            per = None
            if len(target) == 2:
                per_unit = UNIT_WORDS[str(target[1])]
                if per_unit not in (Unit.DAY, Unit.WEEK, Unit.MONTH):
                    self.error(target[1], "a target is per day, per week or per month")
                    continue
                per = per_unit
            is_percent = value_tok.type == "PERCENT"
            value = _percent(value_tok) if is_percent else Decimal(str(value_tok))
            if value <= 0:
                self.error(value_tok, "a target must be more than zero")
                continue
            out.append(
                MetricTarget(name, _percent(weight_tok), value, per, is_percent, self.loc(metric))
            )
        weights = [Weight(m.metric, m.percent, m.location) for m in out]
        self.check_sum(tree, weights, f"measure {tree.children[1]}")
        return tuple(out)

    def issues_last_hint(self, hint: str) -> None:
        last = self.r.issues[-1]
        self.r.issues[-1] = type(last)(
            last.message,
            last.filename,
            last.line,
            last.column,
            last.source_line,
            hint,
            last.end_column,
        )

    def dismiss_stmt(self, item: Tree[Token]) -> tuple[int, Token] | None:
        count_tok = _tok(item, "NUMBER")
        unit_tok = _tok(item, "TIME_UNIT")
        grade_tok = _tok(item, "NAME")
        assert count_tok is not None and unit_tok is not None and grade_tok is not None
        if UNIT_WORDS[str(unit_tok)] is not Unit.MONTH:
            self.error(
                unit_tok,
                "appraisals are monthly: count consecutive months",
                "write: dismiss after 3 consecutive months graded fail",
            )
            return None
        if "." in count_tok or int(count_tok) < 1:
            self.error(count_tok, "a run of months is a whole number, at least 1")
            return None
        return int(count_tok), grade_tok

    # -- expenses and parts -----------------------------------------------------------------
    def chain(self, tree: Tree[Token]) -> tuple[str, ...] | None:
        roles: list[str] = []
        for tok in _toks(tree, "NAME"):
            role = self.one_of(tok, kw.ROLES, "role")
            if role is None:
                return None
            if role in roles:
                self.error(
                    tok,
                    f"{role} appears twice in one approval chain",
                    "nobody approves the same claim twice",
                )
                return None
            roles.append(role)
        return tuple(roles)

    def approvals(
        self, rules: list[Tree[Token]], fields: Mapping[str, ValueType], what: str
    ) -> tuple[ApprovalRule, ...]:
        out: list[ApprovalRule] = []
        default_at: Tree[Token] | None = None
        for rule in rules:
            chain = self.chain(_subtree(rule, "chain"))  # type: ignore[arg-type]
            cond_tree = (
                rule.children[-1]
                if not (isinstance(rule.children[-1], Tree) and rule.children[-1].data == "chain")
                else None
            )
            condition = None
            if cond_tree is not None:
                condition = self.condition(cond_tree, fields)
                if condition is None:
                    continue
            elif default_at is not None:
                self.error(
                    rule,
                    f"two {what} chains without a when",
                    f"the first is at {self.loc(default_at)}; give this one a condition",
                )
                continue
            else:
                default_at = rule
            if chain is not None:
                out.append(ApprovalRule(chain, condition, self.loc(rule)))
        if out and default_at is None and what == "claim":
            self.error(
                rules[-1],
                f"every {what} needs a chain: add one without a when",
                "for example: approve by manager then finance",
            )
        return tuple(out)

    def expenses_block(self, tree: Tree[Token], built: dict[str, Any]) -> None:
        invoice = False
        limits: dict[str, ExpenseLimit] = {}
        for item in _subtrees(tree, "invoice_stmt"):
            invoice = _tok(item, "REQUIRED") is not None
        for item in _subtrees(tree, "limit_stmt"):
            cat_tok = item.children[1]
            per_tok = item.children[-1]
            assert isinstance(cat_tok, Token) and isinstance(per_tok, Token)
            category = self.name(cat_tok, "expense category")
            money = self.money(_subtree(item, "money"))  # type: ignore[arg-type]
            per = self.one_of(per_tok, kw.LIMIT_PERIODS, "limit period")
            if money is None or per is None:
                continue
            if self.once(("limit", category), item, f"the {category} limit"):
                limits[category] = ExpenseLimit(category, money, per, self.loc(item))
        approvals = self.approvals(_subtrees(tree, "approve_stmt"), CLAIM_FIELDS, "claim")
        built["expenses"] = Expenses(invoice, limits, approvals, self.loc(tree))

    def parts_block(self, tree: Tree[Token], built: dict[str, Any]) -> None:
        every = None
        reorder = None
        checks: tuple[str, ...] = ()
        for item in _subtrees(tree, "stocktake_stmt"):
            every = self.duration(_subtree(item, "duration"))
        for item in _subtrees(tree, "reorder_stmt"):
            reorder = self.condition(item.children[-1], STOCK_FIELDS)
        for item in _subtrees(tree, "incoming_stmt"):
            found = [
                self.one_of(t, kw.INSPECTION_CHECKS, "inspection check")
                for t in _toks(item, "NAME")
            ]
            checks = tuple(c for c in found if c is not None)
        approvals = self.approvals(
            _subtrees(tree, "requisition_stmt"), REQUISITION_FIELDS, "requisition"
        )
        built["parts"] = Parts(every, reorder, approvals, checks, self.loc(tree))

    # -- training and safety ----------------------------------------------------------------
    def training_block(self, tree: Tree[Token], built: dict[str, Any]) -> None:
        assessment: tuple[Weight, ...] = ()
        pass_mark = None
        until_passed = False
        limit = None
        valid = None
        certificates: list[CertificateRule] = []
        for item in tree.children[1:]:
            assert isinstance(item, Tree)
            if item.data == "assessment_stmt":
                assessment = self.weights(_subtrees(item, "weight"), "assessment part")
                self.check_sum(item, assessment, "assessment")
            elif item.data == "pass_stmt":
                mark = Decimal(str(item.children[1]))
                if mark > 100:
                    self.error(item.children[1], "assessment marks run from 0 to 100")
                pass_mark = mark
            elif item.data == "retake_stmt":
                count = _tok(item, "NUMBER")
                if count is None:
                    until_passed = True
                else:
                    noun = _tok(item, "NAME")
                    if noun is not None and self.one_of(noun, ("time", "times"), "word"):
                        limit = int(Decimal(str(count)))
            elif item.data == "validity_stmt":
                valid = self.duration(_subtree(item, "duration"))
                if valid is not None and valid.working:
                    self.error(
                        item,
                        "a certificate's validity runs on the calendar",
                        f"write {valid.amount} {valid.unit.value}s",
                    )
            elif item.data == "certificate_rule":
                name_tok = _tok(item, "STRING")
                assert name_tok is not None
                cond_tree = item.children[-1] if item.children[-1] is not name_tok else None
                condition = None
                if cond_tree is not None:
                    condition = self.condition(
                        cond_tree, {**ASSIGNMENT_FIELDS, **self.custom}, self.priorities_known
                    )
                certificates.append(
                    CertificateRule(unquote(name_tok, self.r), condition, self.loc(item))
                )
        built["training"] = Training(
            assessment, pass_mark, until_passed, limit, valid, tuple(certificates), self.loc(tree)
        )

    def safety_block(self, tree: Tree[Token], built: dict[str, Any]) -> None:
        ppe: tuple[str, ...] = ()
        ppe_location = ""
        tools = incidents = None
        for item in tree.children[1:]:
            assert isinstance(item, Tree)
            if item.data == "ppe_stmt":
                ppe = tuple(self.name(t, "piece of safety gear") for t in _toks(item, "NAME"))
                ppe_location = self.loc(item)
            elif item.data == "tools_stmt":
                tools = self.duration(_subtree(item, "duration"))
            elif item.data == "incidents_stmt":
                incidents = self.duration(_subtree(item, "duration"))
        built["safety"] = Safety(ppe, tools, incidents, self.loc(tree), ppe_location)

    # -- examples ---------------------------------------------------------------------------
    priorities_known: Sequence[str] = ()

    def record(
        self, tree: Tree[Token], fields: Mapping[str, ValueType], what: str
    ) -> dict[str, Any]:
        checker = self.checker(fields)
        flat: dict[str, Any] = {}
        for pair in _subtrees(tree, "pair"):
            key_tok, value_tree = pair.children
            assert isinstance(key_tok, Token)
            key = str(key_tok)
            kind = fields.get(key)
            if kind is None:
                checker.field(key_tok)  # reports the unknown field with its hint
                continue
            value = checker.check(value_tree)
            if value is None:
                continue
            if value.type is not kind:
                self.error(value_tree, f"{key} is {kind}, not {value.type}")
                continue
            if key in flat:
                self.error(key_tok, f"{key} is given twice in this {what}")
            assert isinstance(value, Literal)
            flat[key] = value.value
        nested: dict[str, Any] = {}
        for key, value in flat.items():
            *parents, leaf = key.split(".")
            target = nested
            for parent in parents:
                target = target.setdefault(parent, {})
            target[leaf] = value
        return nested

    def local_datetime(self, tree: Tree[Token]) -> datetime | None:
        day_tok, time_tok = tree.children
        day = self.parse_date(day_tok)  # type: ignore[arg-type]
        minutes = self.clock_minutes(time_tok, str(time_tok))  # type: ignore[arg-type]
        if day is None or minutes is None:
            return None
        if not EARLIEST_YEAR < day.year < LATEST_YEAR:
            self.error(
                day_tok,
                f"{day} is outside the years examples may use",
                f"write a date after {EARLIEST_YEAR} and before {LATEST_YEAR}",
            )
            return None
        naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)
        return localize(naive, zone(self.timezone))

    def example_block(self, tree: Tree[Token], built: dict[str, Any]) -> None:
        title = _tok(tree, "STRING")
        assert title is not None
        name = unquote(title, self.r)
        self.once(("example", name), tree, f'example "{name}"')
        parts: dict[str, Any] = {"events": {}, "expectations": []}
        for item in tree.children[2:]:
            assert isinstance(item, Tree)
            kind = item.data
            if kind == "given_case":
                parts["case"] = self.record(item.children[1], self.case_fields(), "case")  # type: ignore[arg-type]
            elif kind == "given_claim":
                parts["claim"] = self.record(item.children[1], CLAIM_FIELDS, "claim")  # type: ignore[arg-type]
            elif kind == "given_ratings":
                parts["ratings"] = self.ratings(item.children[1])  # type: ignore[arg-type]
            elif kind == "given_event":
                event_tok = item.children[1]
                assert isinstance(event_tok, Token)
                event = self.one_of(event_tok, (*kw.START_EVENTS, "appointment"), "event")
                when = self.local_datetime(item.children[2])  # type: ignore[arg-type]
                if event and when:
                    parts["events"][event] = when
            elif kind == "given_complexity":
                complexity = item.children[1]
                assert isinstance(complexity, Token)
                parts["complexity"] = self.one_of(complexity, kw.COMPLEXITIES, "complexity")
            else:
                expectation = self.expectation(item)
                if expectation is not None:
                    parts["expectations"].append(expectation)
        if not parts["expectations"]:
            self.error(
                tree,
                f'example "{name}" expects nothing',
                "add an expect line, such as: expect priority urgent",
            )
        built["examples"].append(
            Example(
                name,
                self.loc(tree),
                parts.get("case"),
                parts.get("ratings"),
                parts.get("claim"),
                parts["events"],
                parts.get("complexity"),
                tuple(parts["expectations"]),
            )
        )

    def ratings(self, tree: Tree[Token]) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for pair in _subtrees(tree, "pair"):
            key_tok, value = pair.children
            assert isinstance(key_tok, Token)
            if not isinstance(value, Token) or value.type != "NUMBER":
                self.error(value, "a rating is a number from 0 to 100")
                continue
            score = Decimal(str(value))
            if score > 100:
                self.error(value, "a rating is a number from 0 to 100")
                continue
            out[str(key_tok)] = score
            self.rating_refs.append(key_tok)
        return out

    def expectation(self, item: Tree[Token]) -> Expectation | None:
        where = self.loc(item)
        if item.data == "expect_priority":
            tok = _tok(item, "NAME")
            assert tok is not None
            self.priority_refs.append((str(tok), tok))
            return Expectation("priority", str(tok), where)
        if item.data == "expect_grade":
            tok = _tok(item, "NAME")
            assert tok is not None
            self.grade_refs.append((str(tok), tok))
            return Expectation("grade", str(tok), where)
        if item.data == "expect_due":
            milestone_tok = item.children[1]
            assert isinstance(milestone_tok, Token)
            milestone = self.one_of(milestone_tok, kw.MILESTONES, "milestone")
            when = self.local_datetime(item.children[2])  # type: ignore[arg-type]
            if milestone is None or when is None:
                return None
            return Expectation("due", when, where, milestone)
        chain = self.chain(_subtree(item, "chain"))  # type: ignore[arg-type]
        return None if chain is None else Expectation("approval", chain, where)

    # -- whole-file checks --------------------------------------------------------------------
    def cross_checks(
        self,
        priorities: list[PriorityRule],
        built: dict[str, Any],
        calendars: Mapping[str | None, WorkCalendar],
        complete: bool,
    ) -> None:
        names = list(dict.fromkeys(rule.name for rule in priorities))
        for priority, tok in self.priority_refs:
            if names and priority not in names:
                self.error(
                    tok, f'no priority rule names "{priority}"', kw.did_you_mean(priority, names)
                )
        if complete:
            for rule in priorities:
                if rule.name not in built["slas"] and rule.name in names:
                    names.remove(rule.name)
                    line = int(rule.location.rsplit(":", 1)[1])
                    self.r.at(
                        line,
                        None,
                        f'priority "{rule.name}" has no sla block',
                        f"add: sla {rule.name} {{ response within 30 minutes }}",
                    )
        for name, where in self.calendar_refs:
            if name not in self.declared_calendars:
                if name is None:
                    self.error(
                        where,
                        "working time needs a calendar, and this policy has none",
                        "add: calendar { workweek mon..fri  hours 09:00-17:00 }",
                    )
                else:
                    self.error(
                        where,
                        f'no calendar is named "{name}"',
                        kw.did_you_mean(name, [c for c in self.declared_calendars if c]),
                    )
        appraisal: Appraisal | None = built.get("appraisal")
        if self.grade_refs and appraisal is None:
            self.error(self.grade_refs[0][1], "expect grade needs an appraisal section")
        elif appraisal is not None:
            grade_names = [g.name for g in appraisal.grades]
            for name, tok in self.grade_refs:
                if grade_names and name not in grade_names:
                    self.error(
                        tok, f'no grade is named "{name}"', kw.did_you_mean(name, grade_names)
                    )
            indicator_names = [w.name for w in appraisal.indicators]
            for tok in self.rating_refs:
                if indicator_names and str(tok) not in indicator_names:
                    self.error(
                        tok,
                        f'no indicator is named "{tok}"',
                        kw.did_you_mean(str(tok), indicator_names),
                    )
        for example in built["examples"]:
            self.example_needs(example, built)

    def example_needs(self, example: Example, built: Mapping[str, Any]) -> None:
        line = int(example.location.rsplit(":", 1)[1])
        appraisal = built.get("appraisal")
        for expectation in example.expectations:
            problem = None
            if expectation.kind in ("priority", "due") and example.case is None:
                problem = f"expect {expectation.kind} needs a given case"
            elif expectation.kind == "grade" and example.ratings is None:
                problem = "expect grade needs given ratings"
            elif expectation.kind == "grade" and appraisal is not None and example.ratings:
                missing = [w.name for w in appraisal.indicators if w.name not in example.ratings]
                if missing:
                    problem = "given ratings must rate every indicator; missing: " + ", ".join(
                        missing
                    )
            elif expectation.kind == "approval" and (
                example.claim is None or built.get("expenses") is None
            ):
                problem = "expect approval needs a given claim and an expenses section"
            if problem:
                self.r.at(int(expectation.location.rsplit(":", 1)[1]) or line, None, problem)


def compile_tree(
    tree: Tree[Token],
    text: str,
    filename: str,
    functions: FunctionRegistry,
    metrics: Sequence[str],
    complete: bool = True,
    earlier: Sequence[Any] = (),
) -> Policy:
    """Check and compile a parse tree; PolicyError lists ``earlier`` issues and all found."""
    compiler = PolicyCompiler(text, filename, functions, metrics)
    compiler.r.issues.extend(earlier)
    try:
        policy = compiler.compile(tree, complete)
    except TooManyIssues:
        compiler.r.raise_if_any(stopped=True)
        raise
    compiler.r.raise_if_any()
    assert policy is not None
    return policy


__all__ = ["PolicyCompiler", "compile_tree"]
