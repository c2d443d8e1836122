"""Formatting for templates: percentages, dates and labels, the same on every page."""

from datetime import date

from campaign import figures, vocab

WEEKDAYS = "一二三四五六日"


def percent(value: float | None, digits: int = 1) -> str:
    """0.8125 -> "81.3%"; None (no denominator) -> "—"."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def cn_date(value: date | None) -> str:
    """2026-08-15 -> "2026年8月15日"."""
    return "" if value is None else f"{value.year}年{value.month}月{value.day}日"


def short_date(value: date | None) -> str:
    """2026-08-15 -> "8月15日"."""
    return "" if value is None else f"{value.month}月{value.day}日"


def weekday(value: date) -> str:
    return "星期" + WEEKDAYS[value.weekday()]


FILTERS = {"percent": percent, "cn_date": cn_date, "short_date": short_date, "weekday": weekday}
GLOBALS = {"vocab": vocab, "reaches": figures.reaches}
