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

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar, cast

import attrs
from lark import Token, Tree

from aftersales.core.duration import UNIT_WORDS, Duration, duration_problem
from aftersales.core.money import CURRENCY_CODES
from aftersales.policy.diagnostics import Reporter
from aftersales.policy.functions import FunctionRegistry, PolicyFunction, ValueType
from aftersales.policy.keywords import RESERVED_WORDS, did_you_mean

T = ValueType

# ---- the fields each kind of expression may use ---------------------------------------------
CASE_FIELDS: Mapping[str, ValueType] = {
    "severity": T.TEXT,
    "machine_down": T.BOOL,
    "channel": T.TEXT,
    "fault": T.TEXT,
    "fault_code": T.TEXT,
    "product.model": T.TEXT,
    "product.line": T.TEXT,
    "product.serial": T.TEXT,
    "customer.name": T.TEXT,
    "customer.tier": T.TEXT,
    "customer.region": T.TEXT,
    "under_warranty": T.BOOL,
}
"""Fields of a case usable in ``priority`` and ``require certificate`` conditions."""

ASSIGNMENT_FIELDS: Mapping[str, ValueType] = {**CASE_FIELDS, "priority": T.TEXT}
CLAIM_FIELDS: Mapping[str, ValueType] = {"amount": T.MONEY, "lines": T.NUMBER, "cases": T.NUMBER}
REQUISITION_FIELDS: Mapping[str, ValueType] = {"value": T.MONEY, "quantity": T.NUMBER}
STOCK_FIELDS: Mapping[str, ValueType] = {
    "on_hand": T.NUMBER,
    "reserved": T.NUMBER,
    "available": T.NUMBER,
    "reorder_point": T.NUMBER,
    "reorder_quantity": T.NUMBER,
}


# ---- typed nodes -----------------------------------------------------------------------------
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


def number_value(text: str) -> int | float:
    return int(text) if "." not in text else float(text)


def describe(node: Expr, reporter: Reporter) -> str:
    return reporter.source(node.where) or "the value"


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


# ---- reading literals ------------------------------------------------------------------------
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


