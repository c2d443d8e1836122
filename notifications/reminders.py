"""Reminders computed from the data: reports and phase tasks coming due or overdue, and a
daily digest of board items past their planned date.

Idempotent per reminder window: each reminder is an event with a dedupe key (unit, what,
due day, window), so running twice a day sends once, and a day the job did not run loses
nothing: the next run finds the item still in (or past) its window and sends that window.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from campaign.board import services as board
from campaign.board.models import BoardItem
from campaign.core.db import Session
from campaign.core.models import Campaign, Unit
from campaign.core.paths import path_for
from campaign.half_monthly import services as half_monthly
from campaign.half_monthly.models import OWING
from campaign.ledger.models import Organization
from campaign.timeline import tasks
from campaign.timeline.models import Deliverable
from campaign.timeline.states import TaskState
from notifications import events

DIGEST_ITEMS = 10  # items named in a digest; the rest are counted
OVERDUE = "overdue"  # the reminder window after the due day


def window(due_on: date, today: date, days: tuple[int, ...]) -> str | None:
    """The reminder window ``today`` falls in: "overdue", "d1", "d3" (for days (3, 1)) or None.

    The nearest window wins, so a reminder missed on its day is sent as the next one.
    """
    left = (due_on - today).days
    if left < 0:
        return OVERDUE
    for d in sorted(days):
        if left <= d:
            return f"d{d}"
    return None


def _units(session: Session) -> list[Unit]:
    return list(
        session.scalars(select(Unit).where(Unit.is_responsible).order_by(Unit.position, Unit.id))
    )


def remind(session: Session, campaign: Campaign, moment: datetime, days: tuple[int, ...]) -> int:
    """Emit every reminder due at ``moment`` that was not emitted before; returns how many."""
    moment = moment.astimezone(ZoneInfo(campaign.timezone))
    today = moment.date()
    if today > campaign.ends_on or today < campaign.starts_on:
        return 0
    emitted = 0
    units = _units(session)

    # Half-monthly reports: the period being reported, and the one just past if missing.
    for period in half_monthly.periods(campaign):
        w = window(period.due_on, today, days)
        if w is None or (w == OVERDUE and (today - period.due_on).days > 15):
            continue
        rows = half_monthly.period_overview(session, campaign, period.due_on, None, moment)
        for unit, _, state in rows:
            if state not in OWING:
                continue
            emitted += _emit(
                session,
                "report_due",
                f"report:{campaign.id}:{unit.id}:{period.due_on}:{w}",
                campaign,
                unit,
                window=w,
                due_on=period.due_on.isoformat(),
                days_left=max((period.due_on - today).days, 0),
                path=path_for(
                    "half_monthly.unit_report",
                    campaign_id=campaign.id,
                    code=unit.code,
                    due=period.due_on,
                ),
            )

    # Phase tasks not done: before their due day, and once when overdue.
    _, matrix = tasks.matrix(session, campaign, None, moment)
    for unit, cells in matrix:
        for cell in cells.values():
            if cell.state in (TaskState.DONE_ON_TIME, TaskState.DONE_LATE):
                continue
            if cell.task.awaits_review and cell.state != TaskState.OVERDUE:
                continue  # delivered, waiting for review
            w = window(cell.task.due_on, today, days)
            if w is None:
                continue
            d: Deliverable = cell.task.deliverable
            emitted += _emit(
                session,
                "task_due",
                f"task:{cell.task.id}:{cell.task.due_on}:{w}",
                campaign,
                unit,
                window=w,
                deliverable=d.name,
                phase=d.phase.name,
                due_on=cell.task.due_on.isoformat(),
                days_left=max((cell.task.due_on - today).days, 0),
                path=path_for("timeline.task", campaign_id=campaign.id, task_id=cell.task.id),
            )

    # Board items past their planned date: one digest per unit and day.
    overdue = session.execute(
        select(
            BoardItem.unit_id, Organization.name, BoardItem.planned_on, BoardItem.responsible_person
        )
        .join(Organization, Organization.id == BoardItem.organization_id)
        .where(BoardItem.campaign_id == campaign.id, board.overdue(today))
        .order_by(BoardItem.unit_id, BoardItem.planned_on, BoardItem.id)
    ).all()
    by_unit: dict[int, list[tuple[str, date, str]]] = {}
    for unit_id, name, planned_on, person in overdue:
        by_unit.setdefault(unit_id, []).append((name, planned_on, person))
    for unit in units:
        items = by_unit.get(unit.id)
        if not items:
            continue
        emitted += _emit(
            session,
            "items_overdue",
            f"items:{campaign.id}:{unit.id}:{today}",
            campaign,
            unit,
            day=today.isoformat(),
            count=len(items),
            items=[
                {"organization": n, "planned_on": p.isoformat(), "responsible_person": r}
                for n, p, r in items[:DIGEST_ITEMS]
            ],
            path=path_for("board.unit", campaign_id=campaign.id, code=unit.code, overdue=1),
        )
    return emitted


def _emit(session, kind, key, campaign, unit, **payload) -> int:
    event = events.emit(
        session,
        kind,
        dedupe_key=key,
        campaign_id=campaign.id,
        unit_id=unit.id,
        unit=unit.name,
        **payload,
    )
    return 0 if event is None else 1


def parse_days(raw: str) -> tuple[int, ...]:
    """REMINDER_DAYS "3,1" -> (3, 1)."""
    return tuple(sorted({int(x) for x in str(raw).split(",") if x.strip()}, reverse=True))


def remind_all(session: Session, moment: datetime, days: tuple[int, ...]) -> int:
    """Reminders for every campaign (committed)."""
    total = 0
    for campaign in session.scalars(select(Campaign).order_by(Campaign.id)).all():
        total += remind(session, campaign, moment, days)
        session.commit()
    return total
