"""Clock helpers for tests: a machine time zone, Beijing wall-clock times, time travel."""

import os
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import time_machine

SH = ZoneInfo("Asia/Shanghai")


@contextmanager
def machine_zone(name: str):
    """Run with the process time zone set to ``name`` (restored afterwards)."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


def shanghai(*args) -> datetime:
    """A Beijing wall-clock time: shanghai(2026, 11, 10, 23, 59, 59)."""
    return datetime(*args, tzinfo=SH)


def clock_env(moment: datetime) -> dict[str, str]:
    """The environment that starts a child process's clock (campaign/core/clock.py) at ``moment``:
    time-machine reaches only this process."""
    return {"GONGJIAN_TEST_CLOCK": moment.isoformat()}


def at(*args):
    """Travel to a Beijing wall-clock time, given to time_machine as the UTC instant
    (a zoned target would also switch the process zone and hide zone bugs)."""
    return time_machine.travel(shanghai(*args).astimezone(UTC), tick=False)
