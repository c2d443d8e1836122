"""`flask --app app users ...`"""

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from campaign.accounts import services
from campaign.accounts.models import User
from campaign.errors import ValidationFailed
from campaign.extensions import db
from campaign.vocab import Role

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
def create(username, role, unit_code, display_name, email, password_stdin) -> None:
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
