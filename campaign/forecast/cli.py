"""`flask --app app forecast ...`: the forecast replayed over the campaign's past."""

from datetime import date

import click
from flask.cli import AppGroup

from campaign.core import clock
from campaign.core.cli import current_campaign
from campaign.core.extensions import db
from campaign.core.models import Campaign
from campaign.forecast import services

forecast_cli = AppGroup("forecast", help="截止日预测。")


def _campaign(campaign_id: int | None) -> Campaign:
    if campaign_id is None:
        return current_campaign()
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise click.ClickException(f"行动编号“{campaign_id}”不存在")
    return campaign


@forecast_cli.command("backtest")
@click.option("--campaign", "campaign_id", type=int, default=None, help="行动编号（默认最新）")
def backtest_command(campaign_id: int | None) -> None:
    """Forecast from each past report day with what was known then, and compare with the
    figures at the deadline (before it, forecast to today and compare with today's):
    mean absolute error, at-risk calls."""
    campaign = _campaign(campaign_id)
    days = services.backtest_days(campaign, clock.today(campaign.timezone))
    click.echo(f"{campaign.name}：回放{len(days)}个报送日，按各单位当时已知的党组织成立日期预测。")
    with click.progressbar(length=len(days), label="回放", show_pos=True) as bar:
        lines = []

        def progress(day: date, n: int, mae: float) -> None:
            lines.append(f"  {day.isoformat()}：{n}个预测，平均绝对误差{mae:.1f}个百分点")
            bar.update(1)

        result = services.backtest(db.session, campaign, progress)
    for line in lines:
        click.echo(line)
    click.echo(f"  对照{result.compared_on.isoformat()}的实际值")
    for name, part in result.figures.items():
        label = services.FIGURES[name][0]
        click.echo(f"  {label}：{part.line().removeprefix('forecast backtest: ')}")
    click.echo(result.line())
