"""Half-monthly unit reports: periods, submission with frozen figures, versions, returns."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select

from campaign import audit, figures
from campaign.core.campaigns import report_due_days
from campaign.core.clock import is_on_time, now
from campaign.core.db import Session, claim, serialize
from campaign.core.errors import Conflict, ValidationFailed
from campaign.core.models import Campaign, Unit
from campaign.core.storage import store_upload
from campaign.core.text import cleaned_for
from campaign.half_monthly.inputs import NO_PROGRESS, ReportText
from campaign.half_monthly.models import ReportState, ReportStatus, UnitReport
from campaign.ledger.models import ChangeRequest, ChangeStatus


@dataclass(frozen=True)
class Period:
    """A half-month reporting period: from the day after the previous due day to ``due_on``."""

    starts_on: date
    due_on: date

    @property
    def label(self) -> str:
        return f"{self.due_on.month}月{self.due_on.day}日报送（{self.starts_on.month}月{self.starts_on.day}日—{self.due_on.month}月{self.due_on.day}日）"


def periods(campaign: Campaign) -> list[Period]:
    """Every reporting period of the campaign, in order."""
    result, start = [], campaign.starts_on
    for due in report_due_days(campaign):
        result.append(Period(start, due))
        start = due + timedelta(days=1)
    return result


def period_for(campaign: Campaign, due_on: date) -> Period:
    """The period due on ``due_on``; refused if the campaign has no such due day."""
    for period in periods(campaign):
        if period.due_on == due_on:
            return period
    raise ValidationFailed([("due_on", f"{due_on} 不是本行动的半月报送日")])


def current_period(campaign: Campaign, today: date) -> Period | None:
    """The period being reported on ``today`` (the next due day on or after today)."""
    return next((p for p in periods(campaign) if p.due_on >= today), None)


def snapshot(
    session: Session, campaign: Campaign, unit: Unit, period: Period, moment: datetime
) -> dict:
    """The unit's figures as they stand at ``moment``: what a report freezes."""
    # Party orgs count from their founding date, so a report filed (or replayed) on a day
    # shows the ledger as it stood that day.
    current = figures.overall(
        session, campaign, [unit.id], as_of=moment.astimezone(ZoneInfo(campaign.timezone)).date()
    )
    new_orgs = figures.founded_between(
        session, campaign, period.starts_on, period.due_on, [unit.id]
    ).get(unit.id, 0)
    pending_changes = session.scalar(
        select(func.count())
        .select_from(ChangeRequest)
        .where(
            ChangeRequest.campaign_id == campaign.id,
            ChangeRequest.unit_id == unit.id,
            ChangeRequest.status == ChangeStatus.PENDING,
        )
    )
    return {
        "taken_at": moment.isoformat(),
        "unit": {"code": unit.code, "name": unit.name},
        "period": {"starts_on": period.starts_on.isoformat(), "due_on": period.due_on.isoformat()},
        "figures": current.as_dict(),
        "new_party_orgs_in_period": new_orgs,
        "required_unmet": current.counts.required - current.counts.required_met,
        "pending_change_requests": pending_changes,
    }


def latest(session: Session, campaign: Campaign, unit: Unit, due_on: date) -> UnitReport | None:
    """The newest version of a unit's report for a period."""
    return session.scalar(
        select(UnitReport)
        .where(
            UnitReport.campaign_id == campaign.id,
            UnitReport.unit_id == unit.id,
            UnitReport.due_on == due_on,
        )
        .order_by(UnitReport.version.desc())
        .limit(1)
    )


