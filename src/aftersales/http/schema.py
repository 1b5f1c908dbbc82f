"""JSON Schema of the SDK's attrs models and of its methods' keyword arguments, for the
OpenAPI document: read from the same classes and signatures the SDK uses, so the document
cannot drift from what the API takes and returns (JSON as ``aftersales.to_dict`` writes it)."""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

_SIMPLE: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    Decimal: {"type": "string", "format": "decimal"},
    datetime: {"type": "string", "format": "date-time"},
    date: {"type": "string", "format": "date"},
    timedelta: {"type": "number", "description": "seconds"},
    bytes: {"type": "string", "format": "byte"},
    Any: {},
    object: {},
}


class Schemas:
    """Collects the components (one per attrs class) while making references to them."""

    def __init__(self) -> None:
        self.components: dict[str, dict[str, Any]] = {}

    def of(self, tp: Any) -> dict[str, Any]:
        if tp in _SIMPLE:
            return dict(_SIMPLE[tp])
        if tp is type(None):
            return {"type": "null"}
        if attrs.has(tp):
            name = tp.__name__
            if name not in self.components:
                self.components[name] = {}  # placeholder: classes that refer to themselves
                self.components[name] = self._model(tp)
            return {"$ref": f"#/components/schemas/{name}"}
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in (typing.Union, types.UnionType):
            options = [self.of(a) for a in args]
            return options[0] if len(options) == 1 else {"anyOf": options}
        if origin in (tuple, list, Sequence, typing.Sequence, set, frozenset) or tp in (
            tuple,
            list,
        ):
            item = args[0] if args and args[0] is not Ellipsis else Any
            return {"type": "array", "items": self.of(item)}
        if origin in (dict, Mapping, typing.Mapping) or tp is dict:
            value = args[1] if len(args) == 2 else Any
            return {"type": "object", "additionalProperties": self.of(value)}
        if origin is typing.Literal:
            return {"enum": list(args)}
        if isinstance(tp, type):
            return {"type": "object", "description": tp.__name__}
        return {}

    def _model(self, cls: type) -> dict[str, Any]:
        hints = typing.get_type_hints(cls)
        props = {}
        required = []
        for field in attrs.fields(cls):
            props[field.name] = self.of(hints.get(field.name, Any))
            if field.default is attrs.NOTHING:
                required.append(field.name)
        schema: dict[str, Any] = {"type": "object", "properties": props}
        if required:
            schema["required"] = required
        if cls.__doc__:
            schema["description"] = inspect.cleandoc(cls.__doc__).split("\n\n")[0]
        return schema

    def arguments(self, func: Callable[..., Any], leave_out: Sequence[str]) -> dict[str, Any]:
        """The keyword arguments of ``func`` but ``leave_out``, as an object schema."""
        hints = typing.get_type_hints(func)
        props = {}
        required = []
        for name, param in inspect.signature(func).parameters.items():
            if name in leave_out or name == "self" or param.kind is param.VAR_KEYWORD:
                continue
            props[name] = self.of(hints.get(name, Any))
            if param.default is inspect.Parameter.empty:
                required.append(name)
        schema: dict[str, Any] = {"type": "object", "properties": props,
                                  "additionalProperties": False}  # fmt: skip
        if required:
            schema["required"] = required
        return schema


__all__ = ["Schemas"]
