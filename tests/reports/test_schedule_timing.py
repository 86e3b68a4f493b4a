"""When a scheduled report runs next: at its hour in the server's time zone, on its weekday or day of the month,
the 31st falling back to a shorter month's last day. Pure: no database."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from reports.models import ReportSchedule
from reports.schedules import next_run_after

MOSCOW = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")


def schedule(period="week", *, weekday=0, day_of_month=1, hour=9) -> ReportSchedule:
    return ReportSchedule(period=period, weekday=weekday, day_of_month=day_of_month, hour=hour)


def moscow(*args) -> datetime:
    return datetime(*args, tzinfo=MOSCOW)


def test_weekly_on_monday_at_nine_moscow_time():
    # Wednesday 25 November 2026 → Monday 30 November, 09:00 in Moscow, 06:00 UTC.
    run = next_run_after(schedule(weekday=0, hour=9), moscow(2026, 11, 25, 12, 0))
    assert run == moscow(2026, 11, 30, 9, 0)
    assert run.astimezone(UTC) == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def test_the_run_itself_is_not_next_a_second_before_it_is():
    monday_nine = moscow(2026, 11, 30, 9, 0)
    assert next_run_after(schedule(), monday_nine) == moscow(2026, 12, 7, 9, 0)
    assert next_run_after(schedule(), moscow(2026, 11, 30, 8, 59, 59)) == monday_nine


def test_a_utc_moment_is_read_in_the_server_time_zone():
    # 22:30 UTC on Sunday is 01:30 on Monday in Moscow: Monday's 00:00 run has passed, 09:00 has not.
    sunday_evening_utc = datetime(2026, 11, 29, 22, 30, tzinfo=UTC)
    assert next_run_after(schedule(hour=0), sunday_evening_utc) == moscow(2026, 12, 7, 0, 0)
    assert next_run_after(schedule(hour=9), sunday_evening_utc) == moscow(2026, 11, 30, 9, 0)


def test_weekly_on_sunday_late_in_the_evening():
    assert next_run_after(schedule(weekday=6, hour=23), moscow(2026, 11, 29, 23, 0)) == moscow(2026, 12, 6, 23, 0)


def test_moscow_has_no_daylight_saving_time_nine_is_six_utc_all_year():
    runs = [next_run_after(schedule("month", day_of_month=15), moscow(2026, month, 1)) for month in range(1, 13)]
    assert [run.astimezone(UTC).hour for run in runs] == [6] * 12
    assert [run.astimezone(MOSCOW).hour for run in runs] == [9] * 12


def test_a_zone_with_summer_time_keeps_the_wall_clock_hour(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    before = next_run_after(schedule(), datetime(2026, 3, 20, tzinfo=BERLIN))  # winter: UTC+1
    after = next_run_after(schedule(), before)  # the clocks went forward on 29 March: UTC+2
    assert (before.astimezone(UTC).hour, after.astimezone(UTC).hour) == (8, 7)
    assert after.astimezone(BERLIN) == datetime(2026, 3, 30, 9, 0, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (moscow(2026, 1, 15), moscow(2026, 1, 31, 9)),
        (moscow(2026, 1, 31, 9), moscow(2026, 2, 28, 9)),  # February 2026: 28 days
        (moscow(2028, 1, 31, 9), moscow(2028, 2, 29, 9)),  # leap year
        (moscow(2026, 2, 28, 9), moscow(2026, 3, 31, 9)),  # back to the 31st when the month has one
        (moscow(2026, 3, 31, 9), moscow(2026, 4, 30, 9)),
        (moscow(2026, 12, 31, 9), moscow(2027, 1, 31, 9)),  # over the new year
    ],
)
def test_monthly_on_the_31st_runs_on_the_last_day_of_shorter_months(after, expected):
    assert next_run_after(schedule("month", day_of_month=31), after) == expected


def test_monthly_on_the_first():
    assert next_run_after(schedule("month"), moscow(2026, 11, 30, 12)) == moscow(2026, 12, 1, 9)
    assert next_run_after(schedule("month"), moscow(2026, 12, 1, 9)) == moscow(2027, 1, 1, 9)


def test_yearly_in_january():
    assert next_run_after(schedule("year"), moscow(2026, 1, 1, 9)) == moscow(2027, 1, 1, 9)
    assert next_run_after(schedule("year", day_of_month=10), moscow(2026, 1, 5)) == moscow(2026, 1, 10, 9)
