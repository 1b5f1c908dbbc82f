"""Hours per weekday and per date range (issue 17): a six-day week with a Saturday morning,
summer hours; the same working-time meanings, checked against a minute-stepping oracle that
reads the calendar's declarations itself; and the warning for a calendar nothing uses."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from conftest import MINIMAL, policy_errors
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales import Duration, ValidationError, WorkCalendar, parse_policy
from aftersales.cli import main
from aftersales.core.calendar import Season

BERLIN = ZoneInfo("Europe/Berlin")
SIX_DAYS = MINIMAL.replace(
    """calendar {
  workweek mon..fri
  hours    08:30-12:00, 13:00-17:30
}""",
    """calendar {
  workweek mon..sat
  hours    08:00-12:00, 13:00-17:00
  hours sat 08:00-12:00
  hours mon..fri 2026-06-01..2026-08-31 07:00-15:00
  holiday 2026-10-03 "German Unity Day"
  workday 2026-10-04 "a make-up Sunday"
}""",
).replace('timezone "Asia/Shanghai"', 'timezone "Europe/Berlin"')


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def hours(text: str) -> Duration:
    return Duration.parse(text)


def test_each_weekday_and_season_has_its_hours() -> None:
    cal = parse_policy(SIX_DAYS, "six.policy").calendar()
    assert cal.hours_on(date(2026, 11, 27)) == ((480, 720), (780, 1020))  # a Friday
    assert cal.hours_on(date(2026, 11, 28)) == ((480, 720),)  # Saturday morning
    assert cal.hours_on(date(2026, 7, 1)) == ((420, 900),)  # a summer Wednesday
    assert cal.hours_on(date(2026, 7, 4)) == ((480, 720),)  # summer leaves Saturday alone
    assert cal.hours_on(date(2026, 10, 4)) == ((480, 720), (780, 1020))  # make-up: a full day
    assert not cal.is_working_day(date(2026, 11, 29)) and not cal.is_working_day(date(2026, 10, 3))


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        (at(2026, 11, 27, 16), "2 working hours", at(2026, 11, 28, 9)),  # Fri, then Sat
        (at(2026, 11, 28, 11), "2 working hours", at(2026, 11, 30, 9)),  # Sat noon closes
        (at(2026, 11, 28, 14), "30 working minutes", at(2026, 11, 30, 8, 30)),
        (at(2026, 6, 30, 14), "2 working hours", at(2026, 7, 1, 8)),  # summer: 07:00-15:00
        (at(2026, 8, 31, 14), "2 working hours", at(2026, 9, 1, 9)),  # the season's last day
        (at(2026, 11, 27, 16), "1 working day", at(2026, 11, 28, 16)),  # the same time of day
        (at(2026, 10, 2, 16), "2 working hours", at(2026, 10, 4, 9)),  # holiday, make-up day
    ],
)
def test_working_time_follows_the_day_it_falls_on(
    start: datetime, duration: str, due: datetime
) -> None:
    cal = parse_policy(SIX_DAYS, "six.policy").calendar()
    assert cal.add(start, hours(duration)) == due
    if not duration.endswith("day"):
        assert cal.between(start, due) == timedelta(seconds=hours(duration).total_seconds())


def test_the_last_season_that_covers_a_date_decides() -> None:
    cal = WorkCalendar("Europe/Berlin", range(5), [(480, 1020)], seasons=[
        Season(date(2026, 6, 1), date(2026, 8, 31), [(420, 900)]),
        Season(date(2026, 8, 1), date(2026, 8, 14), [(600, 720)], days=[4]),  # August Fridays
    ])  # fmt: skip
    assert cal.hours_on(date(2026, 8, 7)) == ((600, 720),)
    assert cal.hours_on(date(2026, 8, 6)) == ((420, 900),)
    assert cal.hours_on(date(2026, 8, 21)) == ((420, 900),)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("hours sun 08:00-12:00", "gives sun hours, but sun is not in its workweek"),
        ("hours sat 08:00-12:00, 11:00-13:00", "working hours overlap"),
        ("hours 2026-06-01..2026-08-31 sun 08:00-12:00", "unexpected"),
        ("hours sat, sun 2026-06-01..2026-06-30 08:00-12:00", "sun is not in its workweek"),
        ("hours sat 2026-13-01 08:00-12:00", "2026-13-01"),
    ],
)
def test_mistakes_in_hours_lines(lines: str, message: str) -> None:
    text = SIX_DAYS.replace('  holiday 2026-10-03 "German Unity Day"\n', f"  {lines}\n")
    errors = policy_errors(text).errors
    assert any(message in e.message for e in errors), [e.message for e in errors]


def test_weekday_hours_alone_need_every_working_day_covered() -> None:
    only_days = MINIMAL.replace("hours    08:30-12:00, 13:00-17:30",
                                "hours mon..thu 08:00-16:00\n  hours fri 08:00-12:00")  # fmt: skip
    assert parse_policy(only_days).calendar().hours_on(date(2026, 11, 27)) == ((480, 720),)
    missing = MINIMAL.replace("hours    08:30-12:00, 13:00-17:30", "hours mon..thu 08:00-16:00")
    [error] = policy_errors(missing).errors
    assert "has no hours line" in error.message and "hours sat 08:00-12:00" in (error.hint or "")


def test_a_calendar_nothing_uses_is_a_warning() -> None:
    spare = MINIMAL + 'calendar "night" {\n  workweek mon..sun\n  hours 22:00-24:00\n}\n'
    [warning] = parse_policy(spare, "t.policy").warnings
    assert warning.line == 18 and 'calendar "night" is not used' in warning.message
    used = spare.replace("response within 4 working hours",
                         'response within 4 working hours on "night"')  # fmt: skip
    assert parse_policy(used).warnings == ()
    assert parse_policy(MINIMAL).warnings == ()  # the unnamed calendar is the default


def test_policy_check_prints_warnings_and_passes(tmp_path: object) -> None:
    from pathlib import Path

    file = Path(str(tmp_path)) / "spare.policy"
    file.write_text(MINIMAL + 'calendar "night" {\n  workweek mon..sun\n  hours 22:00-24:00\n}\n')
    result = CliRunner().invoke(main, ["policy", "check", str(file)])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"{file}: ok (1 warning(s))"
    assert f"{file}:18:1: warning: calendar" in result.stderr and "hint:" in result.stderr


def test_the_model_refuses_what_the_compiler_would() -> None:
    with pytest.raises(ValidationError, match="not in the work week"):
        WorkCalendar("Europe/Berlin", range(5), [(480, 1020)], day_hours={6: [(480, 720)]})
    with pytest.raises(ValidationError, match="overlap"):
        WorkCalendar(
            "Europe/Berlin", range(6), [(480, 1020)], day_hours={5: [(480, 720), (600, 800)]}
        )
    with pytest.raises(ValidationError, match="ends"):
        backwards = Season(date(2026, 9, 1), date(2026, 6, 1), [(420, 900)])
        WorkCalendar("Europe/Berlin", range(5), [(480, 1020)], seasons=[backwards])


# ---- against an independent oracle -------------------------------------------------------------
SIX = WorkCalendar(
    "Europe/Berlin", range(6), [(450, 720), (750, 990)],
    holidays=[date(2026, 3, 30)], workdays=[date(2026, 3, 29)],
    day_hours={5: [(480, 720)]},
    seasons=[Season(date(2026, 3, 25), date(2026, 4, 2), [(420, 900)], days=[0, 1, 2, 3, 4])],
)  # fmt: skip


def oracle_is_working(utc_minute: datetime) -> bool:
    """From the declarations, not from hours_on: the last season covering the date and its
    weekday, else a weekday's own hours, else the calendar's (a make-up day: those)."""
    local = utc_minute.astimezone(SIX.tz)
    day = local.date()
    if day in SIX.holidays or not (day.weekday() in SIX.workweek or day in SIX.workdays):
        return False
    spans = SIX.hours
    if day.weekday() in SIX.workweek and day.weekday() in SIX.day_hours:
        spans = SIX.day_hours[day.weekday()]
    for season in SIX.seasons:
        if season.first <= day <= season.last and (not season.days or day.weekday() in season.days):
            spans = season.hours
    minute = local.hour * 60 + local.minute
    return any(a <= minute < b for a, b in spans)


def oracle_add(start: datetime, minutes: int) -> datetime:
    t = start.astimezone(timezone.utc)
    while not oracle_is_working(t):
        t += timedelta(minutes=1)
    while minutes:
        if oracle_is_working(t):
            minutes -= 1
        t += timedelta(minutes=1)
        if minutes and not oracle_is_working(t):
            while not oracle_is_working(t):
                t += timedelta(minutes=1)
    return t


instants = st.builds(
    lambda m: datetime(2026, 3, 20, tzinfo=timezone.utc) + timedelta(minutes=m),
    st.integers(0, 60 * 24 * 20),  # a season, the spring change, a holiday, a make-up Sunday
)


@settings(max_examples=80, deadline=None)
@given(instants, st.integers(1, 60 * 16))
def test_adding_working_minutes_matches_the_oracle(start: datetime, minutes: int) -> None:
    assert SIX.add(start, Duration(minutes, hours("1 minute").unit, working=True)) == oracle_add(
        start, minutes)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(instants, instants)
def test_between_counts_what_the_oracle_counts(a: datetime, b: datetime) -> None:
    early, late = sorted((a, b))
    early, late = early.replace(second=0), late.replace(second=0)
    if late - early > timedelta(days=3):
        late = early + timedelta(days=3)
    minutes, t = 0, early
    while t < late:
        minutes += oracle_is_working(t)
        t += timedelta(minutes=1)
    assert SIX.between(early, late) == timedelta(minutes=minutes)
