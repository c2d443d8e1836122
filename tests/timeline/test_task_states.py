"""Task states at the deadline boundaries, in Asia/Shanghai whatever the machine's zone.

A deadline "by 2026-09-15" runs until 2026-09-15 23:59:59 Beijing time, which is
2026-09-15 15:59:59 UTC; 2026-09-16 00:00:00 Beijing time (16:00:00 UTC) is late.
Every case is given twice: as a Shanghai wall-clock time and as the same instant in
UTC. The process zone is set to UTC (and to UTC+14, ahead of Shanghai) for these
tests, so nothing may depend on the machine's local zone.
"""

import os
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaign.core.clock import is_on_time
from campaign.timeline.states import STATE_LABELS, TaskFacts, TaskState, task_state

SH = ZoneInfo("Asia/Shanghai")
DUE = date(2026, 9, 15)
STARTS = date(2026, 8, 27)  # the 抓好集中组建 phase of the 2026 campaign

# The last on-time second and the first late one, each as Shanghai time and as UTC.
LAST_ON_TIME = [
    datetime(2026, 9, 15, 23, 59, 59, tzinfo=SH),
    datetime(2026, 9, 15, 15, 59, 59, tzinfo=UTC),
]
FIRST_LATE = [
    datetime(2026, 9, 16, 0, 0, 0, tzinfo=SH),
    datetime(2026, 9, 15, 16, 0, 0, tzinfo=UTC),
]
ZONE_IDS = ["shanghai", "utc"]
LONG_AFTER = datetime(2026, 12, 30, 12, 0, tzinfo=SH)


