"""The other services over HTTP: each action (a public method that takes who acts, ``by``)
as ``POST /<service>/<method>`` with its keyword arguments as the JSON body, and each query
of :data:`READS` as ``GET /<service>/<method>?arg=value``. The token is ``by``; values are
checked by the SDK, as from Python; the result is its JSON (``aftersales.to_dict``)."""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from aftersales.core.errors import ValidationError
from aftersales.core.values import shown
from aftersales.services.desk import ServiceDesk

SERVICES = ("staff", "parts", "expenses", "training", "safety", "appraisals", "customers",
            "machines", "contracts", "complaints", "product_problems", "maintenance", "sla",
            "feedback", "tokens", "notifications")  # fmt: skip
"""The desk's services served besides the cases (``/cases`` has routes of its own)."""
READS: dict[str, tuple[str, ...]] = {
    "staff": ("get", "list", "team", "teams", "record", "eligibility"),
    "parts": ("part", "parts", "location", "stock", "movements", "orders", "purchase_order",
              "requisition", "requisitions", "valuation", "stocktake_due", "purchase_plan",
              "unaccounted", "expiring", "inspections", "supplier", "case_parts", "suppliers",
              "supplier_record", "suppliers_to_review"),
    "expenses": ("get", "claims", "history"),
    "training": ("course", "plan", "record", "sessions_of", "missing_for", "session",
                 "plan_check", "course_report"),
    "safety": ("tool", "tools", "incident", "incidents", "inspection_due", "overdue_tools",
               "overdue_incidents"),
    "appraisals": ("appraise", "appraise_all", "history", "outcomes", "ratings", "reviews",
                   "cycle_summary", "is_finalized", "follow_ups"),
    "customers": ("get", "find", "list", "history", "by_key"),
    "machines": ("get", "find", "list", "history", "parts", "readings", "warranty"),
    "contracts": ("get", "list", "history"),
    "complaints": ("get", "list", "overdue"),
    "product_problems": ("get", "list", "groups"),
    "maintenance": ("due", "plan"),
    "sla": ("report",),
    "feedback": ("digest",),
    "tokens": ("list",),
    "notifications": ("pending", "failed"),
}  # fmt: skip
"""The queries served: reads any member of the team may make (the SDK has no rule on who
reads); the services' other methods without ``by`` are the desk's own jobs (the tick's) and
are not served."""


def actions(desk: ServiceDesk) -> dict[tuple[str, str], Callable[..., Any]]:
    """``(service, method)`` -> the bound method, for every action served."""
    found: dict[tuple[str, str], Callable[..., Any]] = {}
    for service in SERVICES:
        for name, method in inspect.getmembers(getattr(desk, service), inspect.ismethod):
            if not name.startswith("_") and "by" in inspect.signature(method).parameters:
                found[(service, name)] = method
    return found


def reads(desk: ServiceDesk) -> dict[tuple[str, str], Callable[..., Any]]:
    """``(service, method)`` -> the bound method, for every query served."""
    return {(s, n): getattr(getattr(desk, s), n) for s, names in READS.items() for n in names}


def _plain(hint: Any) -> Any:
    """``X`` of ``X | None``."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(hint) if a is not type(None)]
        return rest[0] if len(rest) == 1 else hint
    return hint


def _listed(hint: Any) -> bool:
    return typing.get_origin(_plain(hint)) in (list, tuple, set, frozenset) or str(
        typing.get_origin(_plain(hint))
    ).endswith(("Iterable'>", "Sequence'>"))


def read_value(name: str, hint: Any, value: Any, text: bool) -> Any:
    """``value`` for a parameter typed ``hint``: instants, dates and spans read from JSON
    text (or a query string's), numbers and flags from a query string; the rest as given
    (the SDK checks it)."""
    plain = _plain(hint)
    if value is None:
        return None
    if plain is datetime and isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError(f"{name} is an ISO 8601 time, not {shown(value)}") from None
        if when.tzinfo is None:
            raise ValidationError(f"{name} {value!r} has no UTC offset; add one (+08:00)")
        return when
    if plain is date and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValidationError(f"{name} is a date (2026-11-23), not {shown(value)}") from None
    if plain is timedelta and isinstance(value, (int, float)) and not isinstance(value, bool):
        if not -1e12 < value < 1e12:
            raise ValidationError(f"{name} is a number of seconds, not {shown(value)}")
        return timedelta(seconds=value)
    if text and isinstance(value, str):
        if plain is timedelta:
            try:
                return read_value(name, hint, float(value), False)
            except ValueError:
                raise ValidationError(
                    f"{name} is a number of seconds, not {shown(value)}"
                ) from None
        if plain is int:
            if not value.lstrip("-").isdigit() or len(value) > 18:
                raise ValidationError(f"{name} is a whole number, not {shown(value)}")
            return int(value)
        if plain is bool:
            if value not in ("true", "false"):
                raise ValidationError(f"{name} is true or false, not {shown(value)}")
            return value == "true"
        if plain is Decimal:
            try:
                return Decimal(value)
            except InvalidOperation:
                raise ValidationError(f"{name} is a number, not {shown(value)}") from None
    return value


def arguments(
    method: Callable[..., Any], given: Mapping[str, Any], *, text: bool = False
) -> dict[str, Any]:
    """The keyword arguments of ``method`` that ``given`` (a JSON body, or a query string's
    values when ``text``) names, read by their type hints; an unknown name is refused with
    the known ones."""
    params = inspect.signature(method).parameters
    hints = typing.get_type_hints(method)
    known = [n for n in params if n != "by"]
    out: dict[str, Any] = {}
    for name, value in given.items():
        if name not in known:
            raise ValidationError(
                f"{name!r} is not an argument of this action; it takes {', '.join(known)}"
                if name != "by" else "by is not an argument over HTTP: the token says who acts"
            )  # fmt: skip
        hint = hints.get(name, Any)
        if isinstance(value, list) and not _listed(hint) and text:
            value = value[-1]
        out[name] = read_value(name, hint, value, text)
    return out


__all__ = ["READS", "SERVICES", "actions", "arguments", "read_value", "reads"]