def submit_report(
    session: Session,
    campaign: Campaign,
    unit: Unit,
    due_on: date,
    written: ReportText,
    attachment: tuple[str, bytes] | None,
    user,
    storage: Path,
    at: datetime | None = None,
) -> UnitReport:
    """File a report (or a corrected new version): figures frozen now, late if after the due day."""
    moment = at or now()
    period = period_for(campaign, due_on)
    if moment.astimezone(ZoneInfo(campaign.timezone)).date() < period.starts_on:
        raise ValidationFailed([("due_on", f"该期（{period.label}）尚未开始，不能提前报送")])
    # As the columns keep them (a browser's CR LF as LF): a second post compares equal.
    narrative = {
        k: cleaned_for(UnitReport.__table__.c[k], getattr(written, k).strip())
        for k in ("progress", "problems", "next_steps")
    }
    if not narrative["progress"]:
        raise ValidationFailed([("progress", NO_PROGRESS)])
    # One filing of a unit's report for a period at a time: a second one posted at once waits
    # here, then finds the first as the latest version. (Its attachment is stored under the
    # lock too: the same file posted twice is one file, written by one filing at a time.)
    serialize(session, UnitReport.__table__, campaign.id, unit.id, due_on)
    stored = (
        store_upload(
            session,
            storage,
            "reports",
            f"{unit.code}-{due_on}",
            *attachment,
            field="attachment",
            label="附件",
        )
        if attachment is not None
        else None
    )
    previous = latest(session, campaign, unit, due_on)
    if previous is not None and previous.is_current:
        same = {k: getattr(previous, k) for k in narrative} == narrative
        if same and previous.attachment_sha256 == (stored.sha256 if stored else ""):
            raise Conflict(f"该期半月报已报送（第{previous.version}版），内容相同，未重复报送")
    report = UnitReport(
        campaign_id=campaign.id,
        unit_id=unit.id,
        due_on=due_on,
        version=(previous.version + 1) if previous else 1,
        submitted_at=moment,
        submitted_by_id=getattr(user, "id", None),
        is_late=not is_on_time(moment, due_on, campaign.timezone),
        figures=snapshot(session, campaign, unit, period, moment),
        **narrative,
    )
    if stored is not None:
        report.attachment = stored
    if previous is not None and previous.is_current:
        try:  # a correction supersedes it, unless it was returned meanwhile
            claim(
                session,
                previous,
                UnitReport.status == ReportStatus.SUBMITTED,
                "",
                status=ReportStatus.SUPERSEDED,
            )
        except Conflict:
            pass
    session.add(report)
    session.flush()
    audit.record(
        session,
        user=user,
        action="report.submit",
        obj_type="unit_report",
        obj_id=report.id,
        after={
            "unit": unit.code,
            "due_on": due_on,
            "version": report.version,
            "late": report.is_late,
            **narrative,
        },
    )
    return report


def return_report(session: Session, report: UnitReport, comment: str, user) -> UnitReport:
    """A coordinator returns the newest version with comments; the unit files a new version."""
    if not comment.strip():
        raise ValidationFailed([("comment", "退回时必须填写退回意见")])
    # Returned once: a second return (or one after a newer version) finds it no longer submitted.
    claim(
        session,
        report,
        UnitReport.status == ReportStatus.SUBMITTED,
        "只能退回最新一版已报送的报告",
        status=ReportStatus.RETURNED,
        returned_at=now(),
        returned_by_id=getattr(user, "id", None),
        return_comment=comment.strip(),
    )
    audit.record(
        session,
        user=user,
        action="report.return",
        obj_type="unit_report",
        obj_id=report.id,
        after={"comment": report.return_comment},
    )
    session.flush()
    return report


# ---- who has reported ---------------------------------------------------------------

REPORT_STATE_LABELS = {s: s.label for s in ReportState}


def report_state(
    report: UnitReport | None, due_on: date, moment: datetime, tz: str, first_late: bool = False
) -> ReportState:
    """on_time / late / returned / missing (past due, nothing) / waiting (not yet due).

    ``report`` is the newest version; timeliness is the first version's, so a correction
    filed after the due day does not make a unit that reported on time late.
    """
    if report is None:
        return ReportState.WAITING if is_on_time(moment, due_on, tz) else ReportState.MISSING
    if report.status == ReportStatus.RETURNED:
        return ReportState.RETURNED
    return ReportState.LATE if first_late else ReportState.ON_TIME


def period_overview(
    session: Session, campaign: Campaign, due_on: date, unit_ids: list[int] | None, moment: datetime
) -> list[tuple[Unit, UnitReport | None, ReportState]]:
    """For one period: every responsible unit, its newest report, and its state."""
    newest = (
        select(UnitReport.unit_id, func.max(UnitReport.version).label("version"))
        .where(UnitReport.campaign_id == campaign.id, UnitReport.due_on == due_on)
        .group_by(UnitReport.unit_id)
        .subquery()
    )
    reports = {
        r.unit_id: r
        for r in session.scalars(
            select(UnitReport)
            .join(
                newest,
                and_(
                    UnitReport.unit_id == newest.c.unit_id, UnitReport.version == newest.c.version
                ),
            )
            .where(UnitReport.campaign_id == campaign.id, UnitReport.due_on == due_on)
        )
    }
    first_late: dict[int, bool] = dict(
        session.execute(
            select(UnitReport.unit_id, UnitReport.is_late).where(
                UnitReport.campaign_id == campaign.id,
                UnitReport.due_on == due_on,
                UnitReport.version == 1,
            )
        )
        .tuples()
        .all()
    )
    stmt = select(Unit).where(Unit.is_responsible).order_by(Unit.position, Unit.id)
    if unit_ids is not None:
        stmt = stmt.where(Unit.id.in_(unit_ids))
    return [
        (
            u,
            reports.get(u.id),
            report_state(
                reports.get(u.id), due_on, moment, campaign.timezone, first_late.get(u.id, False)
            ),
        )
        for u in session.scalars(stmt)
    ]
