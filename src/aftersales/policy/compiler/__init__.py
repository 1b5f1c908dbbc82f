"""From parse tree to :class:`Policy`: every static check of the language, all errors at once.

The compiler is a package by section of the language: the header and calendars
(:mod:`.header`), deadlines (:mod:`.deadlines`), the appraisal (:mod:`.appraisal`), the
operations sections (:mod:`.operations`), examples (:mod:`.examples`) and the whole-file
cross-checks (:mod:`.cross_checks`); what the sections build is the typed :class:`Built`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lark import Token, Tree

from aftersales.core.calendar import WorkCalendar
from aftersales.policy.compiler.base import ONCE_SECTIONS, Built
from aftersales.policy.compiler.cross_checks import CrossChecks
from aftersales.policy.diagnostics import TooManyIssues
from aftersales.policy.functions import FunctionRegistry, ValueType
from aftersales.policy.model import FieldDecl, Policy, maintenance_slas


class PolicyCompiler(CrossChecks):
    """Checks and compiles one parsed file. Use :func:`compile_tree`."""

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
            key = ONCE_SECTIONS.get(section.data)
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
        for section in sections:
            if section.data == "severities_stmt":
                self.severities_stmt(section)
        priorities = self.priority_rules(
            [s for s in sections if s.data == "priority_rule"],
            complete,
            [s for s in sections if s.data == "priority_table"],
        )
        self.priorities_known = tuple(dict.fromkeys(rule.name for rule in priorities))
        built = Built()
        handlers: dict[str, Callable[[Tree[Token], Built], None]] = {
            "sla_block": self.sla_block,
            "repair_block": self.repair_block,
            "warn_stmt": self.warn_stmt,
            "excuse_stmt": self.excuse_stmt,
            "callback_stmt": self.callback_stmt,
            "callback_optional_stmt": self.callback_optional_stmt,
            "close_auto_stmt": self.close_auto_stmt,
            "repair_met_stmt": self.repair_met_stmt,
            "reopen_stmt": self.reopen_stmt,
            "resolve_stmt": self.resolve_stmt,
            "warranty_stmt": self.warranty_stmt,
            "sales_warranty_stmt": self.sales_warranty_stmt,
            "fault_family_stmt": self.fault_family_stmt,
            "maintenance_block": self.maintenance_block,
            "escalate_stmt": self.escalate_stmt,
            "hold_stmt": self.hold_stmt,
            "tell_stmt": self.tell_stmt,
            "survey_stmt": self.survey_stmt,
            "complaint_deadlines_stmt": self.complaint_deadlines_stmt,
            "complaint_when_stmt": self.complaint_when_stmt,
            "product_problems_stmt": self.product_problems_stmt,
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
        for section in sections:  # after the appraisal, whose grades it names
            if section.data == "promote_stmt":
                self.promote_stmt(section, built)
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
                n: FieldDecl(
                    n, t.value if t is not ValueType.BOOL else "bool", "", self.choices.get(n, ())
                )
                for n, t in self.custom.items()
            },
            severities=self.severities,
            priority_table=self.table,
            priorities=tuple(priorities),
            slas={**built.slas, **maintenance_slas(built.maintenance)},
            repair=built.repair,
            warn_at=built.warn_at,
            excuse=built.excuse,
            hold=built.hold,
            callback=built.callback,
            callback_optional=built.callback_optional,
            close_automatically=built.close_automatically,
            repair_met_when=built.repair_met_when,
            reopen_within=built.reopen_within,
            resolve_remotely=built.resolve_remotely,
            repair_restarts_on_reopen=built.repair_restarts_on_reopen,
            warranty=built.warranty,
            sales_warranties=tuple(built.sales_warranties),
            fault_families=tuple(built.fault_families),
            maintenance=tuple(built.maintenance),
            escalate_after=built.escalate_after,
            tell_customer=built.tell_customer,
            survey_valid=built.survey_valid,
            complaints=built.complaints,
            product_problems_to=built.product_problems_to,
            appraisal=built.appraisal,
            promotion=built.promotion,
            expenses=built.expenses,
            parts=built.parts,
            training=built.training,
            safety=built.safety,
            examples=tuple(built.examples),
            decide=functions[decide_name],
            warnings=tuple(self.r.warnings),
        )


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
    compiler.unparsed = [i.source_line for i in earlier if getattr(i, "source_line", None)]
    try:
        policy = compiler.compile(tree, complete)
    except TooManyIssues:
        compiler.r.raise_if_any(stopped=True)
        raise
    compiler.r.raise_if_any()
    assert policy is not None
    return policy


__all__ = ["Built", "PolicyCompiler", "compile_tree"]
