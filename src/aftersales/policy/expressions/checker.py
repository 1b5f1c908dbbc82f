"""Checking an expression: the parse tree to typed nodes, every mistake reported with a
hint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from lark import Token, Tree

from aftersales.core.duration import Duration
from aftersales.core.money import CURRENCY_CODES
from aftersales.policy.diagnostics import Reporter
from aftersales.policy.expressions.literals import read_duration, unquote
from aftersales.policy.expressions.nodes import (
    BoolOp,
    Call,
    Compare,
    Expr,
    FieldRef,
    Literal,
    Not,
    describe,
    number_value,
)
from aftersales.policy.functions import FunctionRegistry, ValueType
from aftersales.policy.keywords import RESERVED_WORDS, did_you_mean

T = ValueType

_ORDERED = {T.NUMBER, T.MONEY, T.PERCENT, T.DURATION}
_OP_TEXT = {
    "EQ": "==",
    "NE": "!=",
    "LT": "<",
    "LE": "<=",
    "GT": ">",
    "GE": ">=",
    "IN": "in",
    "CONTAINS": "contains",
}


class Checker:
    """Type-checks expression trees for one kind of place (its ``fields``)."""

    def __init__(
        self,
        reporter: Reporter,
        fields: Mapping[str, ValueType],
        functions: FunctionRegistry,
        currency: str | None,
        priorities: Sequence[str] = (),
    ) -> None:
        self.reporter = reporter
        self.fields = fields
        self.functions = functions
        self.currency = currency
        self.priorities = priorities

    def error(self, where: Tree[Token] | Token, message: str, hint: str | None = None) -> None:
        self.reporter.error(where, message, hint)

    # -- entry points -------------------------------------------------------------------------
    def condition(self, tree: Tree[Token] | Token) -> Expr | None:
        """A checked expression that must be true or false."""
        node = self.check(tree)
        if node is not None and node.type is not T.BOOL:
            self.error(
                tree,
                f"a condition must be true or false, but {describe(node, self.reporter)}"
                f" is {node.type}",
                _compare_hint(node),
            )
            return None
        return node

    def check(self, tree: Tree[Token] | Token) -> Expr | None:
        if isinstance(tree, Token):
            return self.token(tree)
        kind = tree.data
        if kind == "field":
            return self.field(tree.children[0])  # type: ignore[arg-type]
        if kind in ("or_test", "and_test"):
            return self.boolean(tree, "or" if kind == "or_test" else "and")
        if kind == "not_expr":
            return self.negation(tree)
        if kind == "compare":
            return self.compare(tree)
        if kind == "call":
            return self.call(tree)
        if kind == "list":
            return self.list(tree)
        if kind == "money":
            return self.money(tree)
        if kind == "duration":
            duration = self.duration(tree)
            return None if duration is None else Literal(T.DURATION, tree, duration)
        raise AssertionError(f"unexpected expression node {kind}")  # pragma: no cover

    # -- leaves -------------------------------------------------------------------------------
    def token(self, tok: Token) -> Expr | None:
        kind = tok.type
        if kind == "STRING":
            return Literal(T.TEXT, tok, unquote(tok, self.reporter))
        if kind == "NUMBER":
            return Literal(T.NUMBER, tok, number_value(tok))
        if kind == "PERCENT":
            return Literal(T.PERCENT, tok, Decimal(tok[:-1]))
        if kind in ("TRUE", "FALSE"):
            return Literal(T.BOOL, tok, kind == "TRUE")
        raise AssertionError(f"unexpected token {kind}")  # pragma: no cover

    def field(self, tok: Token) -> Expr | None:
        name = str(tok)
        if name in RESERVED_WORDS:
            self.error(
                tok,
                f'"{name}" is a reserved word, not a field',
                f"reserved words cannot name fields; known fields: {self.known()}",
            )
            return None
        kind = self.fields.get(name)
        if kind is None:
            if name.startswith("custom."):
                self.error(
                    tok,
                    f'custom field "{name}" is not declared',
                    f"declare it with its type: fields {{ {name} text }}",
                )
            else:
                self.error(
                    tok,
                    f'unknown field "{name}"',
                    did_you_mean(name, self.fields) or f"known fields: {self.known()}",
                )
            return None
        return FieldRef(kind, tok, name)

    def known(self) -> str:
        return ", ".join(self.fields)

    def money(self, tree: Tree[Token]) -> Expr | None:
        amount, code = tree.children
        if not self.check_currency(code):  # type: ignore[arg-type]
            return None
        return Literal(T.MONEY, tree, Decimal(str(amount)))

    def check_currency(self, code: Token) -> bool:
        if code not in CURRENCY_CODES:
            self.error(code, f'unknown currency "{code}"', "use an ISO 4217 code such as CNY")
            return False
        if self.currency is not None and code != self.currency:
            self.error(
                code,
                f"amounts in this policy are in {self.currency}, not {code}",
                f"write the amount in {self.currency}",
            )
            return False
        return True

    def duration(self, tree: Tree[Token]) -> Duration | None:
        return read_duration(tree, self.reporter)

    def list(self, tree: Tree[Token]) -> Expr | None:
        items = [self.check(child) for child in tree.children[1:]]
        if any(item is None for item in items):
            return None
        checked = [item for item in items if item is not None]
        if not checked:
            self.error(tree, "an empty list matches nothing", "list at least one value")
            return None
        elem = checked[0].type
        for item in checked[1:]:
            if item.type is not elem:
                self.error(
                    item.where,
                    f"a list holds values of one type: this is {item.type}, the first is {elem}",
                )
                return None
        if elem is T.LIST:
            self.error(tree, "lists cannot hold lists")
            return None
        return Literal(T.LIST, tree, tuple(item.value for item in checked), elem)  # type: ignore[attr-defined]

    # -- operators ----------------------------------------------------------------------------
    def boolean(self, tree: Tree[Token], op: str) -> Expr | None:
        operands = [self.check(child) for child in tree.children]
        ok = True
        for child, node in zip(tree.children, operands, strict=True):
            if node is not None and node.type is not T.BOOL:
                self.error(
                    child,
                    f'"{op}" joins conditions, but {describe(node, self.reporter)} is {node.type}',
                    _compare_hint(node),
                )
                ok = False
        if not ok or any(node is None for node in operands):
            return None
        return BoolOp(T.BOOL, tree, op, tuple(n for n in operands if n is not None))

    def negation(self, tree: Tree[Token]) -> Expr | None:
        operand = self.check(tree.children[-1])
        if operand is None:
            return None
        if operand.type is not T.BOOL:
            self.error(
                tree,
                f'"not" applies to a condition, but {describe(operand, self.reporter)}'
                f" is {operand.type}",
                '"not" binds tighter than comparisons: write not (a == b), or a != b, '
                "or a not in [...]",
            )
            return None
        return Not(T.BOOL, tree, operand)

    def compare(self, tree: Tree[Token]) -> Expr | None:
        left_tree, op_tree, right_tree = tree.children
        op = " ".join(_OP_TEXT.get(t.type, str(t)) for t in op_tree.children)  # type: ignore[union-attr]
        left, right = self.check(left_tree), self.check(right_tree)
        if left is None or right is None:
            return None
        lt, rt = left.type, right.type
        lhs, rhs = describe(left, self.reporter), describe(right, self.reporter)
        if op in ("in", "not in"):
            if rt is not T.LIST:
                self.error(
                    right_tree,
                    f'"{op}" needs a list on its right, not {rt}',
                    'write a list in brackets, such as ["gold", "platinum"]',
                )
                return None
            elem = right.elem  # type: ignore[attr-defined]
            if lt is not elem:
                self.error(
                    tree, f"cannot look for {lhs} ({lt}) in a list of {elem}", _quote_hint(lt, elem)
                )
                return None
        elif op == "contains":
            if lt is not T.TEXT or rt is not T.TEXT:
                self.error(tree, f'"contains" looks for text in text, not {rt} in {lt}')
                return None
        else:
            if lt is not rt:
                self.error(
                    tree, f"cannot compare {lhs} ({lt}) with {rhs} ({rt})", _quote_hint(lt, rt)
                )
                return None
            if op not in ("==", "!=") and lt not in _ORDERED:
                self.error(
                    tree, f'"{op}" compares amounts; {lt} values can only be tested with == and !='
                )
                return None
        self.check_priority_names(left, right)
        return Compare(T.BOOL, tree, op, left, right)

    def check_priority_names(self, left: Expr, right: Expr) -> None:
        if not self.priorities:
            return
        if isinstance(left, FieldRef) and left.name == "priority":
            values = (
                right.value
                if isinstance(right, Literal) and right.type is T.LIST
                else ((right.value,) if isinstance(right, Literal) else ())
            )
            for value in values:
                if value not in self.priorities:
                    self.error(
                        right.where,
                        f'no priority is named "{value}"',
                        did_you_mean(str(value), self.priorities),
                    )

    def call(self, tree: Tree[Token]) -> Expr | None:
        name_tok = tree.children[0]
        assert isinstance(name_tok, Token)
        function = self.functions.get(str(name_tok))
        args = [self.check(child) for child in tree.children[1:]]
        if function is None:
            self.error(
                name_tok,
                f'unknown function "{name_tok}"',
                did_you_mean(str(name_tok), self.functions.names()),
            )
            return None
        if any(arg is None for arg in args):
            return None
        checked = [arg for arg in args if arg is not None]
        if len(checked) != len(function.params):
            self.error(
                tree,
                f"{function.name}() takes {len(function.params)} argument(s), not {len(checked)}",
            )
            return None
        for arg, param in zip(checked, function.params, strict=True):
            if arg.type is not param:
                self.error(arg.where, f"{function.name}() needs {param} here, not {arg.type}")
                return None
        return Call(function.returns, tree, function, tuple(checked))


def _compare_hint(node: Expr) -> str | None:
    if isinstance(node, FieldRef):
        if node.type is T.TEXT:
            return f'compare it with a value: {node.name} == "..."'
        if node.type is T.NUMBER:
            return f"compare it with a number: {node.name} >= 10"
    return None


def _quote_hint(have: ValueType, want: ValueType | None) -> str | None:
    if T.TEXT in (have, want) and T.NUMBER in (have, want):
        return 'text is written in quotes ("5"); numbers are written without them'
    return None
