"""Read-only containers, so a model handed out is immutable all the way down.

``FrozenDict`` and ``FrozenList`` are a ``dict`` and a ``list`` that refuse every change:
they still compare equal to plain ones, serialize to JSON, and unpack with ``dict(...)`` or
``[*...]`` into a copy the caller may change. A case read from the desk's cache can no longer
be edited in place to make the next read show a milestone nobody recorded (issue 14).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NoReturn


def _refuse(self: object, *args: object, **kwargs: object) -> NoReturn:
    raise TypeError(
        f"a {type(self).__name__} of a model is read-only; copy it (dict(...), list(...)) "
        "to change the copy, and record changes through the desk's actions"
    )


class FrozenDict(dict[str, Any]):
    """A dict that refuses changes after it is made."""

    __slots__ = ()
    __setitem__ = __delitem__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=lambda kv: kv[0])))

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self


class FrozenList(list[Any]):
    """A list that refuses changes after it is made."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = clear = extend = insert = pop = remove = reverse = sort = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenList, (list(self),))


_PLAIN = frozenset({str, int, float, bool, type(None), datetime, date, Decimal})


def freeze(value: Any) -> Any:
    """``value`` with every dict and list in it made read-only (JSON-like data)."""
    kind = type(value)
    if kind in _PLAIN or kind is FrozenDict or kind is FrozenList:
        return value
    if kind is dict or isinstance(value, Mapping):
        return FrozenDict({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return FrozenList([freeze(v) for v in value])
    return value


def frozen_dict(value: Mapping[str, Any] | None) -> FrozenDict:
    """The converter of a model's mapping field: a read-only copy, frozen all the way down
    (values that are plain already, most of them, are taken as they are)."""
    if type(value) is FrozenDict:
        return value
    if not value:
        return _EMPTY
    plain = _PLAIN
    return FrozenDict({k: v if type(v) in plain else freeze(v) for k, v in value.items()})


_EMPTY = FrozenDict()


__all__ = ["FrozenDict", "FrozenList", "freeze", "frozen_dict"]
