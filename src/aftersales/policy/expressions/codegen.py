"""Code generation: a Python ``ast`` built from checked nodes, never from file text;
literals enter as constants and the code runs with no builtins."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any, TypeVar, cast

from aftersales.policy.expressions.nodes import BoolOp, Call, Compare, Expr, FieldRef, Literal, Not
from aftersales.policy.expressions.runtime import (
    CompiledCode,
    Condition,
    as_record,
    contains,
    guard_call,
    sub,
)
from aftersales.policy.functions import ValueType

_CMP_AST: dict[str, type[ast.cmpop]] = {
    "==": ast.Eq,
    "!=": ast.NotEq,
    "<": ast.Lt,
    "<=": ast.LtE,
    ">": ast.Gt,
    ">=": ast.GtE,
    "in": ast.In,
    "not in": ast.NotIn,
}


_T_AST = TypeVar("_T_AST", bound=ast.AST)


def located(cls: type[_T_AST], *fields: Any) -> _T_AST:
    """An AST node with a source position: generated code all sits on line 1.

    Setting it here spares ``ast.fix_missing_locations``, a Python-level walk that was a
    third of compiling a policy.
    """
    node: _T_AST = cast(Any, cls)(*fields, lineno=1, col_offset=0, end_lineno=1, end_col_offset=0)
    return node


class Emitter:
    """Builds one lambda's AST from checked nodes; constants live in its namespace."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {
            "__builtins__": {},
            "_sub": sub,
            "_contains": contains,
            "_type": type,
            "_dict": dict,
        }
        self._temps = 0
        self._functions: list[ast.FunctionDef] = []

    def const(self, value: Any) -> ast.expr:
        if value is None or type(value) in (str, int, float, bool):
            return located(ast.Constant, value)
        name = f"_k{len(self.namespace)}"
        self.namespace[name] = value
        return located(ast.Name, name, ast.Load())

    def field(self, name: str) -> ast.expr:
        head, *rest = name.split(".")
        node: ast.expr = located(
            ast.Call,
            located(ast.Attribute, located(ast.Name, "c", ast.Load()), "get", ast.Load()),
            [located(ast.Constant, head)],
            [],
        )
        for part in rest:
            # _t.get(part) if _type(_t := node) is _dict else _sub(_t, part): plain dicts,
            # the common case, skip the call to the general accessor
            held = self.temp()
            node = located(
                ast.IfExp,
                located(
                    ast.Compare,
                    located(
                        ast.Call,
                        located(ast.Name, "_type", ast.Load()),
                        [located(ast.NamedExpr, located(ast.Name, held, ast.Store()), node)],
                        [],
                    ),
                    [ast.Is()],
                    [located(ast.Name, "_dict", ast.Load())],
                ),
                located(
                    ast.Call,
                    located(ast.Attribute, located(ast.Name, held, ast.Load()), "get", ast.Load()),
                    [located(ast.Constant, part)],
                    [],
                ),
                located(
                    ast.Call,
                    located(ast.Name, "_sub", ast.Load()),
                    [located(ast.Name, held, ast.Load()), located(ast.Constant, part)],
                    [],
                ),
            )
        return node

    def temp(self) -> str:
        self._temps += 1
        return f"_t{self._temps}"

    def emit(self, node: Expr) -> ast.expr:
        if isinstance(node, Literal):
            if node.type is ValueType.LIST:
                try:
                    return self.const(frozenset(node.value))
                except TypeError:  # pragma: no cover - every list value type is hashable
                    return self.const(tuple(node.value))
            return self.const(node.value)
        if isinstance(node, FieldRef):
            return self.field(node.name)
        if isinstance(node, Not):
            return located(ast.UnaryOp, ast.Not(), self.emit(node.operand))
        if isinstance(node, BoolOp):
            op: ast.boolop = ast.And() if node.op == "and" else ast.Or()
            return located(ast.BoolOp, op, [self.emit(n) for n in node.operands])
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Call):
            name = f"_f{len(self.namespace)}"
            self.namespace[name] = guard_call(node.function.impl)
            return located(
                ast.Call, located(ast.Name, name, ast.Load()), [self.emit(a) for a in node.args], []
            )
        raise AssertionError(f"cannot emit {node!r}")  # pragma: no cover

    def compare(self, node: Compare) -> ast.expr:
        left, right = self.emit(node.left), self.emit(node.right)
        if node.op == "contains":
            return located(ast.Call, located(ast.Name, "_contains", ast.Load()), [left, right], [])
        cmp = _CMP_AST[node.op]()
        if node.op in ("==", "!=", "in", "not in"):
            return located(ast.Compare, left, [cmp], [right])
        # Ordering: a missing value makes the comparison false instead of raising.
        guards: list[ast.expr] = []
        operands = []
        for side, expr in ((node.left, left), (node.right, right)):
            if isinstance(side, Literal):
                operands.append(expr)
                continue
            name = self.temp()
            guards.append(
                located(
                    ast.Compare,
                    located(ast.NamedExpr, located(ast.Name, name, ast.Store()), expr),
                    [ast.IsNot()],
                    [located(ast.Constant, None)],
                )
            )
            operands.append(located(ast.Name, name, ast.Load()))
        compare = located(ast.Compare, operands[0], [cmp], [operands[1]])
        return located(ast.BoolOp, ast.And(), [*guards, compare]) if guards else compare

    def add(self, body: ast.expr) -> str:
        """Queue a function of one record (a mapping or any object) that returns ``body``;
        :meth:`finish` compiles every queued function at once. Returns the function's name.

        The function itself turns an object into a record, so callers pay one call::

            def _policy3(c):
                if _type(c) is not _dict:
                    c = _as_record(c)
                return <body>
        """
        name = f"_policy{len(self._functions)}"
        c_load = located(ast.Name, "c", ast.Load())
        convert = located(
            ast.If,
            located(
                ast.Compare,
                located(ast.Call, located(ast.Name, "_type", ast.Load()), [c_load], []),
                [ast.IsNot()],
                [located(ast.Name, "_dict", ast.Load())],
            ),
            [
                located(
                    ast.Assign,
                    [located(ast.Name, "c", ast.Store())],
                    located(ast.Call, located(ast.Name, "_as_record", ast.Load()), [c_load], []),
                )
            ],
            [],
        )
        arguments = ast.arguments(
            posonlyargs=[],
            args=[located(ast.arg, "c")],
            vararg=None,
            kwonlyargs=[],
            kw_defaults=[],
            kwarg=None,
            defaults=[],
        )
        statements: list[ast.stmt] = [convert]
        if isinstance(body, ast.IfExp):
            # a chain of "a if x else b if y else c" becomes flat if-statements: a nested
            # expression of many hundred rules would exhaust the compiler's recursion limit
            while isinstance(body, ast.IfExp):
                statements.append(located(ast.If, body.test, [located(ast.Return, body.body)], []))
                body = body.orelse
        statements.append(located(ast.Return, body))
        self._functions.append(located(ast.FunctionDef, name, arguments, statements, []))
        return name

    def finish(self, filename: str) -> dict[str, Callable[[Any], Any]]:
        """Compile the queued functions (one ``compile`` for the whole policy) by name."""
        code = compile(ast.Module(list(self._functions), []), f"<policy {filename}>", "exec")
        namespace = {**self.namespace, "_as_record": as_record}
        exec(code, namespace)
        return {f.name: namespace[f.name] for f in self._functions}

    def build(self, body: ast.expr, filename: str) -> Callable[[Any], Any]:
        """Compile one function of a record that returns ``body`` (see :meth:`add`)."""
        name = self.add(body)
        return self.finish(filename)[name]


def compile_condition(node: Expr, source: str, location: str, filename: str) -> Condition:
    emitter = Emitter()
    code = CompiledCode(emitter.build(emitter.emit(node), filename))
    return Condition(source, location, node, code)
