"""`flask --app app campaign ...`"""

import click
from flask.cli import AppGroup

from campaign.errors import ValidationFailed
from campaign.extensions import db
from campaign.timeline import services
from campaign.timeline.templates import TEMPLATES

campaign_cli = AppGroup("campaign", help="创建和查看攻坚行动。")


@campaign_cli.command("create")
@click.option(
    "--template",
    "template",
    default="wuhan-2016",
    show_default=True,
    help=f"模板：{', '.join(TEMPLATES)}",
)
@click.option("--year", type=int, required=True, help="行动年份")
def create(template: str, year: int) -> None:
    """Create a campaign from a template, with every phase shifted to YEAR."""
    try:
        campaign = services.create_from_template(db.session, template, year, user="cli")
    except ValidationFailed as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from None
    db.session.commit()
    click.echo(f"已创建攻坚行动 #{campaign.id}：{campaign.name}")
    for p in campaign.phases:
        click.echo(f"  {p.position}. {p.name}  {p.starts_on} 至 {p.ends_on}")


@campaign_cli.command("list")
def list_campaigns() -> None:
    """List campaigns."""
    from campaign.timeline.models import Campaign

    for c in db.session.scalars(db.select(Campaign).order_by(Campaign.id)):
        click.echo(f"#{c.id}  {c.year}  {c.name}")


@campaign_cli.command("recount")
def recount() -> None:
    """Check every tally (the figures' ledger_counts, the board's board_counts) against the
    rows it counts, for every campaign, and rebuild it where it differs.

    The tallies are kept in step by every commit; this is the repair after the ledger or the
    board was changed outside Gongjian (SQL by hand, a partial restore).
    """
    from campaign import tally
    from campaign.timeline.models import Campaign

    for c in db.session.scalars(db.select(Campaign).order_by(Campaign.id)):
        for kept in tally.TALLIES:
            matched = kept.matches(db.session, c)
            if not matched:
                kept.recount(db.session, c)
            db.session.commit()
            verdict = "一致" if matched else "不一致，已重算"
            click.echo(f"#{c.id}  {c.name}：{kept.title}与{kept.source_title}{verdict}")
