"""Formatting for templates: percentages, dates and labels, the same on every page."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from campaign import figures, vocab
from campaign.clock import DEFAULT_TZ

WEEKDAYS = "一二三四五六日"


def percent(value: float | None, digits: int = 1) -> str:
    """0.8125 -> "81.3%"; None (no denominator) -> "—"."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def target(value) -> str:
    """A target percentage as set: 80.00 -> "80", 80.50 -> "80.5"."""
    return f"{Decimal(value).normalize():f}"


def cn_date(value: date | None) -> str:
    """2026-08-15 -> "2026年8月15日"."""
    return "" if value is None else f"{value.year}年{value.month}月{value.day}日"


def short_date(value: date | None) -> str:
    """2026-08-15 -> "8月15日"."""
    return "" if value is None else f"{value.month}月{value.day}日"


def local_time(value: datetime | None, tz: str = DEFAULT_TZ) -> str:
    """A stored (UTC) moment as Beijing time, "2026-11-22 10:40"."""
    return "" if value is None else value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def weekday(value: date) -> str:
    return "星期" + WEEKDAYS[value.weekday()]


FILTERS = {
    "local_time": local_time,
    "target": target,
    "percent": percent,
    "cn_date": cn_date,
    "short_date": short_date,
    "weekday": weekday,
}
GLOBALS = {"vocab": vocab, "reaches": figures.reaches}
