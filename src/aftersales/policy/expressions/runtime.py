"""What generated code runs with: the fixed field accessors, record views, and the
compiled condition a policy holds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from aftersales.policy.expressions.nodes import Expr


def sub(value: Any, key: str) -> Any:
    """The fixed accessor for nested fields: a mapping's key or an object's attribute."""
    if value is None:
        return None
    if type(value) is dict or isinstance(value, Mapping):
        return value.get(key)
    return getattr(value, key, None)


def contains(text: Any, part: Any) -> bool:
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


def guard_call(impl: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        if any(arg is None for arg in args):
            return None
        return impl(*args)

    return call


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
