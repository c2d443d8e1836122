"""`flask --app app users ...` and `flask --app app campaign ...`, and what other commands
share: the campaign they act on, a unit by its code."""

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from campaign.core import accounts as services
from campaign.core import campaigns
from campaign.core.campaigns import latest_campaign
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.models import Campaign, Unit, User
from campaign.core.templates import TEMPLATES
from campaign.core.vocab import Role

users_cli = AppGroup("users", help="管理用户和API令牌。")


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"用户“{username}”不存在")
    return user


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--unit", "unit_code", default=None, help="所属单位代码（单位角色必填）")
@click.option("--name", "display_name", default="", help="显示姓名")
@click.option("--email", default="")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码")
def create_user(
    username: str,
    role: str,
    unit_code: str | None,
    display_name: str,
    email: str,
    password_stdin: bool,
) -> None:
    """Create a user; the password comes from stdin or a prompt, never the command line."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("密码", hide_input=True, confirmation_prompt=True)
    try:
        user = services.create_user(
            db.session, username, role, password, unit_code, display_name, email, actor="cli"
        )
    except ValidationFailed as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from None
    db.session.commit()
    click.echo(f"已创建用户 {user.username}（{user.role_label}）")


@users_cli.command("token")
@click.argument("username")
def token(username: str) -> None:
    """Print a new API bearer token for USERNAME (shown once)."""
    value = services.issue_token(db.session, _user(username))
    db.session.commit()
    click.echo(value)


@users_cli.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable USERNAME: his sessions end and his API tokens are revoked at once."""
    services.disable_user(db.session, _user(username), actor="cli")
    db.session.commit()
    click.echo(f"已停用用户 {username}：已退出全部登录，API令牌已作废")


@users_cli.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    """Enable USERNAME again; he logs in afresh (old API tokens stay revoked)."""
    services.enable_user(db.session, _user(username), actor="cli")
    db.session.commit()
    click.echo(f"已启用用户 {username}")


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
def create_campaign(template: str, year: int) -> None:
    """Create a campaign from a template, with every phase shifted to YEAR."""
    try:
        campaign = campaigns.create_from_template(db.session, template, year, user="cli")
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
    from campaign.core.models import Campaign

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
    from campaign.core.models import Campaign

    for c in db.session.scalars(db.select(Campaign).order_by(Campaign.id)):
        for kept in tally.TALLIES:
            matched = kept.matches(db.session, c)
            if not matched:
                kept.recount(db.session, c)
            db.session.commit()
            verdict = "一致" if matched else "不一致，已重算"
            click.echo(f"#{c.id}  {c.name}：{kept.title}与{kept.source_title}{verdict}")


# ---- shared by the areas' commands ----------------------------------------------------


def current_campaign() -> Campaign:
    """The campaign CLI commands act on (the latest), or a Chinese error."""
    campaign = latest_campaign(db.session)
    if campaign is None:
        raise click.ClickException("没有攻坚行动")
    return campaign


def unit_ids_of(code: str | None) -> list[int] | None:
    """The one unit CODE names (as a list of ids), all units for None, or a Chinese error."""
    if code is None:
        return None
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise click.ClickException(f"单位代码“{code}”不存在")
    return [unit.id]
