"""Working-time arithmetic: ``add`` a duration to an instant, measure working time ``between``.

The calendar turns its work week, hours, holidays and make-up working days into a sorted list
of working periods (UTC timestamps) with a running total of working seconds, one year at a
time, on first need. ``add`` and ``between`` then cost two binary searches whatever the
span: a deadline months away costs what one an hour away costs.

The meanings, which the tests pin down (policy-language.md, "Durations"):

- ``N minutes|hours``: the instant plus N x 60 s or N x 3600 s.
- ``N days|weeks|months|years``: the same local wall-clock time N days, weeks, months or years
  later; a month past a short month's end clamps to its last day; a wall-clock time that does
  not exist (a daylight-saving gap) moves forward by the gap; an ambiguous one takes the
  first of its two instants.
- ``N working minutes|hours``: the earliest instant at which N minutes of working time have
  passed since the start; a start outside working time counts from the next working period.
- ``N working days``: a start outside working time moves to the beginning of the next working
  period; the deadline is the same local time of day on the N-th working day after that day.

Working periods are half-open: 12:00 in ``08:30-12:00, 13:00-17:30`` is not working time.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from aftersales.core.duration import Duration, Unit
from aftersales.core.errors import ValidationError
from aftersales.core.values import aware

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
_SEARCH_YEARS = 50  # how far ahead a calendar looks for working time before giving up
_KNOWN_TZINFO = (ZoneInfo, timezone)
_LAST_YEAR = 9990  # the layout never reaches datetime's last year


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ValidationError if there is none."""
    shown = f"{name!r:.60}"
    # ZoneInfo opens a file by that name: a folder ("Asia"), an over-long name or a lone
    # surrogate fail as OSError or UnicodeError, not as "not found"
    if not isinstance(name, str) or not 0 < len(name) <= 100:
        raise ValidationError(
            f'unknown time zone {shown}; use an IANA name such as "Asia/Shanghai"'
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValidationError(
            f'unknown time zone {shown}; use an IANA name such as "Asia/Shanghai"'
        ) from exc


require_aware = aware
"""``value`` if it is a timezone-aware datetime; ValidationError otherwise."""


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """A wall-clock time in ``tz``; times in a daylight-saving gap move forward by the gap."""
    # fold=0 gives a gap time the offset from before the transition, which lands it past the gap.
    return datetime.fromtimestamp(naive.replace(tzinfo=tz, fold=0).timestamp(), tz)


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months; past a short month's end, the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    # the day before the next month's first (stdlib calendar costs start-up for this alone)
    last = 31 if month == 11 else (date(year, month + 2, 1) - timedelta(days=1)).day
    return date(year, month + 1, min(day.day, last))


def add_clock(start: datetime, duration: Duration, tz: ZoneInfo) -> datetime:
    """``start`` plus a clock ``duration``, the result in ``tz``.

    Minutes and hours are exact lengths; days, weeks, months and years follow the local
    wall clock of ``tz``.
    """
    require_aware(start, "start")
    seconds = duration.unit.seconds
    if seconds is not None:
        return datetime.fromtimestamp(start.timestamp() + float(duration.amount * seconds), tz)
    local = start.astimezone(tz).replace(tzinfo=None)
    n = duration.whole
    unit = duration.unit
    if unit is Unit.DAY or unit is Unit.WEEK:
        target = local + timedelta(days=n * (7 if unit is Unit.WEEK else 1))
    else:
        day = add_months(local.date(), n * (12 if unit is Unit.YEAR else 1))
        target = datetime.combine(day, local.time())
    return localize(target, tz)


@attrs.frozen
class _Spans:
    """Working periods of the years ``first..last``; replaced whole, never changed."""

    first: int
    last: int
    starts: list[float]
    ends: list[float]
    cum: list[float]  # working seconds before period i
    cum_end: list[float]  # working seconds up to the end of period i
    days: list[int]  # ordinals of the working days, ascending
    day_index: dict[int, int]
    lo: float  # instants in [lo, hi) lie inside first..last
    hi: float


def _weekdays(days: Iterable[int]) -> frozenset[int]:
    return frozenset(days)


def _dates(days: Iterable[date]) -> frozenset[date]:
    return frozenset(days)


def _sorted_hours(hours: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    return tuple(sorted(hours))


Hours = tuple[tuple[int, int], ...]
"""``(start, end)`` minutes after local midnight, sorted (``end`` may be 1440, ``24:00``)."""


def _day_hours(value: Mapping[int, Iterable[tuple[int, int]]]) -> dict[int, Hours]:
    return {int(day): _sorted_hours(hours) for day, hours in dict(value).items()}


@attrs.frozen
class Season:
    """Hours that replace a calendar's own from ``first`` to ``last`` (both included), on
    the weekdays ``days`` (0 = Monday; empty: every working day), such as summer hours."""

    first: date
    last: date
    hours: Hours = attrs.field(converter=_sorted_hours)
    days: frozenset[int] = attrs.field(factory=frozenset, converter=_weekdays)


def _seasons(value: Iterable[Season]) -> tuple[Season, ...]:
    return tuple(value)


def _check_hours(hours: Hours, what: str) -> None:
    for start, end in hours:
        if not 0 <= start < end <= MINUTES_PER_DAY:
            raise ValidationError(f"bad working hours {start}-{end} (minutes of the day) {what}")
    for (_, end), (start, _) in pairwise(hours):
        if start < end:
            raise ValidationError(f"working hours overlap {what}")


@attrs.frozen(eq=False)
class WorkCalendar:
    """When a team works: a work week, daily hours, holidays and make-up working days.

    ``hours`` are ``(start, end)`` minutes after local midnight (``end`` may be 1440, the
    ``24:00`` that ends a day): every working day's, except the weekdays ``day_hours`` gives
    their own (a Saturday morning) and the dates a :class:`Season` covers (the last season
    that covers a date decides). A make-up working day (``workdays``) works ``hours``.
    Holidays remove days; ``workdays`` add days the work week leaves out. Instants in and out
    are timezone-aware; results are in the calendar's zone.
    """

    timezone: str
    workweek: frozenset[int] = attrs.field(converter=_weekdays)
    hours: tuple[tuple[int, int], ...] = attrs.field(converter=_sorted_hours)
    holidays: frozenset[date] = attrs.field(factory=frozenset, converter=_dates)
    workdays: frozenset[date] = attrs.field(factory=frozenset, converter=_dates)
    name: str | None = None
    day_hours: dict[int, Hours] = attrs.field(factory=dict, converter=_day_hours)
    seasons: tuple[Season, ...] = attrs.field(default=(), converter=_seasons)
    tz: ZoneInfo = attrs.field(init=False, repr=False)
    _spans: list[_Spans] = attrs.field(init=False, repr=False, factory=list)
    _lock: threading.Lock = attrs.field(init=False, repr=False, factory=threading.Lock)

    @tz.default
    def _zone(self) -> ZoneInfo:
        return zone(self.timezone)

    def __attrs_post_init__(self) -> None:
        _check_hours(self.hours, "")
        for day, own in self.day_hours.items():
            if day not in self.workweek:
                raise ValidationError(f"hours for {WEEKDAYS[day]}, which is not in the work week")
            _check_hours(own, f"on {WEEKDAYS[day]}")
        for season in self.seasons:
            if season.last < season.first:
                raise ValidationError(f"a season ends ({season.last}) before it starts")
            _check_hours(season.hours, f"from {season.first}")
        some = bool(self.hours) or any(self.day_hours.values())
        if not some or not (self.workweek or self.workdays):
            raise ValidationError("a calendar needs at least one working hour")

    # -- construction helpers ---------------------------------------------------------------
    @classmethod
    def standard(cls, timezone: str, *, name: str | None = None) -> WorkCalendar:
        """Monday to Friday, 09:00-17:00, no holidays."""
        return cls(timezone, range(5), [(9 * 60, 17 * 60)], name=name)

    def is_working_day(self, day: date) -> bool:
        if day in self.holidays:
            return False
        return day.weekday() in self.workweek or day in self.workdays

    def hours_on(self, day: date) -> Hours:
        """The working hours of ``day`` if it is a working day (see the class)."""
        weekday = day.weekday()
        for season in reversed(self.seasons):
            if season.first <= day <= season.last and (not season.days or weekday in season.days):
                return season.hours
        if weekday not in self.workweek:
            return self.hours  # a make-up working day
        return self.day_hours.get(weekday, self.hours)

    # -- precomputed periods ----------------------------------------------------------------
    def _periods_of(self, year: int) -> Iterable[tuple[float, float, int]]:
        tz = self.tz
        day = date(year, 1, 1)
        one = timedelta(days=1)
        while day.year == year:
            if self.is_working_day(day):
                midnight = datetime(day.year, day.month, day.day)
                for start, end in self.hours_on(day):
                    a = localize(midnight + timedelta(minutes=start), tz).timestamp()
                    b = localize(midnight + timedelta(minutes=end), tz).timestamp()
                    if b > a:
                        yield a, b, day.toordinal()
            day += one

    def _build(self, first: int, last: int) -> _Spans:
        starts: list[float] = []
        ends: list[float] = []
        days: list[int] = []
        for year in range(first, last + 1):
            for a, b, ordinal in self._periods_of(year):
                if not days or days[-1] != ordinal:
                    days.append(ordinal)
                if ends and ends[-1] == a:  # adjacent periods (e.g. across midnight) merge
                    ends[-1] = b
                else:
                    starts.append(a)
                    ends.append(b)
        cum: list[float] = []
        cum_end: list[float] = []
        total = 0.0
        for a, b in zip(starts, ends, strict=True):
            cum.append(total)
            total += b - a
            cum_end.append(total)
        lo = localize(datetime(first, 1, 1), self.tz).timestamp()
        hi = localize(datetime(last + 1, 1, 1), self.tz).timestamp()
        day_index = {d: i for i, d in enumerate(days)}
        return _Spans(first, last, starts, ends, cum, cum_end, days, day_index, lo, hi)

    def _cover(self, first: int, last: int) -> _Spans:
        spans = self._spans[0] if self._spans else None
        if spans is not None and spans.first <= first and last <= spans.last:
            return spans
        with self._lock:
            spans = self._spans[0] if self._spans else None
            if spans is not None:
                first, last = min(first, spans.first), max(last, spans.last)
            if spans is None or spans.first > first or spans.last < last:
                spans = self._build(first, last)
                self._spans[:] = [spans]
            return spans

    def _year_of(self, ts: float) -> int:
        return datetime.fromtimestamp(ts, self.tz).year

    def _spans_at(self, *instants: float) -> _Spans:
        """Periods covering the years around ``instants`` (the hot path skips the year lookup)."""
        spans = self._spans[0] if self._spans else None
        if spans is not None and spans.lo <= min(instants) and max(instants) < spans.hi:
            return spans  # callers that look past spans.last widen it themselves
        return self._cover_instants(instants)

    def _cover_instants(self, instants: tuple[float, ...]) -> _Spans:
        return self._cover(self._year_of(min(instants)) - 1, self._year_of(max(instants)) + 1)

    def _timestamp(self, value: datetime, what: str) -> float:
        # zoneinfo and fixed offsets always know their offset; anything else is checked fully
        if type(value) is not datetime or type(value.tzinfo) not in _KNOWN_TZINFO:
            require_aware(value, what)
        return value.timestamp()

    # -- queries ------------------------------------------------------------------------------
    def is_working_time(self, when: datetime) -> bool:
        """Whether ``when`` falls inside a working period."""
        ts = self._timestamp(when, "time")
        spans = self._spans_at(ts)
        i = bisect_right(spans.starts, ts) - 1
        return i >= 0 and ts < spans.ends[i]

    def next_working_time(self, when: datetime) -> datetime:
        """``when`` if it is working time, else the start of the next working period."""
        return self.add(when, Duration(0, Unit.MINUTE, working=True))

    def add(self, start: datetime, duration: Duration) -> datetime:
        """The instant ``duration`` after ``start`` (see the module's meanings)."""
        ts = self._timestamp(start, "start")
        if not duration.working:
            return add_clock(start, duration, self.tz)
        if duration.unit is Unit.DAY:
            return self._add_working_days(start, duration.whole)
        return self._add_working_seconds(ts, duration.total_seconds())

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        """``start`` plus ``seconds`` of working time (what ``add`` does for working minutes
        and hours, without building a Duration)."""
        return self._add_working_seconds(self._timestamp(start, "start"), seconds)

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end``; negative when ``end`` is earlier."""
        s = self._timestamp(start, "start")
        e = self._timestamp(end, "end")
        spans = self._spans_at(s, e)
        seconds = _worked_before(spans, e) - _worked_before(spans, s)
        return timedelta(seconds=seconds)

    # -- the arithmetic ----------------------------------------------------------------------
    def _add_working_seconds(self, ts: float, seconds: float) -> datetime:
        spans = self._spans[0] if self._spans else None
        if spans is not None and spans.lo <= ts < spans.hi:  # the hot path, inlined
            starts = spans.starts
            k = bisect_right(spans.ends, ts)
            if k < len(starts):
                # period k holds ts, or is the next one when ts falls between periods
                inside = ts - starts[k] if ts > starts[k] else 0.0
                target = spans.cum[k] + inside + seconds
                j = bisect_left(spans.cum_end, target, k)
                if j < len(starts):
                    return datetime.fromtimestamp(starts[j] + (target - spans.cum[j]), self.tz)
        year = self._year_of(ts)
        last = year + 1
        while True:
            spans = self._cover(year - 1, last)
            k = bisect_right(spans.ends, ts)  # the period holding ts, or the next one
            if k < len(spans.starts):
                target = _worked_before(spans, ts) + seconds
                j = bisect_left(spans.cum_end, target, k)
                if j < len(spans.starts):
                    at = spans.starts[j] + (target - spans.cum[j])
                    return datetime.fromtimestamp(at, self.tz)
            if last - year > _SEARCH_YEARS or last >= _LAST_YEAR:
                raise ValidationError(
                    f"calendar {self.name or '(default)'} has no working time in the "
                    f"{_SEARCH_YEARS} years after {datetime.fromtimestamp(ts, self.tz):%Y-%m-%d}"
                )
            last = min(last + max(1, (last - year)), _LAST_YEAR)  # widen geometrically

    def _add_working_days(self, start: datetime, n: int) -> datetime:
        tz = self.tz
        ts = start.timestamp()
        spans = self._spans_at(ts)
        i = bisect_right(spans.starts, ts) - 1
        if i >= 0 and ts < spans.ends[i]:
            local = start.astimezone(tz)
        else:  # outside working time: from the beginning of the next working period
            local = self._add_working_seconds(ts, 0.0)
        ordinal = local.date().toordinal()
        year = local.year
        last = year + 1 + n // 200
        while True:
            spans = self._cover(year - 1, last)
            index = spans.day_index[ordinal] + n
            if index < len(spans.days):
                break
            if last - year > _SEARCH_YEARS or last >= _LAST_YEAR:
                raise ValidationError(
                    f"calendar {self.name or '(default)'} has fewer than {n} working days in "
                    f"the {last - year} years after {local:%Y-%m-%d}"
                )
            last = min(last + 1 + n // 200, _LAST_YEAR)
        day = date.fromordinal(spans.days[index])
        wall = datetime.combine(day, local.time())
        return localize(wall, tz)


def _worked_before(spans: _Spans, ts: float) -> float:
    """Working seconds from the start of ``spans`` up to ``ts``."""
    i = bisect_right(spans.starts, ts) - 1
    if i < 0:
        return 0.0
    if ts < spans.ends[i]:
        return spans.cum[i] + (ts - spans.starts[i])
    return spans.cum_end[i]


def utc(value: datetime) -> datetime:
    return require_aware(value).astimezone(timezone.utc)


__all__ = [
    "MINUTES_PER_DAY",
    "WEEKDAYS",
    "Season",
    "WorkCalendar",
    "add_clock",
    "add_months",
    "localize",
    "require_aware",
    "zone",
]
