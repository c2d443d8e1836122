"""催办: a coordinator urges a unit that is late with its half-monthly report or a phase task.

The reminder goes out as an event (kind ``urged``) through the unit's channels, as any other
notice: in-app and mail to its operators and leader, and its group robot. Each urge is kept
(who, when, about what) and recorded in the change record; a unit urged within
``URGE_INTERVAL`` is not urged again, so two coordinators clicking at once send one reminder.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign import audit
from campaign.core.clock import now
from campaign.core.db import Base, Session, serialize
from campaign.core.errors import Conflict
from campaign.core.models import Campaign, Unit, User
from campaign.core.paths import path_for
from campaign.display import local_time, short_date
from campaign.half_monthly import services as half_monthly
from campaign.half_monthly.models import ReportState
from campaign.timeline import tasks
from campaign.timeline.states import TaskState
from notifications import events

# A unit urged less than this long ago is not urged again.
URGE_INTERVAL = timedelta(hours=2)


class Urge(Base):
    """One 催办 of a unit: who urged it, when, and what it was late with."""

    __tablename__ = "urge"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    urged_at: Mapped[datetime] = mapped_column(default=now)
    urged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("notification_event.id"))

    urged_by: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_urge_unit", "campaign_id", "unit_id", "urged_at"),)

    @property
    def by_name(self) -> str:
        return events.actor_name(self.urged_by) if self.urged_by else "系统"


@dataclass
class Lateness:
    """What a unit is late with at a moment, and when it was last urged."""

    unit: Unit
    reports: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    last_urge: Urge | None = None

    @property
    def reasons(self) -> list[str]:
        return self.reports + self.tasks


def last_past_due(campaign: Campaign, today: date) -> half_monthly.Period | None:
    """The latest reporting period whose due day is over on ``today``."""
    past = [p for p in half_monthly.periods(campaign) if p.due_on < today]
    return past[-1] if past else None


def late_units(
    session: Session, campaign: Campaign, moment: datetime, unit_ids: list[int] | None = None
) -> list[Lateness]:
    """The responsible units late at ``moment``: the last period's half-monthly report not
    filed (or returned and not filed again), or a phase task past its due day not delivered;
    in the units' order, each with its last 催办."""
    today = moment.date()
    found: dict[int, Lateness] = {}
    period = last_past_due(campaign, today)
    if period is not None:
        for unit, _, state in half_monthly.period_overview(
            session, campaign, period.due_on, unit_ids, moment
        ):
            if state == ReportState.MISSING:
                said = f"{short_date(period.due_on)}半月报未报送"
            elif state == ReportState.RETURNED:
                said = f"{short_date(period.due_on)}半月报被退回后未重新报送"
            else:
                continue
            found.setdefault(unit.id, Lateness(unit)).reports.append(said)
    _, matrix = tasks.matrix(session, campaign, unit_ids, moment)
    order = {}
    for position, (unit, cells) in enumerate(matrix):
        order[unit.id] = position
        for cell in sorted(cells.values(), key=lambda c: (c.task.due_on, c.task.id)):
            if cell.state == TaskState.OVERDUE:
                said = f"“{cell.task.deliverable.name}”逾期未完成（{short_date(cell.task.due_on)}截止）"
                found.setdefault(unit.id, Lateness(unit)).tasks.append(said)
    if not found:
        return []
    for urge in _last_urges(session, campaign, list(found)):
        found[urge.unit_id].last_urge = urge
    return sorted(found.values(), key=lambda late: order.get(late.unit.id, 0))


def _last_urges(session: Session, campaign: Campaign, unit_ids: list[int]) -> list[Urge]:
    newest = (
        select(Urge.unit_id, func.max(Urge.id).label("id"))
        .where(Urge.campaign_id == campaign.id, Urge.unit_id.in_(unit_ids))
        .group_by(Urge.unit_id)
        .subquery()
    )
    return list(session.scalars(select(Urge).join(newest, Urge.id == newest.c.id)))


def last_urge(session: Session, campaign: Campaign, unit: Unit) -> Urge | None:
    """The unit's latest 催办 in the campaign."""
    return session.scalar(
        select(Urge)
        .where(Urge.campaign_id == campaign.id, Urge.unit_id == unit.id)
        .order_by(Urge.id.desc())
        .limit(1)
    )


def urge(session: Session, campaign: Campaign, unit: Unit, user: Any) -> Urge:
    """催办 ``unit``: a reminder naming what it is late with, to its people and group robot;
    refused (409) when it was urged within URGE_INTERVAL or is late with nothing."""
    moment = now(campaign.timezone)
    # One unit's urges one at a time: a second coordinator's click waits, then sees the first.
    serialize(session, Urge.__table__, campaign.id, unit.id)
    last = last_urge(session, campaign, unit)
    if last is not None and moment - last.urged_at < URGE_INTERVAL:
        hours = int(URGE_INTERVAL.total_seconds() // 3600)
        again = local_time(last.urged_at + URGE_INTERVAL, campaign.timezone)[11:]
        raise Conflict(
            f"{unit.name}已于{local_time(last.urged_at, campaign.timezone)}由{last.by_name}催办，"
            f"{hours}小时内不重复催办；{again}后可再次催办"
        )
    late = next(iter(late_units(session, campaign, moment, [unit.id])), None)
    if late is None:
        raise Conflict(f"{unit.name}目前没有逾期未报的半月报或阶段任务，无需催办")
    by = events.actor_name(user)
    event = events.emit(
        session,
        "urged",
        campaign_id=campaign.id,
        unit_id=unit.id,
        unit=unit.name,
        urged_by=by,
        reasons=late.reasons,
        path=path_for("home.index"),
    )
    session.flush()
    record = Urge(
        campaign_id=campaign.id,
        unit_id=unit.id,
        urged_at=moment,
        urged_by_id=getattr(user, "id", None),
        reasons=late.reasons,
        event_id=event.id if event is not None else None,
    )
    session.add(record)
    session.flush()
    audit.record(
        session,
        user=user,
        action="unit.urge",
        obj_type="unit",
        obj_id=unit.id,
        after={"campaign": campaign.id, "urge": record.id, "reasons": late.reasons},
    )
    return record
