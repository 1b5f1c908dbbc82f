"""Policy expressions: type-checked against the fields of their place, then compiled.

Checking turns the parse tree into typed nodes and reports every mistake with a hint.
Compiling builds a Python ``ast`` from the checked nodes, never from file text: literals
enter as constants, fields are read through one fixed accessor (``c.get(name)`` and
``_sub(value, name)``), functions through the registry, and the code runs with no
builtins. So no policy can run code of its own, and a decision costs about what a
hand-written ``if`` costs.

A field the case does not have is *missing*: it equals nothing, differs from everything,
is in no list, contains nothing, and every ordering comparison with it is false. A missing
true/false field counts as false.
"""

from aftersales.policy.expressions.checker import Checker
from aftersales.policy.expressions.codegen import Emitter, compile_condition, located
from aftersales.policy.expressions.fields import (
    ASSIGNMENT_FIELDS,
    CASE_FIELDS,
    CLAIM_FIELDS,
    REQUISITION_FIELDS,
    STOCK_FIELDS,
    SUPPLIER_FIELDS,
)
from aftersales.policy.expressions.literals import read_duration, unquote
from aftersales.policy.expressions.nodes import Expr, Literal
from aftersales.policy.expressions.runtime import CompiledCode, Condition, ObjectView, as_record

__all__ = [
    "ASSIGNMENT_FIELDS",
    "CASE_FIELDS",
    "CLAIM_FIELDS",
    "REQUISITION_FIELDS",
    "STOCK_FIELDS",
    "SUPPLIER_FIELDS",
    "Checker",
    "CompiledCode",
    "Condition",
    "Emitter",
    "Expr",
    "Literal",
    "ObjectView",
    "as_record",
    "compile_condition",
    "located",
    "read_duration",
    "unquote",
]
