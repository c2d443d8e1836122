"""`flask --app app users ...` and `flask --app app campaign ...`, and what other commands
share: the campaign they act on, a unit by its code."""

import sys
from collections.abc import Callable
from typing import TypeVar, cast

import click
from flask.cli import AppGroup
from sqlalchemy import inspect, select

from campaign.core import accounts as services
from campaign.core import campaigns, installation, unit_sheet, user_sheet
from campaign.core import commit as transaction
from campaign.core.campaigns import latest_campaign
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.models import Campaign, CityProfile, Unit, User
from campaign.core.sheet_import import Result
from campaign.core.templates import TEMPLATES
from campaign.core.vocab import Role

T = TypeVar("T")

users_cli = AppGroup("users", help="管理用户和API令牌。")


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"用户“{username}”不存在")
    return user


def _password(from_stdin: bool) -> str:
    """A password from stdin (one line) or typed twice at a prompt, never the command line."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("密码", hide_input=True, confirmation_prompt=True))


def _run(action: Callable[[], T]) -> T:
    """``action`` committed through the one commit path, or its refusal as a Chinese error
    (exit code 1); nothing kept."""
    outcome = transaction.commit(action)
    if outcome.refusal is not None:
        raise click.ClickException(outcome.refusal.message)
    return cast(T, outcome.result)


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--unit", "unit_code", default=None, help="所属单位代码（单位角色必填）")
@click.option("--name", "display_name", default="", help="显示姓名")
@click.option("--email", default="")
@click.option("--phone", default="", help="手机号码")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码")
def create_user(
    username: str,
    role: str,
    unit_code: str | None,
    display_name: str,
    email: str,
    phone: str,
    password_stdin: bool,
) -> None:
    """Create a user with the password given (stdin or a prompt, never the command line);
    it must be at least 10 characters and hard to guess."""
    password = _password(password_stdin)
    user = _run(
        lambda: services.create_user(
            db.session,
            username,
            role,
            password,
            unit_code,
            display_name,
            email,
            actor="cli",
            phone=phone,
        )
    )
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
    user = _user(username)
    _run(lambda: services.disable_user(db.session, user, actor="cli"))
    click.echo(f"已停用用户 {username}：已退出全部登录，API令牌已作废")


@users_cli.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    """Enable USERNAME again; he logs in afresh (old API tokens stay revoked)."""
    user = _user(username)
    _run(lambda: services.enable_user(db.session, user, actor="cli"))
    click.echo(f"已启用用户 {username}")


@users_cli.command("reset-password")
@click.argument("username")
def reset_password(username: str) -> None:
    """Give USERNAME a one-time password (printed once) and end his sessions; he must
    choose his own password at his next login. His API tokens stay valid."""
    user = _user(username)
    password = _run(lambda: services.reset_password(db.session, user, actor="cli"))
    click.echo(f"已重置用户 {username} 的密码，已退出其全部登录。一次性密码（仅显示这一次）：")
    click.echo(password)
    click.echo("请当面或电话告知本人；登录后须立即设置自己的密码。")


@click.command("init")
@click.option("--city", required=True, help="城市名称，如“某市”")
@click.option("--issuer", required=True, help="发文机关，如“中共某市委组织部”")
@click.option("--admin", "admin", required=True, help="首个系统管理员的用户名")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取管理员密码")
def init_command(city: str, issuer: str, admin: str, password_stdin: bool) -> None:
    """First start without the demo: the city unit, the city and issuing body new campaigns
    take by default, and the first admin. Running it again with the same arguments changes
    nothing; on a database with another admin, or set up for another city, it is refused."""
    if not inspect(db.engine).has_table(CityProfile.__tablename__):
        raise click.ClickException("数据库尚未建立或不是最新：请先运行 flask --app app db upgrade")
    password = _password(password_stdin)
    done = _run(lambda: installation.initialize(db.session, city, issuer, admin, password))
    if not done.created:
        click.echo(f"已初始化（{city}，{issuer}，管理员 {admin}），本次无需修改。")
        return
    for what in done.created:
        click.echo(f"已创建{what}")
    click.echo(f"请用 {admin} 登录，在“用户管理”中添加其他用户。")


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
@click.option(
    "--rules",
    "rules",
    default="seed-004",
    show_default=True,
    help="规则预设（flask --app app rules presets 列出）",
)
def create_campaign(template: str, year: int, rules: str) -> None:
    """Create a campaign from a template, with every phase shifted to YEAR."""
    try:
        campaign = campaigns.create_from_template(
            db.session, template, year, user="cli", values={"rules": rules}
        )
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
    """Check every tally (the figures' ledger_counts and rule_counts, the board's
    board_counts) against the rows it counts, for every campaign, and rebuild it where it
    differs.

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


