"""`flask --app app audit verify|head|seal`: is the change record whole, up to its end?"""

import json
import tarfile
from pathlib import Path

import click
from flask.cli import AppGroup

from campaign import audit
from campaign.core.extensions import db

audit_cli = AppGroup("audit", help="变更记录。")


def _anchor_in(path: Path) -> tuple[str, dict]:
    """The signed head kept in ``path``: a backup archive's manifest, or a file that
    `audit head` printed. Named for messages; refused in Chinese if it is neither."""
    if tarfile.is_tarfile(path):
        name = f"备份 {path.name} 中的记录头"
        try:
            with tarfile.open(path, "r:*") as tar:
                member = tar.extractfile("manifest.json")
                if member is None:  # a folder or a link by that name
                    raise tarfile.TarError("manifest.json is not a file")
                manifest = json.loads(member.read())
        except (KeyError, AttributeError, ValueError, tarfile.TarError) as e:
            raise click.ClickException(f"{path.name} 不是攻坚备份文件（没有 manifest.json）") from e
        if not isinstance(manifest, dict) or not manifest.get("audit_head"):
            raise click.ClickException(
                f"备份 {path.name} 的清单中没有变更记录头（audit_head）：无法据此核对"
            )
        return name, manifest["audit_head"]
    try:
        anchor = json.loads(path.read_text(encoding="utf-8"))
        audit.parse_anchor(anchor)
    except (UnicodeDecodeError, ValueError) as e:
        raise click.ClickException(
            f"{path.name} 不是记录头（应为 flask --app app audit head 的输出）或备份文件"
        ) from e
    return f"文件 {path.name} 中的记录头", anchor


@audit_cli.command("verify")
@click.option(
    "--anchor",
    "anchors",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="同时核对保存在别处的记录头：`audit head` 输出的文件，或备份文件（.tar.gz）；可多次给出",
)
def verify(anchors: tuple[Path, ...]) -> None:
    """Check the hash chain, its signed head and every anchor; report every problem found."""
    verdict = audit.verify(db.session, [_anchor_in(path) for path in anchors])
    if verdict.problems:
        raise click.ClickException("\n".join(verdict.problems))
    click.echo(verdict.summary())


@audit_cli.command("head")
def head() -> None:
    """Print the signed head (JSON) for keeping outside the database; `verify --anchor` reads it."""
    signed = audit.signed_head(db.session)
    if signed is None:
        raise click.ClickException(
            "没有可导出的签名记录头（缺失或签名无法验证）：请先运行 audit verify"
        )
    click.echo(json.dumps(signed, ensure_ascii=False, indent=2))


@audit_cli.command("seal")
@click.option("--yes", is_flag=True, help="不再询问，直接重新签名")
def seal(yes: bool) -> None:
    """Sign the record as it stands with the current SECRET_KEY (after a change of key, or once
    a reported problem has been looked into); the act is itself recorded."""
    verdict = audit.verify(db.session)
    if not verdict.problems:
        click.echo(f"{verdict.summary()}无需重新签名。")
        return
    click.echo("\n".join(verdict.problems))
    if not yes:
        click.confirm("以上问题已核实，以当前 SECRET_KEY 重新签名记录头？", abort=True)
    try:
        entry = audit.seal(db.session, user="admin@cli")
    except ValueError as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from e
    db.session.commit()
    after = json.loads(entry.after)
    click.echo(
        f"已以当前 SECRET_KEY 重新签名：记录头止于第{after['last_id']}条（共{after['entries']}条），"
        f"重新签名的锚点{len(after['anchors_resigned'])}个；此次操作记为变更记录第{entry.id}条。"
    )
