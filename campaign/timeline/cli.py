"""`flask --app app tasks ...`: the phase tasks and who has delivered what."""

import click
from flask.cli import AppGroup

from campaign.core import clock
from campaign.core.cli import current_campaign, unit_ids_of
from campaign.core.extensions import db
from campaign.timeline import tasks
from campaign.timeline.states import LATE_STATES

tasks_cli = AppGroup("tasks", help="阶段报送任务。")


@tasks_cli.command("list")
@click.option("--unit", "unit_code", default=None)
@click.option("--late", is_flag=True, help="只列已逾期和逾期完成的")
def list_tasks(unit_code: str | None, late: bool) -> None:
    """Every task with its state, by unit."""
    campaign = current_campaign()
    deliverables, rows = tasks.matrix(
        db.session, campaign, unit_ids_of(unit_code), clock.now(campaign.timezone)
    )
    for unit, cells in rows:
        for d in deliverables:
            cell = cells.get(d.id)
            if cell is None or (late and cell.state not in LATE_STATES):
                continue
            click.echo(f"{unit.name:<12}{d.name:<24}{cell.task.due_on}  {cell.label}")
