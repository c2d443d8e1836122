"""`flask --app app ledger ...`: the same import and export as the pages, from a shell."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from campaign.core.campaigns import latest_campaign
from campaign.core.errors import Conflict, ValidationFailed
from campaign.core.extensions import db
from campaign.core.models import Unit
from campaign.ledger import importing, services

ledger_cli = AppGroup("ledger", help="台账导入、导出。")


def _campaign(campaign_id: int | None):
    from campaign.core.models import Campaign

    campaign = db.session.get(Campaign, campaign_id) if campaign_id else latest_campaign(db.session)
    if campaign is None:
        raise click.ClickException("没有攻坚行动（先运行 campaign create）")
    return campaign


def _unit(code: str) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None or not unit.is_responsible:
        raise click.ClickException(f"单位代码“{code}”不存在或不是责任单位")
    return unit


@ledger_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--unit", "unit_code", required=True, help="责任单位代码")
@click.option("--campaign", "campaign_id", type=int, default=None, help="行动编号（默认最新）")
@click.option("--dry-run", is_flag=True, help="只校验并显示差异，不导入")
def import_command(file: Path, unit_code: str, campaign_id: int | None, dry_run: bool) -> None:
    """Check FILE, show the differences, and apply it to the unit's ledger (all or nothing)."""
    campaign, unit = _campaign(campaign_id), _unit(unit_code)
    data = file.read_bytes()
    storage = Path(current_app.config["STORAGE_PATH"])
    batch = importing.start_import(db.session, campaign, unit, data, file.name, "cli", storage)
    db.session.commit()
    with click.progressbar(length=1, label="校验", show_percent=True) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        try:
            batch = importing.run_import(db.session, batch.id, storage, progress)
        except Exception as e:
            # run_import refused the batch and recorded why; the shell is told, not traced.
            raise click.ClickException(
                f"{importing.SYSTEM_ERROR}（{type(e).__name__}：{e}）"
            ) from None
    if batch.status == "refused":
        problems = batch.problems
        for problem in problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"文件未通过校验（{len(problems)}处问题），台账未作任何修改")
    for notice in batch.notices:
        click.echo(f"提示：{notice}")
    summary = batch.summary
    click.echo(
        f"差异：新增{summary['add']}，修改{summary['update']}，删除{summary['remove']}，"
        f"未变{summary['same']}"
    )
    if dry_run:
        importing.discard_import(db.session, batch, "cli")
        db.session.commit()
        click.echo("（--dry-run：未导入）")
        return
    try:
        importing.apply_import(db.session, batch, "cli")
    except (ValidationFailed, Conflict) as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from None
    db.session.commit()
    if summary["editable"]:
        click.echo("已导入。")
    else:
        click.echo("台账已审核：新增和修改已生成变更申请，待市级专班审核。")


@ledger_cli.command("export")
@click.option("--unit", "unit_code", default=None, help="责任单位代码（不填则导出全市）")
@click.option("--campaign", "campaign_id", type=int, default=None)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_command(unit_code: str | None, campaign_id: int | None, output: Path) -> None:
    """Write the unit's (or the city's) ledger to an xlsx that imports again unchanged."""
    campaign = _campaign(campaign_id)
    unit_ids = [_unit(unit_code).id] if unit_code else None
    data, count = services.export_workbook(db.session, campaign, unit_ids)
    output.write_bytes(data)
    click.echo(f"已导出{count}个组织到 {output}")