units_cli = AppGroup("units", help="单位（xlsx导入导出）。")


@units_cli.command("export")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False))
def export_units(output: str) -> None:
    """Write every unit, in tree order, to an xlsx file ``units import`` reads back."""
    data = unit_sheet.export(db.session)
    with open(output, "wb") as f:
        f.write(data)
    click.echo(f"已导出单位表：{output}")


@units_cli.command("remit")
@click.argument("code")
@click.argument("remit")
def unit_remit(code: str, remit: str) -> None:
    """Make the department CODE a verifying department with REMIT (aic 工商, commerce 商务,
    economy 经信, federation 工商联, education 教育, health 卫生计生, justice 司法, finance 财政,
    tax 税务, united_front 统战; none to clear it)."""
    from campaign.core import units

    unit = units.unit_by_code(db.session, code)
    if unit is None:
        raise click.ClickException(f"单位代码“{code}”不存在")
    wanted = "" if remit == "none" else remit
    try:
        changed = units.set_remit(db.session, unit, wanted, "cli")
    except ValidationFailed as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from None
    db.session.commit()
    click.echo(f"已设置{unit.name}的核查职责：{remit}" if changed else "没有修改。")


def _import_sheet(
    path: str, what: str, run: Callable[[bytes], Result], dry_run: bool, yes: bool
) -> Result | None:
    """An xlsx import from the command line: every row checked and previewed first (nothing
    kept), then, confirmed, all kept or none. What was imported, or None."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        preview = run(data)
    except ValidationFailed as e:
        db.session.rollback()
        raise click.ClickException(
            f"{path}：未导入，请修改以下问题：\n" + "\n".join(e.messages)
        ) from None
    finally:
        db.session.rollback()
    click.echo("预览：")
    for line in preview.lines():
        click.echo(f"  {line}")
    click.echo(preview.summary)
    if dry_run:
        click.echo("仅预览（--dry-run），未保存。")
        return None
    if not preview.lines():
        click.echo(f"没有需要导入的{what}。")
        return None
    if not yes and not click.confirm("确认导入？", default=False):
        click.echo("已取消，未保存。")
        return None
    done = _run(lambda: run(data))
    click.echo(f"已导入：{done.summary}")
    return done


@units_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="只检查并预览，不保存")
@click.option("--yes", is_flag=True, help="预览后不再询问，直接导入")
def import_units(path: str, dry_run: bool, yes: bool) -> None:
    """Add and change units from an xlsx file (代码, 名称, 类型, 上级代码, 排序[, 责任单位]):
    every row checked first and the changes previewed; then all are kept, or none."""
    _import_sheet(
        path, "修改", lambda data: unit_sheet.import_units(db.session, data, "cli"), dry_run, yes
    )


@users_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="只检查并预览，不保存")
@click.option("--yes", is_flag=True, help="预览后不再询问，直接导入")
def import_users(path: str, dry_run: bool, yes: bool) -> None:
    """Open and change accounts from an xlsx file (用户名, 姓名, 角色[, 所属单位代码, 手机号码,
    电子邮件]): every row checked first and previewed; then all kept, or none. The new
    accounts' one-time passwords are printed once."""
    done = _import_sheet(
        path, "修改", lambda data: user_sheet.import_users(db.session, data, "cli"), dry_run, yes
    )
    if done is not None and done.issued:
        click.echo("新建用户的一次性密码（仅显示这一次；本人登录后须立即修改）：")
        for username, name, password in done.issued:
            click.echo(f"  {username}\t{name}\t{password}")


@users_cli.command("export")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False))
def export_users(output: str) -> None:
    """Write every account (no password) to an xlsx file ``users import`` reads back."""
    with open(output, "wb") as f:
        f.write(user_sheet.export(db.session))
    click.echo(f"已导出用户表：{output}")


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
