"""/api/v1 for phase tasks: states, deliveries and their review."""

from pathlib import Path

from flask import current_app, g
from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from campaign.core import clock, permissions
from campaign.core.api import blueprint, commit
from campaign.core.extensions import db
from campaign.core.inputs import documented
from campaign.core.models import Campaign
from campaign.timeline import tasks
from campaign.timeline.inputs import ReviewSchema, TaskDeliverySchema, TaskQuerySchema
from campaign.timeline.models import Task, TaskStatus
from campaign.timeline.states import TaskState

blp = blueprint("timeline_api", "阶段任务")


# ---- phase tasks ----------------------------------------------------------------------


class TaskSchema(Schema):
    id = fields.Int()
    unit = fields.Function(lambda c: c.task.unit.code)
    deliverable = fields.Function(lambda c: c.task.deliverable.name)
    phase = fields.Function(lambda c: c.task.deliverable.phase.name)
    due_on = fields.Function(lambda c: c.task.due_on.isoformat())
    status = fields.Function(lambda c: c.task.status, metadata=documented(TaskStatus))
    state = fields.Function(lambda c: c.state, metadata=documented(TaskState))
    label = fields.Function(lambda c: c.label)


class TaskUploadSchema(TaskDeliverySchema):
    """A delivery as the API takes it: one multipart form, the note and the file."""

    file = Upload(load_default=None, metadata={"description": "材料文件"})


def _cell(task) -> tasks.Cell:
    campaign = db.session.get_one(Campaign, task.deliverable.campaign_id)
    return tasks.Cell(task, tasks.state_of(task, clock.now(campaign.timezone), campaign.timezone))


@blp.route("/campaigns/<int:campaign_id>/tasks")
class Tasks(MethodView):
    @blp.arguments(TaskQuerySchema, location="query")
    @blp.response(200, TaskSchema(many=True))
    def get(self, query: dict, campaign_id: int) -> list["_IdCell"]:
        """Every task the caller may read, with its state (未开始/进行中/按时完成/逾期完成/已逾期)."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        unit_ids = permissions.visible_unit_ids(g.api_user)
        if query["unit"]:
            unit_ids = [permissions.unit_or_404(g.api_user, query["unit"]).id]
        _, rows = tasks.matrix(db.session, campaign, unit_ids, clock.now(campaign.timezone))
        return [_IdCell(cell) for _, cells in rows for cell in cells.values()]


class _IdCell:
    """A matrix cell with the task's id on top, for the schema."""

    def __init__(self, cell: tasks.Cell):
        self.task, self.state, self.label, self.id = cell.task, cell.state, cell.label, cell.task.id


@blp.route("/campaigns/<int:campaign_id>/tasks/<int:task_id>/submissions")
class TaskSubmissions(MethodView):
    @blp.arguments(TaskUploadSchema, location="multipart")
    @blp.response(201, TaskSchema)
    def post(self, form: dict, campaign_id: int, task_id: int) -> "_IdCell":
        """Deliver a task (a file and a note) for the caller's own unit."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        task = permissions.unit_record_or_404(g.api_user, Task, task_id, campaign.id)
        permissions.ensure(permissions.may_deliver, g.api_user, task.unit)
        upload = form["file"]
        file = (upload.filename, upload.read()) if upload else None
        storage = Path(current_app.config["STORAGE_PATH"])
        commit(lambda: tasks.submit_task(db.session, task, form["note"], file, g.api_user, storage))
        return _IdCell(_cell(task))


@blp.route("/campaigns/<int:campaign_id>/tasks/<int:task_id>/review")
class TaskReview(MethodView):
    @blp.arguments(ReviewSchema)
    @blp.response(200, TaskSchema)
    def post(self, data: dict, campaign_id: int, task_id: int) -> "_IdCell":
        """Accept or return the pending delivery (coordinators)."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        task = permissions.unit_record_or_404(g.api_user, Task, task_id, campaign.id)
        permissions.ensure(permissions.may_edit_campaign, g.api_user)
        commit(
            lambda: tasks.review_task(db.session, task, data["accept"], data["comment"], g.api_user)
        )
        return _IdCell(_cell(task))
