"""The typed nodes a checked expression is made of."""

from __future__ import annotations

from typing import Any

import attrs
from lark import Token, Tree

from aftersales.policy.diagnostics import Reporter
from aftersales.policy.functions import PolicyFunction, ValueType

T = ValueType


@attrs.frozen
class Expr:
    type: ValueType
    where: Tree[Token] | Token = attrs.field(eq=False, repr=False)


@attrs.frozen
class Literal(Expr):
    value: Any
    elem: ValueType | None = None  # for lists


@attrs.frozen
class FieldRef(Expr):
    name: str


@attrs.frozen
class Call(Expr):
    function: PolicyFunction
    args: tuple[Expr, ...]


@attrs.frozen
class Not(Expr):
    operand: Expr


@attrs.frozen
class BoolOp(Expr):
    op: str  # "and" | "or"
    operands: tuple[Expr, ...]


@attrs.frozen
class Compare(Expr):
    op: str  # == != < <= > >= in "not in" contains
    left: Expr
    right: Expr


def number_value(text: str) -> int | float:
    return int(text) if "." not in text else float(text)


def describe(node: Expr, reporter: Reporter) -> str:
    return reporter.source(node.where) or "the value"
