"""The timeline page (phases, deliverables, the units × deliverables matrix) and tasks."""

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from campaign.core import campaigns as services
from campaign.core import clock, permissions
from campaign.core.extensions import db
from campaign.core.storage import send_stored
from campaign.core.webforms import perform
from campaign.timeline import tasks
from campaign.timeline.inputs import DeliverableInput, TaskChange
from campaign.timeline.models import Audience, Deliverable, Task

bp = Blueprint("timeline", __name__)


# ---- the timeline page: phases as bars, deliverables as milestones, the task matrix -----


@bp.get("/campaigns/<int:campaign_id>/timeline")
@login_required
def timeline_page(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    moment = clock.now(campaign.timezone)
    deliverables, rows = tasks.matrix(
        db.session, campaign, permissions.visible_unit_ids(current_user), moment
    )
    return render_template(
        "timeline/timeline.html",
        campaign=campaign,
        timeline=services.timeline_view(campaign, moment.date()),
        deliverables=deliverables,
        # As coordinators arrange them: by phase, then their order in it.
        ordered=sorted(deliverables, key=lambda d: (d.phase.position, d.position, d.id)),
        rows=rows,
        may_edit=permissions.may_edit_campaign(current_user),
        audiences=list(Audience),
        form=FlaskForm(),
    )


@bp.route("/campaigns/<int:campaign_id>/tasks/<int:task_id>", methods=["GET", "POST"])
@login_required
def task(campaign_id: int, task_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    task = permissions.unit_record_or_404(current_user, Task, task_id, campaign.id)
    form = FlaskForm()
    if request.method == "POST":
        perform(lambda: _task_action(campaign, task, request.form.get("action", "")), "已保存。")
        return redirect(url_for("timeline.task", campaign_id=campaign.id, task_id=task.id))
    return render_template(
        "timeline/task.html",
        campaign=campaign,
        task=task,
        cell=tasks.Cell(
            task, tasks.state_of(task, clock.now(campaign.timezone), campaign.timezone)
        ),
        form=form,
        may_deliver=permissions.may_deliver(current_user, task.unit),
        may_review=permissions.may_edit_campaign(current_user),
    )


def _task_action(campaign, task, action: str) -> None:
    user = current_user
    if action == "submit":
        permissions.ensure(permissions.may_deliver, user, task.unit)
        upload = request.files.get("file")
        file = (upload.filename, upload.read()) if upload and upload.filename else None
        tasks.submit_task(
            db.session,
            task,
            request.form.get("note", ""),
            file,
            user,
            Path(current_app.config["STORAGE_PATH"]),
        )
    elif action in ("accept", "return"):
        permissions.ensure(permissions.may_edit_campaign, user)
        tasks.review_task(
            db.session, task, action == "accept", request.form.get("comment", ""), user
        )
    elif action == "change":
        permissions.ensure(permissions.may_edit_campaign, user)
        tasks.change_task(db.session, task, TaskChange.from_form(request.form), user)
    else:
        abort(400)


@bp.get("/campaigns/<int:campaign_id>/tasks/<int:task_id>/submissions/<int:submission_id>")
@login_required
def task_file(campaign_id: int, task_id: int, submission_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    task = permissions.unit_record_or_404(current_user, Task, task_id, campaign.id)
    submission = next((s for s in task.submissions if s.id == submission_id), None)
    if submission is None or not submission.file_path:
        abort(404)
    return send_stored(submission.file_path, submission.file_name)


@bp.route("/campaigns/<int:campaign_id>/deliverables", methods=["POST"])
@bp.route("/campaigns/<int:campaign_id>/deliverables/<int:deliverable_id>", methods=["POST"])
@login_required
def save_deliverable(campaign_id: int, deliverable_id: int | None = None) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    permissions.ensure(permissions.may_edit_campaign, current_user)
    deliverable = None
    if deliverable_id is not None:
        deliverable = db.session.get(Deliverable, deliverable_id)
        if deliverable is None or deliverable.campaign_id != campaign.id:
            abort(404)
    action = request.form.get("action")
    if action in ("up", "down") and deliverable is not None:
        moved = deliverable
        perform(
            lambda: tasks.move_deliverable(
                db.session, moved, -1 if action == "up" else 1, current_user
            ),
            lambda done: f"已调整“{moved.name}”的顺序。" if done else "顺序未变。",
        )
    elif action == "drop":
        if deliverable is None:
            abort(404)
        reason = request.form.get("reason", "")
        perform(
            lambda: tasks.drop_deliverable(db.session, deliverable, reason, current_user),
            "已取消该项报送要求。",
        )
    else:
        wanted = DeliverableInput.from_form(request.form)
        perform(
            lambda: tasks.save_deliverable(db.session, campaign, deliverable, wanted, current_user),
            "报送要求已保存。",
        )
    return redirect(url_for("timeline.timeline_page", campaign_id=campaign.id))
