"""Durations as policies write them: ``30 minutes``, ``2 working days``, ``3 months``."""

from __future__ import annotations

import enum
import re
from decimal import Decimal, InvalidOperation

import attrs

from aftersales.core.errors import ValidationError


class Unit(enum.Enum):
    """A unit of time. Clock units count every minute; working units count the calendar."""

    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"

    @property
    def seconds(self) -> int | None:
        """Exact length in seconds, for the units that have one (minute and hour)."""
        return _UNIT_SECONDS.get(self)


_UNIT_SECONDS = {Unit.MINUTE: 60, Unit.HOUR: 3600}

UNIT_WORDS: dict[str, Unit] = {}
for _unit in Unit:
    UNIT_WORDS[_unit.value] = _unit
    UNIT_WORDS[_unit.value + "s"] = _unit

WORKING_UNITS = frozenset({Unit.MINUTE, Unit.HOUR, Unit.DAY})

_PATTERN = re.compile(
    r"^\s*(?P<amount>\d+(?:\.\d+)?)\s+(?:(?P<working>working|business)\s+)?(?P<unit>[a-z]+)\s*$"
)


MAX_AMOUNT: dict[tuple[Unit, bool], int] = {
    (Unit.MINUTE, False): 100 * 366 * 1440,
    (Unit.HOUR, False): 100 * 366 * 24,
    (Unit.DAY, False): 100 * 366,
    (Unit.WEEK, False): 100 * 53,
    (Unit.MONTH, False): 100 * 12,
    (Unit.YEAR, False): 100,
    (Unit.MINUTE, True): 10 * 366 * 1440,
    (Unit.HOUR, True): 10 * 366 * 24,
    (Unit.DAY, True): 10 * 366,
}
"""The longest duration of each unit: 100 years of clock time, 10 years' worth of working
time (so every deadline, warranty and validity period stays computable)."""


def _amount(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float, str)):
        raise ValidationError(f"a duration's amount is a number, not {type(value).__name__}")
    try:
        return Decimal(value if not isinstance(value, float) else str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError(f"a duration's amount is a number, not {value!r:.40}") from None


@attrs.frozen
class Duration:
    """An amount of clock time or working time.

    ``amount`` is a :class:`~decimal.Decimal`; only minutes and hours may be fractional.
    ``working`` durations count only the working time of a calendar and exist in minutes,
    hours and days.
    """

    amount: Decimal = attrs.field(converter=_amount)
    unit: Unit
    working: bool = False

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.working, bool):
            raise ValidationError("a duration's working flag is True or False")
        problem = duration_problem(self.amount, self.unit, self.working)
        if problem:
            raise ValidationError(problem)

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Read a duration as a policy writes it: ``"4 working hours"``, ``"90 days"``.

        ``business`` is accepted for ``working``, and singular and plural units alike.
        Raises :class:`ValidationError` for anything else.
        """
        m = _PATTERN.match(text) if isinstance(text, str) and len(text) < 100 else None
        if m is None:
            raise ValidationError(
                f"cannot read {text!r:.60} as a duration; write a number and a unit, "
                'such as "30 minutes" or "4 working hours"'
            )
        unit = UNIT_WORDS.get(m["unit"])
        if unit is None:
            raise ValidationError(
                f"unknown unit of time {m['unit']!r} in {text!r}; use minutes, hours, days, "
                "weeks, months or years"
            )
        try:
            amount = Decimal(m["amount"])
        except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
            raise ValidationError(f"bad amount in {text!r}") from exc
        return cls(amount, unit, m["working"] is not None)

    @property
    def is_clock(self) -> bool:
        return not self.working

    @property
    def whole(self) -> int:
        """The amount as a whole number (days, weeks, months and years always are)."""
        return int(self.amount)

    def total_seconds(self) -> int:
        """Length in seconds for minutes and hours (clock or working); else ValidationError."""
        seconds = self.unit.seconds
        if seconds is None:
            raise ValidationError(f"{self} has no fixed length in seconds")
        return int(self.amount * seconds)

    def __str__(self) -> str:
        amount = self.amount.normalize()
        number = f"{amount:f}"
        word = self.unit.value + ("" if amount == 1 else "s")
        return f"{number} {'working ' if self.working else ''}{word}"


def duration_problem(amount: Decimal, unit: Unit, working: bool) -> str | None:
    """Why ``amount unit`` is not a valid duration, or None."""
    if not isinstance(unit, Unit):
        return f"a duration's unit is a Unit such as Unit.HOUR, not {unit!r:.40}"
    if not amount.is_finite():
        return f"a duration's amount must be a finite number, not {amount}"
    if amount < 0:
        return "a duration cannot be negative"
    longest = MAX_AMOUNT.get((unit, bool(working)))
    if longest is not None and amount > longest:
        kind = "working " if working else ""
        return (
            f"{_big(amount)} {kind}{unit.value}s is too long; at most {longest:,} {kind}"
            f"{unit.value}s (100 years of clock time, 10 years' worth of working time)"
        )
    if working and unit not in WORKING_UNITS:
        return (
            f"working time is counted in minutes, hours or days, not {unit.value}s; "
            f'write clock time ("{amount} {unit.value}s") or working days'
        )
    if unit.seconds is None and amount != amount.to_integral_value():
        return f"{unit.value}s must be a whole number, not {amount}"
    return None


def _big(amount: Decimal) -> str:
    digits = amount.adjusted() + 1
    return f"{amount:f}" if digits <= 15 else f"a {digits}-digit number of"


__all__ = ["MAX_AMOUNT", "UNIT_WORDS", "WORKING_UNITS", "Duration", "Unit", "duration_problem"]
