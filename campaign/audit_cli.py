"""`flask --app app audit verify`: is the change record whole?"""

import click
from flask.cli import AppGroup

from campaign import audit
from campaign.extensions import db

audit_cli = AppGroup("audit", help="变更记录。")


@audit_cli.command("verify")
def verify() -> None:
    """Check the hash chain of the change record; report the first broken link."""
    count = db.session.scalar(db.select(db.func.count()).select_from(audit.AuditEntry))
    broken = audit.verify_chain(db.session)
    if broken is not None:
        raise click.ClickException(
            f"变更记录第{broken.entry_id}条：{broken.problem}（共{count}条）"
        )
    click.echo(f"变更记录完整：{count}条，哈希链接无误。")
