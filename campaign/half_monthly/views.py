"""Half-monthly unit reports: who has reported, a unit's report and its versions."""

from datetime import date
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
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from campaign.core import clock, permissions
from campaign.core.commit import commit
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.storage import send_stored
from campaign.core.webforms import perform
from campaign.half_monthly import services
from campaign.half_monthly.inputs import ReportText
from campaign.half_monthly.models import UnitReport

bp = Blueprint("half_monthly", __name__)


def _due(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        abort(404)


@bp.get("/campaigns/<int:campaign_id>/reports")
@login_required
def overview(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    moment = clock.now(campaign.timezone)
    all_periods = services.periods(campaign)
    due = _due(request.args.get("due"))
    period = (
        services.period_for(campaign, due)
        if due and due in {p.due_on for p in all_periods}
        else services.current_period(campaign, moment.date())
        or (all_periods[-1] if all_periods else None)
    )
    if due and (period is None or period.due_on != due):
        abort(404)
    rows = (
        services.period_overview(
            db.session, campaign, period.due_on, permissions.visible_unit_ids(current_user), moment
        )
        if period
        else []
    )
    return render_template(
        "half_monthly/overview.html",
        campaign=campaign,
        periods=all_periods,
        period=period,
        rows=rows,
    )


@bp.route("/campaigns/<int:campaign_id>/units/<code>/reports/<due>", methods=["GET", "POST"])
@login_required
def unit_report(campaign_id: int, code: str, due: str) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    unit = permissions.unit_or_404(current_user, code)
    due_on = _due(due)
    assert due_on is not None  # a path segment is never empty
    try:
        period = services.period_for(campaign, due_on)
    except ValidationFailed:
        abort(404)
    form, problems, status = FlaskForm(), [], 200
    if request.method == "POST":
        permissions.ensure(permissions.may_deliver, current_user, unit)
        if form.validate_on_submit():
            upload = request.files.get("attachment")
            attachment = (upload.filename, upload.read()) if upload and upload.filename else None
            written = ReportText.from_form(request.form)
            outcome = commit(
                lambda: services.submit_report(
                    db.session,
                    campaign,
                    unit,
                    due_on,
                    written,
                    attachment,
                    current_user,
                    Path(current_app.config["STORAGE_PATH"]),
                )
            )
            if (refusal := outcome.refusal) is not None:
                problems, status = [m for _, m in refusal.problems], refusal.status
            else:
                report = outcome.result
                assert report is not None  # submitted: the new version
                flash(
                    f"已报送第{report.version}版{'（迟报）' if report.is_late else ''}。", "success"
                )
                return redirect(request.url)
    versions = db.session.scalars(
        select(UnitReport)
        .where(
            UnitReport.campaign_id == campaign.id,
            UnitReport.unit_id == unit.id,
            UnitReport.due_on == due_on,
        )
        .order_by(UnitReport.version.desc())
    ).all()
    may_deliver = permissions.may_deliver(current_user, unit)
    # What a filing would freeze, as the ledger stands now: shown above the button.
    preview = (
        services.snapshot(db.session, campaign, unit, period, clock.now()) if may_deliver else None
    )
    return render_template(
        "half_monthly/unit_report.html",
        campaign=campaign,
        unit=unit,
        period=period,
        versions=[(r, r.figures) for r in versions],
        form=form,
        problems=problems,
        submitted=request.form if problems else None,
        preview=preview,
        preview_pending=preview["pending_change_requests"] if preview else 0,
        may_deliver=may_deliver,
        may_review=permissions.may_edit_campaign(current_user),
    ), status


@bp.post("/campaigns/<int:campaign_id>/reports/<int:report_id>/return")
@login_required
def return_report(campaign_id: int, report_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    report = permissions.unit_record_or_404(current_user, UnitReport, report_id, campaign.id)
    permissions.ensure(permissions.may_edit_campaign, current_user)
    comment = request.form.get("comment", "")
    perform(
        lambda: services.return_report(db.session, report, comment, current_user),
        "已退回，单位可报送新版本。",
    )
    return redirect(
        url_for(
            "half_monthly.unit_report",
            campaign_id=campaign.id,
            code=report.unit.code,
            due=report.due_on.isoformat(),
        )
    )


@bp.get("/campaigns/<int:campaign_id>/reports/<int:report_id>/attachment")
@login_required
def attachment(campaign_id: int, report_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    report = permissions.unit_record_or_404(current_user, UnitReport, report_id, campaign.id)
    if not report.attachment_path:
        abort(404)
    return send_stored(report.attachment_path, report.attachment_name)
