"""Campaign time: every date and deadline is read in Asia/Shanghai.

A deadline "by the 10th" runs until 23:59:59 on the 10th in the campaign's
time zone, whatever the server's local zone is.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"


def now(tz: str = DEFAULT_TZ) -> datetime:
    """The current moment as an aware datetime in the campaign zone."""
    return datetime.now(ZoneInfo(tz))


def today(tz: str = DEFAULT_TZ) -> date:
    """Today's date in the campaign zone."""
    return now(tz).date()


def end_of_day(day: date, tz: str = DEFAULT_TZ) -> datetime:
    """The last second of ``day`` (23:59:59) in the campaign zone."""
    return datetime.combine(day, time(23, 59, 59), ZoneInfo(tz))


def is_on_time(moment: datetime, due: date, tz: str = DEFAULT_TZ) -> bool:
    """Whether ``moment`` falls on or before the deadline day ``due`` (until 23:59:59.999…)."""
    return moment < datetime.combine(due + timedelta(days=1), time(0), ZoneInfo(tz))
