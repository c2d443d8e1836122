"""The campaign overview (timeline and figures), settings and phase editing."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from campaign import clock, figures, permissions
from campaign.errors import ValidationFailed
from campaign.extensions import db
from campaign.timeline import services
from campaign.timeline.models import Phase

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
    return render_template(
        "timeline/overview.html",
        campaign=campaign,
        timeline=services.timeline_view(campaign, clock.today(campaign.timezone)),
        rows=figures.by_unit(db.session, campaign, unit_ids),
        total=figures.overall(db.session, campaign, unit_ids),
        sees_city=permissions.sees_city(current_user),
        may_edit=permissions.may_edit_campaign(current_user),
    )


def _edit_form(obj, update, fields, template: str, saved: str, done_url: str, **context):
    """GET shows the form; POST applies ``update`` whole or re-renders with every problem."""
    form, problems = FlaskForm(), []
    if form.validate_on_submit():
        try:
            changed = update(db.session, obj, request.form, current_user)
        except ValidationFailed as e:
            db.session.rollback()
            problems = e.problems
        else:
            db.session.commit()
            flash(saved if changed else "没有修改。", "success")
            return redirect(done_url)
    return render_template(
        template,
        form=form,
        fields=fields,
        problems=dict(problems),
        submitted=request.form if problems else None,
        **context,
    ), (422 if problems else 200)


@bp.route("/campaigns/<int:campaign_id>/settings", methods=["GET", "POST"])
@login_required
def settings(campaign_id: int):
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    permissions.require(permissions.may_edit_campaign(current_user))
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
    permissions.require(permissions.may_edit_campaign(current_user))
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
