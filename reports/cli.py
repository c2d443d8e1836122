"""`flask --app app bulletin ...`: produce, list and verify bulletins."""

import hashlib
import json

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from campaign.core import jobs
from campaign.core.cli import current_campaign
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.storage import resolve
from campaign.display import local_time
from reports import render, services
from reports.models import Bulletin

bulletin_cli = AppGroup("bulletin", help="通报：生成、列表、核对。")


@bulletin_cli.command("generate")
@click.option(
    "--date",
    "due",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="半月报送日，如 2026-11-25",
)
def generate(due) -> None:
    """Produce one period's bulletin now, showing progress."""
    campaign = current_campaign()
    settings = services.settings_from(current_app.config)
    try:
        run = services.start_run(db.session, campaign, due.date(), settings, "cli")
    except (ValidationFailed, services.Busy) as e:
        raise click.ClickException(str(e)) from e
    with click.progressbar(length=100, label="生成通报", show_pos=False) as bar:
        done = 0

        def progress(step: str, percent: int) -> None:
            nonlocal done
            bar.label = f"生成通报：{step}"
            bar.update(percent - done)
            done = percent

        try:
            bulletin = services.produce(db.session, run, settings, progress=progress)
        except (render.RenderRefused, ValidationFailed, jobs.LeaseLost) as e:
            raise click.ClickException(str(e)) from e
    click.echo(f"第{bulletin.number}期：{bulletin.title}")
    if bulletin.is_draft:
        click.echo("  草稿，待领导在系统中审核签发后编发文字号、发送各主送单位")
    else:
        click.echo(f"  {bulletin.document_number}")
    click.echo(
        f"  PDF  {resolve(bulletin.pdf_path)}（{bulletin.pdf_pages}页，SHA-256 {bulletin.pdf_sha256}）"
    )
    click.echo(f"  附件 {resolve(bulletin.xlsx_path)}")


@bulletin_cli.command("list")
def list_bulletins() -> None:
    """Every bulletin of the campaign, and recent failed attempts."""
    campaign = current_campaign()
    for b in services.archive(db.session, campaign):
        click.echo(
            f"第{b.number}期  {b.document_number or b.status_label}  报送日 {b.due_on}  "
            f"生成于 {local_time(b.created_at)}  {b.pdf_pages}页  {resolve(b.pdf_path)}"
        )
    for run in services.runs(db.session, campaign):
        if run.status in ("failed", "abandoned"):
            click.echo(
                f"[{run.status_label}] {run.due_on} {local_time(run.started_at)}：{run.error}"
            )


@bulletin_cli.command("verify")
@click.argument("number", type=int)
def verify(number: int) -> None:
    """Check a bulletin's archive: the snapshot and the files against their SHA-256, and the
    PDF drawn again from the archived HTML. The snapshot laid out by today's template should
    give that HTML; when it does not (the template changed in an upgrade since), that is said,
    not counted as a fault. Bulletins archived before the HTML was kept are re-rendered from
    their snapshot."""
    campaign = current_campaign()
    bulletin = db.session.scalar(
        select(Bulletin).where(Bulletin.campaign_id == campaign.id, Bulletin.number == number)
    )
    if bulletin is None:
        raise click.ClickException(f"没有第{number}期通报")
    problems = []
    if hashlib.sha256(bulletin.snapshot.encode()).hexdigest() != bulletin.snapshot_sha256:
        problems.append("数据快照与其 SHA-256 不符")
    stored = resolve(bulletin.pdf_path)
    if (
        not stored.exists()
        or hashlib.sha256(stored.read_bytes()).hexdigest() != bulletin.pdf_sha256
    ):
        problems.append(f"PDF 文件缺失或已被改动：{stored}")
    snapshot_ok = not problems
    laid_out = render.html(json.loads(bulletin.snapshot))
    if bulletin.html_path is None:  # archived before the HTML was kept
        again = render.pdf(laid_out)
        if hashlib.sha256(again.data).hexdigest() != bulletin.pdf_sha256:
            problems.append("按快照重新生成的 PDF 与存档不一致")
        if problems:
            raise click.ClickException("；".join(problems))
        click.echo(f"第{number}期通报核对一致：快照、PDF 与按快照重新生成的结果相同。")
        return
    page = resolve(bulletin.html_path)
    archived = page.read_bytes() if page.exists() else b""
    if hashlib.sha256(archived).hexdigest() != bulletin.html_sha256:
        problems.append(f"正文（HTML）文件缺失或已被改动：{page}")
    elif hashlib.sha256(render.pdf(archived.decode()).data).hexdigest() != bulletin.pdf_sha256:
        problems.append("按存档正文重新生成的 PDF 与存档不一致")
    template_changed = laid_out.encode() != archived
    if template_changed and not snapshot_ok:
        problems.append("按快照重新生成的 PDF 与存档不一致")
    if problems:
        raise click.ClickException("；".join(problems))
    click.echo(
        f"第{number}期通报核对一致：快照、正文、PDF 与存档相同，按存档正文重新生成的 PDF 与存档相同。"
    )
    if template_changed:
        click.echo(
            "说明：当前版本的通报模板与该期生成时不同，按快照重新排版的正文与存档正文有差别"
            "（数字来自同一快照）；该期以存档的正文和 PDF 为准。"
        )
