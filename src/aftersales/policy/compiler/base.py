"""The compiler's shared ground: the reporter, names, conditions, weights; and the typed
record of what the sections build (:class:`Built`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

import attrs
from lark import Token, Tree

from aftersales.core.duration import Duration
from aftersales.core.money import Money
from aftersales.core.vocabulary import SEVERITIES
from aftersales.policy import keywords as kw
from aftersales.policy.diagnostics import Reporter, first_token
from aftersales.policy.expressions import (
    Checker,
    CompiledCode,
    Condition,
    Emitter,
    read_duration,
)
from aftersales.policy.functions import FunctionRegistry, ValueType
from aftersales.policy.model import (
    Appraisal,
    AutoClose,
    ComplaintRules,
    CustomerMessages,
    Example,
    Expenses,
    FaultFamily,
    MaintenancePlan,
    Parts,
    PriorityTable,
    PromotionRule,
    Safety,
    SalesWarrantyRule,
    Sla,
    Target,
    Training,
    Warranty,
    Weight,
)

Node = Tree[Token] | Token
TYPE_OF_DECL = {"text": ValueType.TEXT, "number": ValueType.NUMBER, "bool": ValueType.BOOL}
ONCE_SECTIONS = {
    "policy_block": "policy",
    "fields_block": "fields",
    "repair_block": "repair",
    "warn_stmt": "warn at",
    "excuse_stmt": "excuse",
    "callback_stmt": "callback",
    "callback_optional_stmt": "callback optional",
    "repair_met_stmt": "repair met when",
    "close_auto_stmt": "close automatically",
    "reopen_stmt": "reopen within",
    "resolve_stmt": "resolve remotely",
    "warranty_stmt": "warranty",
    "escalate_stmt": "escalate",
    "hold_stmt": "hold",
    "appraisal_block": "appraisal",
    "expenses_block": "expenses",
    "parts_block": "parts",
    "training_block": "training",
    "safety_block": "safety",
}


def tokens_of(tree: Tree[Token], *types: str) -> list[Token]:
    return [c for c in tree.children if isinstance(c, Token) and c.type in types]


def token_of(tree: Tree[Token], *types: str) -> Token | None:
    found = tokens_of(tree, *types)
    return found[0] if found else None


def subtrees_of(tree: Tree[Token], *names: str) -> list[Tree[Token]]:
    return [c for c in tree.children if isinstance(c, Tree) and c.data in names]


def subtree_of(tree: Tree[Token], *names: str) -> Tree[Token] | None:
    found = subtrees_of(tree, *names)
    return found[0] if found else None


def percent_of(tok: Token) -> Decimal:
    return Decimal(str(tok)[:-1])


def shown_number(value: Decimal) -> str:
    return f"{value.normalize():f}"


MAX_DATE_RANGE = 366
"""Days one holiday or workday range may cover."""
MAX_CALENDAR_DATES = 20_000
"""Holidays and make-up working days one calendar may list (55 years of every day)."""


@attrs.define
class Built:
    """What the sections build, for the :class:`Policy` the file compiles to."""

    slas: dict[str, Sla] = attrs.Factory(dict)
    repair: dict[str, Target] = attrs.Factory(dict)
    examples: list[Example] = attrs.Factory(list)
    warn_at: tuple[Decimal, ...] = ()
    excuse: str | None = None
    hold: tuple[str, ...] = ()
    callback: Target | None = None
    callback_optional: bool = False
    repair_met_when: str = "accepted"
    close_automatically: AutoClose | None = None
    reopen_within: Duration | None = None
    resolve_remotely: tuple[str, ...] = ()
    repair_restarts_on_reopen: bool = False
    warranty: Warranty | None = None
    sales_warranties: list[SalesWarrantyRule] = attrs.Factory(list)
    fault_families: list[FaultFamily] = attrs.Factory(list)
    maintenance: list[MaintenancePlan] = attrs.Factory(list)
    escalate_after: int | None = None
    tell_customer: CustomerMessages | None = None
    survey_valid: Duration | None = None
    complaints: ComplaintRules | None = None
    product_problems_to: tuple[str, ...] = ()
    appraisal: Appraisal | None = None
    promotion: tuple[PromotionRule, ...] = ()
    expenses: Expenses | None = None
    parts: Parts | None = None
    training: Training | None = None
    safety: Safety | None = None


class CompilerBase:
    """Checks and compiles one parsed file, section by section (the subclasses); this holds
    what every section shares."""

    policy_name = ""
    version = ""
    grades_known: Sequence[str] = ()
    priorities_known: Sequence[str] = ()

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
        self.choices: dict[str, tuple[str, ...]] = {}  # custom fields declared ``one of``
        self.severities: tuple[str, ...] = SEVERITIES
        self.table: PriorityTable | None = None
        self.seen: dict[tuple[str, str], Node] = {}
        self.priority_refs: list[tuple[str, Token]] = []
        self.calendar_refs: list[tuple[str | None, Node]] = []
        self.grade_refs: list[tuple[str, Token]] = []
        self.declared_calendars: set[str | None] = set()
        self.calendar_titles: dict[str | None, Node] = {}  # where each calendar is declared
        self.unparsed: list[str] = []  # the lines of statements the parser could not read
        self.rating_refs: list[Token] = []
        # Every condition of the file is compiled in one go when the file checks out.
        self.emitter = Emitter()
        self.unbuilt: list[tuple[str, Condition]] = []

    def mentioned_unparsed(self, name: str) -> bool:
        """Whether a statement the parser could not read names ``name``: it may be what
        declares it (``priorty urgent when ...``), so a missing name is no error of its own."""
        word = re.compile(rf"(?<![\w.]){re.escape(name)}(?![\w.])")
        return any(word.search(line) for line in self.unparsed)

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
            out.append(Weight(name, percent_of(pct), self.loc(item)))
        return tuple(out)

    def check_sum(self, where: Node, weights: Sequence[Weight], what: str) -> None:
        total = sum((w.percent for w in weights), Decimal(0))
        if weights and total != 100:
            self.error(
                where,
                f"the {what} weights add up to {shown_number(total)}%, not 100%",
                "make the percentages add up to exactly 100%",
            )