@pytest.fixture(autouse=True, params=["UTC", "Pacific/Kiritimati"])
def machine_zone(request):
    """Run with the process time zone set to UTC (and to UTC+14), restored afterwards."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


def facts(accepted=False, delivered_at=None, due=DUE, starts=STARTS) -> TaskFacts:
    return TaskFacts(starts_on=starts, due_on=due, accepted=accepted, delivered_at=delivered_at)


def test_the_boundary_instants_are_the_same_in_both_spellings():
    assert LAST_ON_TIME[0] == LAST_ON_TIME[1]
    assert FIRST_LATE[0] == FIRST_LATE[1]
    assert FIRST_LATE[0] - LAST_ON_TIME[0] == timedelta(seconds=1)


@pytest.mark.parametrize("delivered", LAST_ON_TIME, ids=ZONE_IDS)
def test_accepted_delivery_at_the_last_second_of_the_due_day_is_on_time(delivered):
    state = task_state(facts(accepted=True, delivered_at=delivered), LONG_AFTER)
    assert state == TaskState.DONE_ON_TIME
    assert STATE_LABELS[state] == "按时完成"
    assert is_on_time(delivered, DUE)


@pytest.mark.parametrize("delivered", FIRST_LATE, ids=ZONE_IDS)
def test_accepted_delivery_at_midnight_after_the_due_day_is_late(delivered):
    state = task_state(facts(accepted=True, delivered_at=delivered), LONG_AFTER)
    assert state == TaskState.DONE_LATE
    assert STATE_LABELS[state] == "逾期完成"
    assert not is_on_time(delivered, DUE)


@pytest.mark.parametrize("delivered", LAST_ON_TIME + FIRST_LATE)
def test_the_acceptance_moment_does_not_change_an_accepted_state(delivered):
    """On time or late is decided by when the accepted delivery was submitted."""
    f = facts(accepted=True, delivered_at=delivered)
    states = {task_state(f, m) for m in (delivered, *FIRST_LATE, LONG_AFTER)}
    assert len(states) == 1


@pytest.mark.parametrize("moment", LAST_ON_TIME, ids=ZONE_IDS)
def test_not_accepted_at_the_last_second_is_in_progress(moment):
    state = task_state(facts(), moment)
    assert state == TaskState.IN_PROGRESS
    assert STATE_LABELS[state] == "进行中"


@pytest.mark.parametrize("moment", FIRST_LATE, ids=ZONE_IDS)
def test_not_accepted_at_midnight_after_the_due_day_is_overdue(moment):
    state = task_state(facts(), moment)
    assert state == TaskState.OVERDUE
    assert STATE_LABELS[state] == "已逾期"


@pytest.mark.parametrize("moment", FIRST_LATE, ids=ZONE_IDS)
def test_a_delivery_waiting_for_review_is_still_overdue_after_the_due_day(moment):
    """Submitted on time but not yet accepted: the state follows the clock until accepted."""
    f = facts(accepted=False, delivered_at=LAST_ON_TIME[0])
    assert task_state(f, LAST_ON_TIME[1]) == TaskState.IN_PROGRESS
    assert task_state(f, moment) == TaskState.OVERDUE
    # ... and once accepted it counts as on time, since it was submitted on time.
    assert task_state(facts(accepted=True, delivered_at=LAST_ON_TIME[0]), moment) == (
        TaskState.DONE_ON_TIME
    )


@pytest.mark.parametrize(
    "moment",
    [datetime(2026, 8, 26, 23, 59, 59, tzinfo=SH), datetime(2026, 8, 26, 15, 59, 59, tzinfo=UTC)],
    ids=ZONE_IDS,
)
def test_before_the_phase_starts_it_is_not_started(moment):
    state = task_state(facts(), moment)
    assert state == TaskState.NOT_STARTED
    assert STATE_LABELS[state] == "未开始"


@pytest.mark.parametrize(
    "moment",
    # 2026-08-27 00:00 in Shanghai is still 08-26 in UTC: the phase has started all the same.
    [datetime(2026, 8, 27, 0, 0, 0, tzinfo=SH), datetime(2026, 8, 26, 16, 0, 0, tzinfo=UTC)],
    ids=ZONE_IDS,
)
def test_from_the_first_second_of_the_phase_it_is_in_progress(moment):
    assert task_state(facts(), moment) == TaskState.IN_PROGRESS


def test_due_on_the_day_the_phase_starts():
    f = facts(starts=DUE)
    assert task_state(f, datetime(2026, 9, 14, 23, 59, 59, tzinfo=SH)) == TaskState.NOT_STARTED
    assert task_state(f, datetime(2026, 9, 15, 0, 0, tzinfo=SH)) == TaskState.IN_PROGRESS
    assert task_state(f, FIRST_LATE[1]) == TaskState.OVERDUE


def test_every_state_has_a_chinese_label():
    assert {s: STATE_LABELS[s] for s in TaskState} == {
        TaskState.NOT_STARTED: "未开始",
        TaskState.IN_PROGRESS: "进行中",
        TaskState.DONE_ON_TIME: "按时完成",
        TaskState.DONE_LATE: "逾期完成",
        TaskState.OVERDUE: "已逾期",
    }


def test_within_the_last_second_an_undelivered_task_is_not_yet_overdue():
    moment = LAST_ON_TIME[0] + timedelta(microseconds=500_000)
    assert is_on_time(moment, DUE)  # a delivery at this instant is on time ...
    assert task_state(facts(), moment) == TaskState.IN_PROGRESS  # ... so not overdue yet


def test_a_delivery_made_in_time_and_awaiting_review_is_not_overdue():
    """The review's delay is not the unit's: 进行中 (待审核) after the due day, not 已逾期."""
    in_time = TaskFacts(STARTS, DUE, accepted=False, delivered_at=None, pending_at=LAST_ON_TIME[0])
    too_late = TaskFacts(STARTS, DUE, accepted=False, delivered_at=None, pending_at=FIRST_LATE[0])
    assert task_state(in_time, LONG_AFTER) == TaskState.IN_PROGRESS
    assert task_state(too_late, LONG_AFTER) == TaskState.OVERDUE
