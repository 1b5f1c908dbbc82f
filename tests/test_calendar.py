"""Working-time arithmetic, against the language page and an independent oracle."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales import Duration, ValidationError, WorkCalendar
from aftersales.core.calendar import add_months

SH = ZoneInfo("Asia/Shanghai")
SPLIT = [(8 * 60 + 30, 12 * 60), (13 * 60, 17 * 60 + 30)]


def shanghai() -> WorkCalendar:
    return WorkCalendar(
        "Asia/Shanghai",
        range(5),
        SPLIT,
        holidays=[date(2026, 10, d) for d in range(1, 8)],
        workdays=[date(2026, 10, 10)],
    )


def at(*args: int, tz: ZoneInfo = SH) -> datetime:
    return datetime(*args, tzinfo=tz)


D = Duration.parse


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        (at(2026, 11, 27, 16), "4 working hours", at(2026, 11, 30, 11)),  # the language page
        (at(2026, 11, 27, 16), "1 working day", at(2026, 11, 30, 16)),
        (at(2026, 11, 28, 10), "1 working day", at(2026, 12, 1, 8, 30)),
        (at(2026, 11, 27, 16), "90 working minutes", at(2026, 11, 27, 17, 30)),  # exact period end
        (at(2026, 11, 27, 11, 30), "1 working hour", at(2026, 11, 27, 13, 30)),  # over lunch
        (
            at(2026, 11, 27, 12, 15),
            "0 working minutes",
            at(2026, 11, 27, 13),
        ),  # lunch -> next period
        (at(2026, 9, 30, 16), "4 working hours", at(2026, 10, 8, 11)),  # before National Day
        (at(2026, 10, 9, 16), "4 working hours", at(2026, 10, 10, 11)),  # make-up Saturday
        (at(2026, 10, 9, 16), "2 working days", at(2026, 10, 12, 16)),
        (at(2026, 11, 27, 16), "30 minutes", at(2026, 11, 27, 16, 30)),
        (at(2026, 11, 27, 16), "2 days", at(2026, 11, 29, 16)),
        (at(2026, 1, 31, 9), "1 month", at(2026, 2, 28, 9)),  # clamps
        (at(2028, 2, 29, 9), "1 year", at(2029, 2, 28, 9)),
        (at(2026, 11, 27, 16), "2 weeks", at(2026, 12, 11, 16)),
        (at(2026, 11, 27, 16), "2 business days", at(2026, 12, 1, 16)),
    ],
)
def test_add(start: datetime, duration: str, due: datetime) -> None:
    assert shanghai().add(start, D(duration)) == due


def test_between_is_working_time() -> None:
    cal = shanghai()
    assert cal.between(at(2026, 11, 27, 16), at(2026, 11, 30, 11)) == timedelta(hours=4)
    assert cal.between(at(2026, 11, 30, 11), at(2026, 11, 27, 16)) == -timedelta(hours=4)
    assert cal.between(at(2026, 11, 28, 9), at(2026, 11, 29, 20)) == timedelta(0)


def test_results_are_in_the_calendar_zone_and_inputs_may_be_elsewhere() -> None:
    start = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)  # 16:00 in Shanghai
    due = shanghai().add(start, D("4 working hours"))
    assert due == at(2026, 11, 30, 11) and due.tzinfo == SH


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValidationError, match="no time zone"):
        shanghai().add(datetime(2026, 11, 27, 16), D("1 hour"))


def test_far_deadline_costs_no_more() -> None:
    # Crossing years must not step day by day: a year's span is two bisects either way.
    cal = shanghai()
    due = cal.add(at(2026, 11, 27, 16), D("250 working days"))
    assert cal.between(at(2026, 11, 27, 16), due) > timedelta(hours=1900)


# ---- daylight saving --------------------------------------------------------------------------
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK])
def test_clock_hours_are_exact_across_transitions(tz: ZoneInfo) -> None:
    cal = WorkCalendar(str(tz), range(7), [(0, 1440)])
    spring = datetime(2026, 3, 29 if tz is BERLIN else 8, 0, 30, tzinfo=tz)
    due = cal.add(spring, D("3 hours"))
    assert due.timestamp() - spring.timestamp() == 3 * 3600
    assert (due.hour, due.minute) == (4, 30)  # the wall clock shows four hours
    autumn = (
        datetime(2026, 10, 25, 0, 30, tzinfo=BERLIN)
        if tz is BERLIN
        else datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK)
    )
    due = cal.add(autumn, D("3 hours"))
    assert (due.hour, due.minute) == (2, 30)  # the wall clock shows two hours


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK])
def test_days_keep_the_wall_clock(tz: ZoneInfo) -> None:
    cal = WorkCalendar(str(tz), range(7), [(0, 1440)])
    start = datetime(2026, 3, 28 if tz is BERLIN else 7, 9, 0, tzinfo=tz)
    due = cal.add(start, D("1 day"))
    assert (due.day - start.day, due.hour) == (1, 9)
    assert due.timestamp() - start.timestamp() == 23 * 3600


def test_a_wall_time_in_the_gap_moves_forward() -> None:
    cal = WorkCalendar("Europe/Berlin", range(7), [(0, 1440)])
    due = cal.add(datetime(2026, 3, 28, 2, 30, tzinfo=BERLIN), D("1 day"))
    assert (due.day, due.hour, due.minute) == (29, 3, 30)


def test_working_hours_across_the_spring_gap() -> None:
    # Works 00:00-24:00: 8 working hours from 20:00 before the change end at 05:00 (wall).
    cal = WorkCalendar("Europe/Berlin", range(7), [(0, 1440)])
    due = cal.add(datetime(2026, 3, 28, 20, 0, tzinfo=BERLIN), D("8 working hours"))
    assert (due.day, due.hour) == (29, 5)


def test_working_day_start_on_a_fall_back_day() -> None:
    cal = WorkCalendar("America/New_York", range(5), [(9 * 60, 17 * 60)])
    due = cal.add(datetime(2026, 10, 30, 16, 0, tzinfo=NEW_YORK), D("1 working day"))
    assert due == datetime(2026, 11, 2, 16, 0, tzinfo=NEW_YORK)


def test_named_extended_calendar_on_a_sunday_night() -> None:
    cal = WorkCalendar("Asia/Taipei", range(7), [(6 * 60, 22 * 60)], name="延長服務")
    tp = ZoneInfo("Asia/Taipei")
    assert cal.add(datetime(2026, 11, 29, 21, 30, tzinfo=tp), D("4 working hours")) == datetime(
        2026, 11, 30, 9, 30, tzinfo=tp
    )
    assert cal.add(datetime(2026, 11, 29, 23, 0, tzinfo=tp), D("1 working day")) == datetime(
        2026, 12, 1, 6, 0, tzinfo=tp
    )


# ---- Duration -------------------------------------------------------------------------------
def test_duration_parse_and_str() -> None:
    assert str(D("1 working days")) == "1 working day"
    assert str(D("2 business hours")) == "2 working hours"
    assert D("1.5 hours").total_seconds() == 5400
    for bad in ("soon", "3 fortnights", "2 working weeks", "1.5 days", "-1 hours"):
        with pytest.raises(ValidationError):
            D(bad)


# ---- properties against an independent oracle ------------------------------------------------
BERLIN_CAL = WorkCalendar(
    "Europe/Berlin",
    range(5),
    [(7 * 60 + 30, 12 * 60), (12 * 60 + 30, 16 * 60 + 30)],
    holidays=[date(2026, 3, 30)],
    workdays=[date(2026, 3, 28)],
)


def oracle_is_working(cal: WorkCalendar, utc_minute: datetime) -> bool:
    local = utc_minute.astimezone(cal.tz)
    if not cal.is_working_day(local.date()):
        return False
    minute = local.hour * 60 + local.minute
    return any(a <= minute < b for a, b in cal.hours)


def oracle_add_minutes(cal: WorkCalendar, start: datetime, minutes: int) -> datetime:
    """Step one UTC minute at a time: slow, obviously right."""
    t = start.astimezone(timezone.utc)
    while not oracle_is_working(cal, t):
        t += timedelta(minutes=1)
    while minutes:
        if oracle_is_working(cal, t):
            minutes -= 1
        t += timedelta(minutes=1)
        if minutes and not oracle_is_working(cal, t):
            while not oracle_is_working(cal, t):
                t += timedelta(minutes=1)
    return t


instants = st.builds(
    lambda m: datetime(2026, 3, 20, tzinfo=timezone.utc) + timedelta(minutes=m),
    st.integers(0, 60 * 24 * 20),  # around the spring change, a holiday and a make-up day
)


@settings(max_examples=60, deadline=None)
@given(instants, st.integers(1, 60 * 16))
def test_add_working_minutes_matches_oracle(start: datetime, minutes: int) -> None:
    got = BERLIN_CAL.add(start, Duration(minutes, D("1 minute").unit, working=True))
    assert got == oracle_add_minutes(BERLIN_CAL, start, minutes)


@settings(max_examples=200, deadline=None)
@given(instants, st.integers(0, 60 * 40))
def test_between_inverts_add_from_working_time(start: datetime, minutes: int) -> None:
    start = BERLIN_CAL.next_working_time(start)
    due = BERLIN_CAL.add(start, Duration(minutes, D("1 minute").unit, working=True))
    assert BERLIN_CAL.between(start, due) == timedelta(minutes=minutes)


@settings(max_examples=200, deadline=None)
@given(instants, instants, st.integers(0, 3000))
def test_add_is_monotonic_in_start_and_duration(a: datetime, b: datetime, minutes: int) -> None:
    early, late = sorted((a, b))
    d = Duration(minutes, D("1 minute").unit, working=True)
    assert BERLIN_CAL.add(early, d) <= BERLIN_CAL.add(late, d)
    assert BERLIN_CAL.add(early, d) <= BERLIN_CAL.add(
        early, Duration(minutes + 1, d.unit, working=True)
    )


@settings(max_examples=200, deadline=None)
@given(instants, st.integers(1, 3000), st.integers(0, 5))
def test_results_fall_in_working_time_or_on_a_period_end(
    start: datetime, minutes: int, days: int
) -> None:
    for duration in (
        Duration(minutes, D("1 minute").unit, working=True),
        Duration(days, D("1 day").unit, working=True),
    ):
        due = BERLIN_CAL.add(start, duration)
        if not BERLIN_CAL.is_working_time(due):
            local = due.astimezone(BERLIN_CAL.tz)
            assert local.hour * 60 + local.minute in {b for _, b in BERLIN_CAL.hours}


@settings(max_examples=100, deadline=None)
@given(instants, st.integers(0, 10))
def test_working_days_land_on_working_days(start: datetime, n: int) -> None:
    due = BERLIN_CAL.add(start, Duration(n, D("1 day").unit, working=True))
    assert BERLIN_CAL.is_working_day(due.astimezone(BERLIN_CAL.tz).date())


@given(
    st.dates(min_value=date(1, 2, 1), max_value=date(9998, 11, 30)),
    st.integers(min_value=-12, max_value=12),
)
def test_add_months_agrees_with_the_standard_calendar(day: date, months: int) -> None:
    """add_months finds a month's last day without the stdlib calendar module (start-up)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    assert add_months(day, months) == date(year, month + 1, min(day.day, last))
