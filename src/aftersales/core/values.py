"""The checks every value from outside passes before it reaches a model or the store.

One home for what "a text", "an instant", "a count" and "an amount" may be, so every
service refuses the same hostile values with the same words (docs/limits.md lists the
bounds). Each function returns the value in its canonical form or raises
:class:`ValidationError` naming what was wrong and what would be right.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from email.errors import HeaderParseError
from email.headerregistry import Address
from itertools import islice
from typing import Any

from aftersales.core.errors import NotFound, ValidationError

EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)
"""The earliest instant the desk accepts (a real history may reach back decades)."""
LATEST = datetime(2200, 1, 1, tzinfo=timezone.utc)
"""Instants from here on are refused: deadlines, warranties and validity periods computed
from an accepted instant stay far inside what datetimes can hold."""
EARLIEST_YEAR = EARLIEST.year
LATEST_YEAR = LATEST.year - 1

MAX_TEXT = 100_000
"""Characters in a free text (a fault, instructions, a comment)."""
MAX_NAME = 200
"""Characters in an id, a name, a code or any other one-line text."""
MAX_AMOUNT = Decimal("1e12")
"""Amounts, costs, rates and prices are below this in magnitude."""
MAX_COUNT = 10**9
"""Quantities, nights, days and other counts are at most this."""
MAX_ITEMS = 500
"""Lines, parts, people or names one list argument may hold."""

# Lone surrogates cannot be stored as UTF-8; NUL ends a C string in PostgreSQL; the other
# C0 controls (and DEL) only appear in text to break a header, a terminal or a CSV.
_BAD_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_BAD_IN_LINE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\ud800-\udfff]")


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "...")


def text(
    value: Any,
    what: str,
    *,
    required: bool = True,
    line: bool = False,
    limit: int | None = None,
) -> Any:
    """``value`` stripped, if it is acceptable text; None stays None unless ``required``.

    ``line`` texts (ids, names, codes, addresses) hold no control characters at all and at
    most :data:`MAX_NAME` characters; free texts may hold tabs and line breaks and at most
    :data:`MAX_TEXT`.
    """
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text, not {type(value).__name__}")
    stripped = value.strip()
    if not stripped:
        raise ValidationError(f"{what} must be non-empty text")
    longest = limit if limit is not None else (MAX_NAME if line else MAX_TEXT)
    if len(stripped) <= longest and stripped.isprintable():
        return stripped  # the common case: one C call instead of a regular expression
    if len(stripped) > longest:
        raise ValidationError(
            f"{what} is {len(stripped):,} characters long; at most {longest:,} are accepted"
        )
    bad = (_BAD_IN_LINE if line else _BAD_IN_TEXT).search(stripped)
    if bad is not None:
        kind = "a line break" if bad.group() in "\n\r\u2028\u2029" else "a control character"
        if "\ud800" <= bad.group() <= "\udfff":
            kind = "a lone surrogate (not valid Unicode)"
        raise ValidationError(
            f"{what} {_shown(stripped)} contains {kind} at position {bad.start() + 1}; "
            f"{'one line of printable text' if line else 'printable text'} is accepted"
        )
    return stripped


def items(value: Any, what: str, *, limit: int = MAX_ITEMS) -> list[Any]:
    """``value`` as a list: any iterable but text, bytes or a mapping, of at most ``limit``
    items (an endless iterator is cut there, not read to its end)."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError(f"{what} is a list, not {shown(value)}")
    out = list(islice(value, limit + 1))
    if len(out) > limit:
        raise ValidationError(f"{what} holds at most {limit:,} items")
    return out


def name(value: Any, what: str, *, required: bool = True) -> Any:
    """A one-line text: an id, a name, a code, an e-mail address."""
    return text(value, what, required=required, line=True)


def email(value: Any, what: str) -> str | None:
    """An e-mail address (``name@example.com``: one line, one ``@``, as the standard library's
    mail headers read it), or None for None or blank text."""
    if isinstance(value, str) and not value.strip():
        return None
    address = name(value, what, required=False)
    if address is None:
        return None
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError, HeaderParseError) as exc:
        raise ValidationError(f"{what} {shown(address)} is not an e-mail address "
                              "(name@example.com)") from exc  # fmt: skip
    return str(address)


def key(value: Any, what: str) -> str:
    """An id to look a record up by: text (ValidationError otherwise); text no record can
    have (control characters, lone surrogates, over-long) is simply not found."""
    if type(value) is str and 0 < len(value) <= MAX_NAME * 4 and value.isprintable():
        return value  # the common case
    if not isinstance(value, str):
        raise ValidationError(f"{what} is text, not {type(value).__name__}")
    if not value or len(value) > MAX_NAME * 4 or _BAD_IN_LINE.search(value):
        raise NotFound(f"no {what} {_shown(value)}")
    return value


def aware(value: Any, what: str = "time") -> datetime:
    """``value`` if it is a timezone-aware datetime; ValidationError otherwise."""
    if not isinstance(value, datetime):
        raise ValidationError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValidationError(
            f"{what} {value.isoformat()} has no time zone; pass an aware datetime, "
            "e.g. datetime(2026, 11, 27, 16, 0, tzinfo=ZoneInfo('Asia/Shanghai'))"
        )
    return value


