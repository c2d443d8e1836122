"""Task states (未开始 / 进行中 / 按时完成 / 逾期完成 / 已逾期): pure, from dates and times.

A deadline "by the 15th" runs until 23:59:59 on the 15th in the campaign's
time zone (Asia/Shanghai), whatever zone the server runs in.
"""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from campaign.core.clock import DEFAULT_TZ, is_on_time
from campaign.core.vocab import Labelled


class TaskState(Labelled):
    NOT_STARTED = "not_started", "未开始"
    IN_PROGRESS = "in_progress", "进行中"
    DONE_ON_TIME = "done_on_time", "按时完成"
    DONE_LATE = "done_late", "逾期完成"
    OVERDUE = "overdue", "已逾期"


STATE_LABELS = {s: s.label for s in TaskState}
# States of a task past its due day (delivered late, or not delivered at all).
LATE_STATES = (TaskState.OVERDUE, TaskState.DONE_LATE)


@dataclass(frozen=True)
class TaskFacts:
    starts_on: date  # the phase's start
    due_on: date
    accepted: bool
    delivered_at: datetime | None  # when the accepted delivery was submitted
    pending_at: datetime | None = None  # when a delivery still awaiting review was submitted


def task_state(facts: TaskFacts, moment: datetime, tz: str = DEFAULT_TZ) -> TaskState:
    """The state of a task at ``moment`` (an aware datetime)."""
    if facts.accepted and facts.delivered_at is not None:
        if is_on_time(facts.delivered_at, facts.due_on, tz):
            return TaskState.DONE_ON_TIME
        return TaskState.DONE_LATE
    awaiting_on_time = facts.pending_at is not None and is_on_time(
        facts.pending_at, facts.due_on, tz
    )
    if not is_on_time(moment, facts.due_on, tz) and not awaiting_on_time:
        # Delivered in time but not yet reviewed is not the unit's delay.
        return TaskState.OVERDUE
    if moment.astimezone(ZoneInfo(tz)).date() < facts.starts_on:
        return TaskState.NOT_STARTED
    return TaskState.IN_PROGRESS
