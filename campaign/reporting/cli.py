"""`flask --app app reports ...` and `flask --app app tasks ...`: who has delivered what."""

import click
from flask.cli import AppGroup
from sqlalchemy import select

from campaign import clock
from campaign.accounts.models import Unit
from campaign.display import local_time
from campaign.extensions import db
from campaign.reporting import services
from campaign.timeline import tasks
from campaign.timeline.services import latest_campaign

reports_cli = AppGroup("reports", help="半月报送情况。")
tasks_cli = AppGroup("tasks", help="阶段报送任务。")


def current_campaign():
    """The campaign CLI commands act on (the latest), or a Chinese error."""
    campaign = latest_campaign(db.session)
    if campaign is None:
        raise click.ClickException("没有攻坚行动")
    return campaign


def _unit_ids(code: str | None) -> list[int] | None:
    if code is None:
        return None
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise click.ClickException(f"单位代码“{code}”不存在")
    return [unit.id]


@reports_cli.command("status")
@click.option(
    "--due", type=click.DateTime(["%Y-%m-%d"]), default=None, help="报送日（默认当前一期）"
)
@click.option("--unit", "unit_code", default=None)
def status(due, unit_code: str | None) -> None:
    """List every unit's report state for a period: 按时报送 / 迟报 / 已退回 / 未报送 / 待报送."""
    campaign = current_campaign()
    moment = clock.now(campaign.timezone)
    period = (
        services.period_for(campaign, due.date())
        if due
        else services.current_period(campaign, moment.date())
    )
    if period is None:
        raise click.ClickException("行动已无报送期")
    click.echo(period.label)
    for unit, report, state in services.period_overview(
        db.session, campaign, period.due_on, _unit_ids(unit_code), moment
    ):
        when = local_time(report.submitted_at, campaign.timezone) if report else ""
        click.echo(f"  {unit.name:<12}{services.REPORT_STATE_LABELS[state]:<6}{when}")


@tasks_cli.command("list")
@click.option("--unit", "unit_code", default=None)
@click.option("--late", is_flag=True, help="只列已逾期和逾期完成的")
def list_tasks(unit_code: str | None, late: bool) -> None:
    """Every task with its state, by unit."""
    campaign = current_campaign()
    deliverables, rows = tasks.matrix(
        db.session, campaign, _unit_ids(unit_code), clock.now(campaign.timezone)
    )
    for unit, cells in rows:
        for d in deliverables:
            cell = cells.get(d.id)
            if cell is None or (late and cell.state.value not in ("overdue", "done_late")):
                continue
            click.echo(f"{unit.name:<12}{d.name:<24}{cell.task.due_on}  {cell.label}")
