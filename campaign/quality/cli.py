"""`flask --app app quality ...`: compute the data-quality signals now, and list them."""

import click
from flask.cli import AppGroup

from campaign.core.cli import current_campaign
from campaign.core.commit import commit
from campaign.core.extensions import db
from campaign.quality import services

quality_cli = AppGroup("quality", help="数据质量线索。")


@quality_cli.command("detect")
def detect() -> None:
    """Compute the current campaign's signals and store them (as the scheduler does)."""
    campaign = current_campaign()
    outcome = commit(lambda: services.refresh(db.session, campaign, "cli"))
    if (refusal := outcome.refusal) is not None:
        raise click.ClickException(refusal.message)
    r = outcome.result
    assert r is not None  # committed
    click.echo(
        f"数据质量检查完成：新发现{r.new}条，重新打开{r.reopened}条，已消除{r.gone}条，"
        f"现有线索{r.active}条。"
    )


@quality_cli.command("list")
def list_open() -> None:
    """The open signals of the current campaign, one a line: unit, code, reason."""
    campaign = current_campaign()
    for s in services.list_signals(db.session, campaign, status=services.SignalStatus.OPEN):
        click.echo(f"{s.unit.name}\t{s.code.value}\t{s.reason}")
