"""Campaign time: every date and deadline is read in Asia/Shanghai.

A deadline "by the 10th" runs until 23:59:59 on the 10th in the campaign's
time zone, whatever the server's local zone is.

Tests move time with time-machine inside their own process. A process they start
(gunicorn, `flask scheduler run`) cannot be reached that way, so it is given the moment
to start from in ``GONGJIAN_TEST_CLOCK`` (an ISO 8601 moment with its offset): its clock
starts there and runs on at the wall clock's pace. Only the campaign's time moves;
the scheduler's own timers (every 5 minutes, every minute) keep real time. The app
logs a warning at start when the variable is set; it has no place in a deployment.
"""

import os
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"
TEST_CLOCK_ENV = "GONGJIAN_TEST_CLOCK"


def _test_offset() -> timedelta:
    """How far ``GONGJIAN_TEST_CLOCK`` moves this process's clock (zero when it is unset)."""
    value = os.environ.get(TEST_CLOCK_ENV, "").strip()
    if not value:
        return timedelta(0)
    start = datetime.fromisoformat(value)
    if start.tzinfo is None:
        raise ValueError(f"{TEST_CLOCK_ENV}={value!r} needs a UTC offset, e.g. +08:00")
    return start - datetime.now(UTC)


# Read once, when the process starts: the moved clock then ticks with the real one.
_OFFSET = _test_offset()


def is_moved() -> bool:
    """Whether ``GONGJIAN_TEST_CLOCK`` moved this process's clock."""
    return bool(_OFFSET)


def now(tz: str = DEFAULT_TZ) -> datetime:
    """The current moment as an aware datetime in the campaign zone."""
    return datetime.now(ZoneInfo(tz)) + _OFFSET


def today(tz: str = DEFAULT_TZ) -> date:
    """Today's date in the campaign zone."""
    return now(tz).date()


def is_on_time(moment: datetime, due: date, tz: str = DEFAULT_TZ) -> bool:
    """Whether ``moment`` falls on or before the deadline day ``due`` (until 23:59:59.999…)."""
    return moment < datetime.combine(due + timedelta(days=1), time(0), ZoneInfo(tz))