def unquote(tok: Token, reporter: Reporter) -> str:
    """The text of a STRING token, with its escapes (``\\"`` ``\\\\`` ``\\n`` ``\\t``) read."""
    body = str(tok)[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
            else:
                col = (tok.column or 1) + 1 + i
                reporter.at(
                    tok.line,
                    col,
                    f'unknown escape "\\{nxt}" in text',
                    'text understands \\" \\\\ \\n and \\t',
                    col + 2,
                )
                out.append(nxt)
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def read_duration(tree: Tree[Token], reporter: Reporter) -> Duration | None:
    """The Duration of a ``duration`` tree, or None after reporting why it is not one."""
    amount_tok = tree.children[0]
    unit_tok = tree.children[-1]
    working = len(tree.children) == 3
    unit = UNIT_WORDS[str(unit_tok)]
    amount = Decimal(str(amount_tok))
    problem = duration_problem(amount, unit, working)
    if problem:
        reporter.error(tree, problem)
        return None
    return Duration(amount, unit, working)


# ---- code generation -------------------------------------------------------------------------
def _sub(value: Any, key: str) -> Any:
    """The fixed accessor for nested fields: a mapping's key or an object's attribute."""
    if value is None:
        return None
    if type(value) is dict or isinstance(value, Mapping):
        return value.get(key)
    return getattr(value, key, None)


def _contains(text: Any, part: Any) -> bool:
    if text is None or part is None:
        return False
    return str(part).casefold() in str(text).casefold()


class ObjectView:
    """Lets generated code read an object's fields with ``.get(name)``, like a mapping."""

    __slots__ = ("_obj",)

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def get(self, key: str) -> Any:
        return getattr(self._obj, key, None)


def as_record(value: Any) -> Any:
    """``value`` itself if it is a mapping, else a view that reads its attributes."""
    if type(value) is dict or isinstance(value, (Mapping, ObjectView)):
        return value
    return ObjectView(value)


def _guard_call(impl: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        if any(arg is None for arg in args):
            return None
        return impl(*args)

    return call


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


def _at(cls: type[_T_AST], *fields: Any) -> _T_AST:
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
            "_sub": _sub,
            "_contains": _contains,
            "_type": type,
            "_dict": dict,
        }
        self._temps = 0
        self._functions: list[ast.FunctionDef] = []

    def const(self, value: Any) -> ast.expr:
        if value is None or type(value) in (str, int, float, bool):
            return _at(ast.Constant, value)
        name = f"_k{len(self.namespace)}"
        self.namespace[name] = value
        return _at(ast.Name, name, ast.Load())

    def field(self, name: str) -> ast.expr:
        head, *rest = name.split(".")
        node: ast.expr = _at(
            ast.Call,
            _at(ast.Attribute, _at(ast.Name, "c", ast.Load()), "get", ast.Load()),
            [_at(ast.Constant, head)],
            [],
        )
        for part in rest:
            # _t.get(part) if _type(_t := node) is _dict else _sub(_t, part): plain dicts,
            # the common case, skip the call to the general accessor
            held = self.temp()
            node = _at(
                ast.IfExp,
                _at(
                    ast.Compare,
                    _at(
                        ast.Call,
                        _at(ast.Name, "_type", ast.Load()),
                        [_at(ast.NamedExpr, _at(ast.Name, held, ast.Store()), node)],
                        [],
                    ),
                    [ast.Is()],
                    [_at(ast.Name, "_dict", ast.Load())],
                ),
                _at(
                    ast.Call,
                    _at(ast.Attribute, _at(ast.Name, held, ast.Load()), "get", ast.Load()),
                    [_at(ast.Constant, part)],
                    [],
                ),
                _at(
                    ast.Call,
                    _at(ast.Name, "_sub", ast.Load()),
                    [_at(ast.Name, held, ast.Load()), _at(ast.Constant, part)],
                    [],
                ),
            )
        return node

    def temp(self) -> str:
        self._temps += 1
        return f"_t{self._temps}"

    def emit(self, node: Expr) -> ast.expr:
        if isinstance(node, Literal):
            if node.type is T.LIST:
                try:
                    return self.const(frozenset(node.value))
                except TypeError:  # pragma: no cover - every list value type is hashable
                    return self.const(tuple(node.value))
            return self.const(node.value)
        if isinstance(node, FieldRef):
            return self.field(node.name)
        if isinstance(node, Not):
            return _at(ast.UnaryOp, ast.Not(), self.emit(node.operand))
        if isinstance(node, BoolOp):
            op: ast.boolop = ast.And() if node.op == "and" else ast.Or()
            return _at(ast.BoolOp, op, [self.emit(n) for n in node.operands])
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Call):
            name = f"_f{len(self.namespace)}"
            self.namespace[name] = _guard_call(node.function.impl)
            return _at(
                ast.Call, _at(ast.Name, name, ast.Load()), [self.emit(a) for a in node.args], []
            )
        raise AssertionError(f"cannot emit {node!r}")  # pragma: no cover

    def compare(self, node: Compare) -> ast.expr:
        left, right = self.emit(node.left), self.emit(node.right)
        if node.op == "contains":
            return _at(ast.Call, _at(ast.Name, "_contains", ast.Load()), [left, right], [])
        cmp = _CMP_AST[node.op]()
        if node.op in ("==", "!=", "in", "not in"):
            return _at(ast.Compare, left, [cmp], [right])
        # Ordering: a missing value makes the comparison false instead of raising.
        guards: list[ast.expr] = []
        operands = []
        for side, expr in ((node.left, left), (node.right, right)):
            if isinstance(side, Literal):
                operands.append(expr)
                continue
            name = self.temp()
            guards.append(
                _at(
                    ast.Compare,
                    _at(ast.NamedExpr, _at(ast.Name, name, ast.Store()), expr),
                    [ast.IsNot()],
                    [_at(ast.Constant, None)],
                )
            )
            operands.append(_at(ast.Name, name, ast.Load()))
        compare = _at(ast.Compare, operands[0], [cmp], [operands[1]])
        return _at(ast.BoolOp, ast.And(), [*guards, compare]) if guards else compare

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
        c_load = _at(ast.Name, "c", ast.Load())
        convert = _at(
            ast.If,
            _at(
                ast.Compare,
                _at(ast.Call, _at(ast.Name, "_type", ast.Load()), [c_load], []),
                [ast.IsNot()],
                [_at(ast.Name, "_dict", ast.Load())],
            ),
            [
                _at(
                    ast.Assign,
                    [_at(ast.Name, "c", ast.Store())],
                    _at(ast.Call, _at(ast.Name, "_as_record", ast.Load()), [c_load], []),
                )
            ],
            [],
        )
        arguments = ast.arguments(
            posonlyargs=[],
            args=[_at(ast.arg, "c")],
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
                statements.append(_at(ast.If, body.test, [_at(ast.Return, body.body)], []))
                body = body.orelse
        statements.append(_at(ast.Return, body))
        self._functions.append(_at(ast.FunctionDef, name, arguments, statements, []))
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


@attrs.frozen
class Condition:
    """A compiled policy condition. Call it with a mapping or an object."""

    source: str
    location: str
    node: Expr = attrs.field(repr=False, eq=False)
    code: CompiledCode = attrs.field(repr=False, eq=False)

    @property
    def test(self) -> Callable[[Any], Any]:
        return self.code.function

    def __call__(self, record: Any) -> bool:
        return bool(self.code.function(record))

    def __str__(self) -> str:
        return self.source


class CompiledCode:
    """The compiled function of a condition, given once: a file's conditions are compiled
    together, after the conditions that refer to them are made (one ``compile`` a policy)."""

    __slots__ = ("_function",)

    def __init__(self, function: Callable[[Any], Any] | None = None) -> None:
        self._function = function

    @property
    def function(self) -> Callable[[Any], Any]:
        if self._function is None:
            raise AssertionError("a condition of a policy that did not compile")
        return self._function

    def give(self, function: Callable[[Any], Any]) -> None:
        if self._function is not None:
            raise AssertionError("a condition's code is given once")
        self._function = function


def compile_condition(node: Expr, source: str, location: str, filename: str) -> Condition:
    emitter = Emitter()
    code = CompiledCode(emitter.build(emitter.emit(node), filename))
    return Condition(source, location, node, code)


__all__ = [
    "ASSIGNMENT_FIELDS",
    "CASE_FIELDS",
    "CLAIM_FIELDS",
    "REQUISITION_FIELDS",
    "STOCK_FIELDS",
    "Checker",
    "CompiledCode",
    "Condition",
    "Emitter",
    "Expr",
    "ObjectView",
    "as_record",
    "compile_condition",
    "read_duration",
    "unquote",
]
