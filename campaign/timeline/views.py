"""The campaign overview (timeline and figures), settings and phase editing."""

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from campaign import clock, figures, permissions
from campaign.board import services as board
from campaign.commit import commit
from campaign.extensions import db
from campaign.storage import send_stored
from campaign.timeline import services, tasks
from campaign.timeline.models import Deliverable, Phase, Task
from campaign.webforms import perform

bp = Blueprint("timeline", __name__)


@bp.get("/")
@login_required
def overview():
    campaign = services.latest_campaign(db.session)
    if campaign is None:
        return render_template("timeline/empty.html")
    return redirect(url_for("timeline.campaign_overview", campaign_id=campaign.id))


@bp.get("/campaigns/<int:campaign_id>")
@login_required
def campaign_overview(campaign_id: int):
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    unit_ids = permissions.visible_unit_ids(current_user)
    rows = figures.by_unit(db.session, campaign, unit_ids)
    return render_template(
        "timeline/overview.html",
        campaign=campaign,
        timeline=services.timeline_view(campaign, clock.today(campaign.timezone)),
        rows=rows,
        total=figures.total_of(rows),
        board=board.totals(db.session, campaign, unit_ids),
        sees_city=permissions.sees_city(current_user),
        may_edit=permissions.may_edit_campaign(current_user),
    )


def _edit_form(obj, update, fields, template: str, saved: str, done_url: str, **context):
    """GET shows the form; POST applies ``update`` whole or re-renders with every problem."""
    form, problems, status = FlaskForm(), [], 200
    if form.validate_on_submit():
        outcome = commit(lambda: update(db.session, obj, request.form, current_user))
        if (refusal := outcome.refusal) is None:
            flash(saved if outcome.result else "没有修改。", "success")
            return redirect(done_url)
        problems, status = refusal.problems, refusal.status
    return render_template(
        template,
        form=form,
        fields=fields,
        problems=dict(problems),
        submitted=request.form if problems else None,
        **context,
    ), status


@bp.route("/campaigns/<int:campaign_id>/settings", methods=["GET", "POST"])
@login_required
def settings(campaign_id: int):
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    permissions.ensure(permissions.may_edit_campaign, current_user)
    return _edit_form(
        campaign,
        services.update_settings,
        services.SETTINGS,
        "timeline/settings.html",
        "设置已保存。",
        url_for("timeline.settings", campaign_id=campaign.id),
        campaign=campaign,
    )


@bp.route("/campaigns/<int:campaign_id>/phases/<int:phase_id>", methods=["GET", "POST"])
@login_required
def edit_phase(campaign_id: int, phase_id: int):
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    permissions.ensure(permissions.may_edit_campaign, current_user)
    phase = db.session.get(Phase, phase_id)
    if phase is None or phase.campaign_id != campaign.id:
        abort(404)
    return _edit_form(
        phase,
        services.update_phase,
        services.PHASE_FIELDS,
        "timeline/phase.html",
        f"已保存“{phase.name}”。",
        url_for("timeline.campaign_overview", campaign_id=campaign.id),
        campaign=campaign,
        phase=phase,
    )


# ---- the timeline page: phases as bars, deliverables as milestones, the task matrix -----


@bp.get("/campaigns/<int:campaign_id>/timeline")
@login_required
def timeline_page(campaign_id: int):
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
        rows=rows,
        may_edit=permissions.may_edit_campaign(current_user),
        audiences=tasks.AUDIENCES,
        form=FlaskForm(),
    )


@bp.route("/campaigns/<int:campaign_id>/tasks/<int:task_id>", methods=["GET", "POST"])
@login_required
def task(campaign_id: int, task_id: int):
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
        tasks.change_task(db.session, task, request.form, user)
    else:
        abort(400)


@bp.get("/campaigns/<int:campaign_id>/tasks/<int:task_id>/submissions/<int:submission_id>")
@login_required
def task_file(campaign_id: int, task_id: int, submission_id: int):
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    task = permissions.unit_record_or_404(current_user, Task, task_id, campaign.id)
    submission = next((s for s in task.submissions if s.id == submission_id), None)
    if submission is None or not submission.file_path:
        abort(404)
    return send_stored(submission.file_path, submission.file_name)


@bp.route("/campaigns/<int:campaign_id>/deliverables", methods=["POST"])
@bp.route("/campaigns/<int:campaign_id>/deliverables/<int:deliverable_id>", methods=["POST"])
@login_required
def save_deliverable(campaign_id: int, deliverable_id: int | None = None):
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    permissions.ensure(permissions.may_edit_campaign, current_user)
    deliverable = None
    if deliverable_id is not None:
        deliverable = db.session.get(Deliverable, deliverable_id)
        if deliverable is None or deliverable.campaign_id != campaign.id:
            abort(404)
    if request.form.get("action") == "drop":
        if deliverable is None:
            abort(404)
        reason = request.form.get("reason", "")
        perform(
            lambda: tasks.drop_deliverable(db.session, deliverable, reason, current_user),
            "已取消该项报送要求。",
        )
    else:
        perform(
            lambda: tasks.save_deliverable(
                db.session, campaign, deliverable, request.form, current_user
            ),
            "报送要求已保存。",
        )
    return redirect(url_for("timeline.timeline_page", campaign_id=campaign.id))