def moment(value: Any, what: str = "time") -> datetime:
    """An aware datetime within :data:`EARLIEST` .. :data:`LATEST`."""
    when = aware(value, what)
    if not EARLIEST_YEAR <= when.year <= LATEST_YEAR:  # the year alone: comparing aware
        # datetimes asks their zones for offsets, a third of this function's time
        raise ValidationError(
            f"{what} {when.isoformat()} is out of range; the desk accepts times from "
            f"{EARLIEST_YEAR} to {LATEST_YEAR}"
        )
    return when


def day(value: Any, what: str = "date") -> date:
    """A calendar date (not a datetime) within the desk's years."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationError(
            f"{what} must be a date such as date(2026, 11, 27), not {type(value).__name__}"
        )
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(
            f"{what} {value.isoformat()} is out of range; the desk accepts dates from "
            f"{EARLIEST_YEAR} to {LATEST_YEAR}"
        )
    return value


def day_text(text: str, what: str) -> date:
    """A date written ISO style (``2024-05-31``), as a command line or a CSV file gives it."""
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise ValidationError(f"{what} {shown(text)} is not a date (2024-05-31)") from None


_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def period(value: Any, what: str = "a period") -> str:
    """A month written ``YYYY-MM`` (an appraisal's, a digest's), within the years kept."""
    if not isinstance(value, str) or not _PERIOD.fullmatch(value):
        raise ValidationError(f"{what} is a month written YYYY-MM, not {shown(value)}")
    if not EARLIEST_YEAR <= int(value[:4]) <= LATEST_YEAR:
        raise ValidationError(
            f"the period {value} is out of range; months from {EARLIEST_YEAR} to {LATEST_YEAR}"
        )
    return value


def flag(value: Any, what: str) -> bool:
    """True or False, and nothing that merely looks like one ("no" is not False)."""
    if not isinstance(value, bool):
        raise ValidationError(f"{what} must be True or False, not {shown(value)}")
    return value


def count(value: Any, what: str, *, minimum: int = 0, maximum: int = MAX_COUNT) -> int:
    """A whole number within ``minimum .. maximum`` (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{what} must be a whole number, not {shown(value)}")
    if not minimum <= value <= maximum:
        raise ValidationError(f"{what} must be from {minimum:,} to {maximum:,}, not {shown(value)}")
    return value


def amount(
    value: Any,
    what: str,
    *,
    minimum: Decimal | int | None = 0,
    maximum: Decimal | int = MAX_AMOUNT,
    positive: bool = False,
) -> Decimal:
    """A finite decimal number (given as Decimal, int, float or numeric text) in range."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float, str)):
        raise ValidationError(f"{what} must be a number, not {shown(value)}")
    if isinstance(value, str) and len(value) > 60:
        raise ValidationError(f"{what} {_shown(value)} is not a number the desk accepts")
    if isinstance(value, int) and abs(value) >= MAX_AMOUNT:
        raise ValidationError(f"{what} is too large; amounts are below {MAX_AMOUNT:,.0f}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(f"{what} must be a finite number, not {value}")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else str(value))
    except InvalidOperation:
        raise ValidationError(f"{what} {shown(value)} is not a number") from None
    if not number.is_finite():
        raise ValidationError(f"{what} must be a finite number, not {value}")
    if abs(number) >= MAX_AMOUNT:
        raise ValidationError(f"{what} is too large; amounts are below {MAX_AMOUNT:,.0f}")
    if positive and number <= 0:
        raise ValidationError(f"{what} must be above 0, not {number}")
    if minimum is not None and number < minimum:
        raise ValidationError(f"{what} must be at least {minimum}, not {number}")
    if number > maximum:
        raise ValidationError(f"{what} must be at most {maximum}, not {number}")
    return number


def shown(value: Any) -> str:
    """``value`` as an error message shows it: a short repr, whatever it is."""
    if isinstance(value, str):
        return _shown(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        return f"a number of about {int(value.bit_length() * 0.30103)} digits"
    try:
        shown = repr(value)
    except Exception:  # a hostile object's __repr__
        return f"a {type(value).__name__}"
    return shown if len(shown) <= 40 else f"a {type(value).__name__}"


def earlier(a: datetime, b: datetime) -> bool:
    """Whether instant ``a`` comes before instant ``b``. Python compares two datetimes of
    the same zone by their wall clocks, so in the hour a zone repeats when summer time ends
    02:10 (the second time, +01:00) would count as before 02:50 (the first, +02:00); the
    instants decide here."""
    return a.timestamp() < b.timestamp()


__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_AMOUNT",
    "MAX_COUNT",
    "MAX_ITEMS",
    "MAX_NAME",
    "MAX_TEXT",
    "amount",
    "aware",
    "count",
    "day",
    "earlier",
    "flag",
    "items",
    "key",
    "moment",
    "name",
    "shown",
    "text",
]
