"""The policy section, the calendars and the custom case fields."""

from __future__ import annotations

import contextlib
from datetime import date
from itertools import pairwise

from lark import Token, Tree

from aftersales.core.calendar import MINUTES_PER_DAY, WEEKDAYS, Season, WorkCalendar, zone
from aftersales.core.errors import ValidationError
from aftersales.core.money import CURRENCY_CODES
from aftersales.core.values import EARLIEST_YEAR, LATEST_YEAR
from aftersales.policy import keywords as kw
from aftersales.policy.compiler.base import (
    MAX_CALENDAR_DATES,
    MAX_DATE_RANGE,
    TYPE_OF_DECL,
    CompilerBase,
    Node,
    subtree_of,
    subtrees_of,
    token_of,
    tokens_of,
)
from aftersales.policy.expressions import (
    CASE_FIELDS,
    unquote,
)
from aftersales.policy.functions import ValueType


class Header(CompilerBase):
    def policy_block(self, tree: Tree[Token]) -> None:
        title = token_of(tree, "STRING")
        self.policy_name = unquote(title, self.r) if title else ""
        has_tz = False
        for item in subtrees_of(tree, "version_stmt", "timezone_stmt", "currency_stmt"):
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

    def calendar_block(self, tree: Tree[Token], calendars: dict[str | None, WorkCalendar]) -> None:
        title = token_of(tree, "STRING")
        name = unquote(title, self.r) if title is not None else None
        label = "the unnamed calendar" if name is None else f'calendar "{name}"'
        if not self.once(("calendar", name or ""), tree, label):
            return
        self.declared_calendars.add(name)
        self.calendar_titles[name] = tree
        issues_before = len(self.r.issues)
        workweek: set[int] = set()
        hours: list[tuple[int, int, Token]] = []
        # hours of some weekdays (a Saturday morning), and of date ranges (summer hours)
        day_hours: dict[int, list[tuple[int, int, Token]]] = {}
        seasons: list[tuple[Season, Tree[Token]]] = []
        holidays: dict[date, Node] = {}
        workdays: dict[date, Node] = {}
        seen_week = seen_hours = False
        for item in tree.children:
            if not isinstance(item, Tree):
                continue
            if item.data == "workweek_stmt":
                seen_week = True
                for spec in subtrees_of(item, "day_spec"):
                    workweek |= self.weekdays(spec)
            elif item.data == "hours_stmt":
                spans = [(*span, rng) for rng in tokens_of(item, "TIME_RANGE")
                         if (span := self.time_range(rng)) is not None]  # fmt: skip
                days_tree, dates_tree = (
                    subtree_of(item, "hours_days"),
                    subtree_of(item, "date_spec"),
                )
                own: set[int] = set()
                for spec in subtrees_of(days_tree, "day_spec") if days_tree else ():
                    own |= self.weekdays(spec)
                if dates_tree is not None:
                    span_dates = self.dates(dates_tree)
                    if span_dates:
                        hours_then = [(a, b) for a, b, _ in spans]
                        seasons.append((Season(min(span_dates), max(span_dates), hours_then,
                                               own), item))  # fmt: skip
                    self.no_overlap(spans)
                elif days_tree is not None:
                    for weekday in own:
                        day_hours.setdefault(weekday, []).extend(spans)
                else:
                    seen_hours = True
                    hours.extend(spans)
            else:
                target = holidays if item.data == "holiday_stmt" else workdays
                for day in self.dates(subtree_of(item, "date_spec")):  # type: ignore[arg-type]
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
        own_days = set(day_hours)
        if not seen_hours and (not own_days >= workweek or workdays):
            self.error(
                tree,
                f"{label} has no hours line",
                "add one, such as: hours 08:30-12:00, 13:00-17:30 (lines such as "
                "hours sat 08:00-12:00 give some weekdays their own)",
            )
        # hours for a weekday the work week leaves out: a weekday's own line, or a season's
        outside: list[tuple[int, Node]] = [(d, day_hours[d][0][2]) for d in own_days - workweek]
        outside += [(d, stmt) for season, stmt in seasons for d in season.days - workweek]
        for weekday, where in sorted(outside, key=lambda pair: pair[0]) if seen_week else ():
            name_of = WEEKDAYS[weekday]
            self.error(
                where,
                f"{label} gives {name_of} hours, but {name_of} is not in its workweek",
                f"add {name_of} to the workweek line",
            )
        self.no_overlap(hours)
        for spans in day_hours.values():
            self.no_overlap(spans)
        for day, node in workdays.items():
            if day in holidays:
                self.error(
                    node,
                    f"{day} is both a holiday and a working day",
                    f"the holiday is at {self.loc(holidays[day])}; keep one of them",
                )
        some_hours = hours or any(day_hours.values())
        if (
            seen_week
            and (seen_hours or day_hours)
            and not (workweek and some_hours)
            and len(self.r.issues) == issues_before
        ):
            self.error(tree, f"{label} has no working hour in a week")
        if not self.r.issues or (workweek and some_hours):
            with contextlib.suppress(ValidationError):  # already reported above
                calendars[name] = WorkCalendar(
                    self.timezone,
                    workweek,
                    [(a, b) for a, b, _ in hours],
                    holidays,
                    set(workdays) - set(holidays),
                    name=name,
                    day_hours={d: [(a, b) for a, b, _ in h] for d, h in day_hours.items()},
                    seasons=tuple(season for season, _ in seasons),
                )

    def no_overlap(self, spans: list[tuple[int, int, Token]]) -> None:
        """An error at each range of ``spans`` (sorted here) that overlaps the one before."""
        spans.sort()
        for (_, end, _), (start, _, tok) in pairwise(spans):
            if start < end:
                self.error(tok, "working hours overlap", "list each stretch of time once")

    def weekdays(self, spec: Tree[Token]) -> set[int]:
        days = []
        for tok in tokens_of(spec, "NAME"):
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
        ends = [self.parse_date(t) for t in tokens_of(spec, "DATE")]
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

    def fields_block(self, tree: Tree[Token]) -> None:
        for decl in tree.children[1:]:
            assert isinstance(decl, Tree)
            name_tok, type_tok, *more = decl.children
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
            if decl.data == "choice_decl":  # custom.impact one of high, medium, low
                choices = [self.name(t, "value") for t in (type_tok, *more)]  # type: ignore[arg-type]
                twice = [c for i, c in enumerate(choices) if c in choices[:i]]
                if twice:
                    self.error(decl, f'"{twice[0]}" is listed twice among {name}\'s values')
                    continue
                if self.once(("field", name), decl, f"field {name}"):
                    self.custom[name] = TYPE_OF_DECL["text"]
                    self.choices[name] = tuple(choices)
                continue
            kind = self.one_of(type_tok, kw.FIELD_TYPES, "field type")
            if kind is None or not self.once(("field", name), decl, f"field {name}"):
                continue
            self.custom[name] = TYPE_OF_DECL[kind]

    def severities_stmt(self, tree: Tree[Token]) -> None:
        names = [self.name(t, "severity") for t in tokens_of(tree, "NAME")]
        twice = [n for i, n in enumerate(names) if n in names[:i]]
        if twice:
            self.error(tree, f'severity "{twice[0]}" is listed twice')
        elif self.once(("section", "severities"), tree, "the severities line"):
            self.severities = tuple(names)

    def case_fields(self) -> dict[str, ValueType]:
        return {**CASE_FIELDS, **self.custom}
