"""Whole-file checks: every name a section refers to is declared somewhere in the file."""

from __future__ import annotations

from collections.abc import Mapping

from aftersales.core.calendar import WorkCalendar
from aftersales.policy import keywords as kw
from aftersales.policy.compiler.base import Built
from aftersales.policy.compiler.examples import Examples
from aftersales.policy.model import (
    Appraisal,
    Example,
    PriorityRule,
)


class CrossChecks(Examples):
    def cross_checks(
        self,
        priorities: list[PriorityRule],
        built: Built,
        calendars: Mapping[str | None, WorkCalendar],
        complete: bool,
    ) -> None:
        names = list(dict.fromkeys(rule.name for rule in priorities))
        for priority, tok in self.priority_refs:
            if names and priority not in names and not self.mentioned_unparsed(priority):
                self.error(
                    tok, f'no priority rule names "{priority}"', kw.did_you_mean(priority, names)
                )
        if complete:
            for rule in priorities:
                if rule.name not in built.slas and rule.name in names:
                    names.remove(rule.name)
                    line = int(rule.location.rsplit(":", 1)[1])
                    self.r.at(
                        line,
                        None,
                        f'priority "{rule.name}" has no sla block',
                        f"add: sla {rule.name} {{ response within 30 minutes }}",
                    )
        for name, where in self.calendar_refs:
            if name not in self.declared_calendars and not (
                name is not None and self.mentioned_unparsed(name)
            ):
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
        used = {name for name, _ in self.calendar_refs}
        for name, where in self.calendar_titles.items():
            if name is not None and name not in used:
                self.r.warn(
                    where,
                    f'calendar "{name}" is not used: no target counts working time on it',
                    f'name it in a target (arrival within 4 working hours on "{name}"), or '
                    "remove it",
                )
        appraisal: Appraisal | None = built.appraisal
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
        for example in built.examples:
            self.example_needs(example, built)

    def example_needs(self, example: Example, built: Built) -> None:
        line = int(example.location.rsplit(":", 1)[1])
        appraisal = built.appraisal
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
                example.claim is None or built.expenses is None
            ):
                problem = "expect approval needs a given claim and an expenses section"
            if problem:
                self.r.at(int(expectation.location.rsplit(":", 1)[1]) or line, None, problem)
