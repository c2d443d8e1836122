"""`flask --app app reports ...`: who has filed the half-monthly report (半月报) of a period."""

import click
from flask.cli import AppGroup

from campaign.core import clock
from campaign.core.cli import current_campaign, unit_ids_of
from campaign.core.extensions import db
from campaign.display import local_time
from campaign.half_monthly import services

reports_cli = AppGroup("reports", help="半月报送情况。")


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
        db.session, campaign, period.due_on, unit_ids_of(unit_code), moment
    ):
        when = local_time(report.submitted_at, campaign.timezone) if report else ""
        click.echo(f"  {unit.name:<12}{state.label:<6}{when}")
