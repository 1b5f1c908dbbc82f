"""The JSON-ready form of every public model, through one cattrs converter.

``to_dict(obj)`` gives plain dicts, lists, strings, numbers, booleans and ``None``: what an
integrator sends to an ERP and what storage backends keep. ``from_dict(cls, data)`` reads it
back; the round trip is exact. Field names are the attribute names; datetimes are ISO 8601
with their UTC offset (a value without one is refused); ``Decimal`` money and weights are
strings so no digit is lost; tuples are lists.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from cattrs.errors import BaseValidationError
from cattrs.preconf.json import make_converter

from aftersales.core.errors import ValidationError

T = TypeVar("T")

converter = make_converter()


def _structure_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, datetime):
        result = value
    else:
        try:
            result = datetime.fromisoformat(value if type(value) is str else str(value))
        except ValueError as exc:
            raise ValidationError(f"{value!r} is not an ISO 8601 date and time") from exc
    # fromisoformat gives a fixed offset or none; only other tzinfo classes need asking
    if result.tzinfo is None or (type(value) is not str and result.utcoffset() is None):
        raise ValidationError(f"{value!r} has no UTC offset; write e.g. 2026-11-27T16:00:00+08:00")
    return result


def _structure_decimal(value: Any, _: type) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValidationError(f"{value!r} is not a number") from exc


trusted = make_converter(detailed_validation=False)
"""For data this package wrote itself (stored snapshots): the same form, read without the
per-field error reports that make :func:`from_dict`'s messages precise (~15% faster)."""

for _c in (converter, trusted):
    _c.register_unstructure_hook(datetime, datetime.isoformat)
    _c.register_structure_hook(datetime, _structure_datetime)
    _c.register_unstructure_hook(Decimal, str)
    _c.register_structure_hook(Decimal, _structure_decimal)


def to_dict(obj: Any) -> Any:
    """The JSON-ready form of ``obj`` (any public model, or a list of them)."""
    return converter.unstructure(obj)


def from_dict(cls: type[T], data: Any) -> T:
    """Rebuild a ``cls`` from :func:`to_dict`'s form; ValidationError if it does not fit."""
    try:
        return converter.structure(data, cls)
    except ValidationError:
        raise
    except (BaseValidationError, TypeError, ValueError, KeyError) as exc:
        raise ValidationError(f"cannot read a {cls.__name__}: {_describe(exc)}") from exc


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseValidationError):
        parts = [_describe(e) for e in exc.exceptions]
        return "; ".join(parts) or str(exc)
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return str(exc)


__all__ = ["converter", "from_dict", "to_dict", "trusted"]
