"""Functions a policy expression may call, and the registry plugins extend.

A function declares the types of its parameters and result, so a call is type-checked at
load time like every other part of an expression. When any argument is missing (the case
has no such field), the call's value is missing too and the function is not called.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

from aftersales.core.errors import PolicyError


class ValueType(enum.Enum):
    """The type of a value in a policy expression."""

    TEXT = "text"
    NUMBER = "number"
    BOOL = "true/false"
    MONEY = "money"
    PERCENT = "percentage"
    DURATION = "duration"
    LIST = "list"

    def __str__(self) -> str:
        return self.value


@attrs.frozen
class PolicyFunction:
    """A function usable in policy expressions: ``starts_with(fault_code, "HYD")``."""

    name: str
    impl: Callable[..., Any]
    params: tuple[ValueType, ...]
    returns: ValueType
    doc: str = ""


class FunctionRegistry:
    """Name -> :class:`PolicyFunction`. ``register`` is what plugins call."""

    def __init__(self, functions: Iterable[PolicyFunction] = ()) -> None:
        self._functions: dict[str, PolicyFunction] = {}
        for function in functions:
            self._functions[function.name] = function

    def register(
        self,
        name: str,
        impl: Callable[..., Any],
        params: Iterable[ValueType | str],
        returns: ValueType | str,
        doc: str = "",
    ) -> PolicyFunction:
        """Make ``impl`` callable from policies as ``name(...)``.

        ``params`` and ``returns`` are :class:`ValueType` members or their values
        (``"text"``, ``"number"``, ``"true/false"``, ...).
        """
        if not name.isidentifier() or name.startswith("_"):
            raise PolicyError(f"cannot register policy function {name!r}: not a plain name")
        function = PolicyFunction(
            name, impl, tuple(ValueType(p) for p in params), ValueType(returns), doc
        )
        self._functions[name] = function
        return function

    def get(self, name: str) -> PolicyFunction | None:
        return self._functions.get(name)

    def names(self) -> list[str]:
        return sorted(self._functions)

    def copy(self) -> FunctionRegistry:
        return FunctionRegistry(self._functions.values())

    def __iter__(self) -> Iterator[PolicyFunction]:
        return iter(self._functions.values())

    def __contains__(self, name: object) -> bool:
        return name in self._functions


T = ValueType
BUILTIN_FUNCTIONS = FunctionRegistry(
    [
        PolicyFunction("lower", str.lower, (T.TEXT,), T.TEXT, "the text in lower case"),
        PolicyFunction("upper", str.upper, (T.TEXT,), T.TEXT, "the text in upper case"),
        PolicyFunction("length", len, (T.TEXT,), T.NUMBER, "the number of characters"),
        PolicyFunction(
            "starts_with",
            str.startswith,
            (T.TEXT, T.TEXT),
            T.BOOL,
            "whether the first text starts with the second",
        ),
        PolicyFunction(
            "ends_with",
            str.endswith,
            (T.TEXT, T.TEXT),
            T.BOOL,
            "whether the first text ends with the second",
        ),
    ]
)
"""The functions every policy may call."""


def default_functions() -> FunctionRegistry:
    """A fresh registry holding the built-in functions."""
    return BUILTIN_FUNCTIONS.copy()


__all__ = [
    "BUILTIN_FUNCTIONS",
    "FunctionRegistry",
    "PolicyFunction",
    "ValueType",
    "default_functions",
]
