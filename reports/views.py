"""The bulletin archive: every bulletin with its PDF, attachment and snapshot; producing one."""

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
from sqlalchemy import select

from campaign.core import clock, jobs, permissions
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.storage import send_stored
from campaign.core.webforms import perform
from reports import attachment, services
from reports.models import RUN_STATUSES, Bulletin, BulletinRun

bp = Blueprint("bulletins", __name__, url_prefix="/campaigns/<int:campaign_id>/bulletins")


def _settings() -> services.Settings:
    return services.settings_from(current_app.config)


def bulletin_or_404(campaign_id: int, number: int, detail: bool = False) -> Bulletin:
    """A bulletin of the campaign. Every user reads the PDF (it is addressed to every unit);
    the snapshot and the item lists behind it are for city-wide users only."""
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    permissions.require(not detail or permissions.sees_city(current_user))
    return db.session.scalar(
        select(Bulletin).where(Bulletin.campaign_id == campaign.id, Bulletin.number == number)
    ) or abort(404)


@bp.get("")
@login_required
def archive(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    may_generate = permissions.may_edit_campaign(current_user)
    bulletins = services.archive(db.session, campaign)
    published = {b.due_on for b in bulletins}
    pending = [
        d
        for d in services.pending_cutoffs(campaign, _settings(), clock.now())
        if d not in published
    ]
    return render_template(
        "reports/archive.html",
        campaign=campaign,
        bulletins=bulletins,
        runs=services.runs(db.session, campaign) if permissions.sees_city(current_user) else [],
        pending=pending,
        may_generate=may_generate,
        sees_city=permissions.sees_city(current_user),
        bulletin_time=_settings().at,
        watch=request.args.get("run", type=int),
    )


def _produce_in_background(run_id: int, user_id: int | None) -> None:
    from campaign.core.models import User  # noqa: PLC0415

    run = db.session.get_one(BulletinRun, run_id)
    user = db.session.get(User, user_id) if user_id else None
    try:
        services.produce(db.session, run, _settings(), user)
    except Exception:  # recorded on the run, which the archive page shows and polls
        current_app.logger.exception("bulletin run %s failed", run_id)


@bp.post("/generate")
@login_required
def generate(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    permissions.ensure(permissions.may_edit_campaign, current_user)
    started = {}

    def start():
        try:
            due = services.parse_due(request.form.get("due_on", ""))
            started["run"] = services.start_run(
                db.session, campaign, due, _settings(), "manual", current_user
            )
        except services.Busy as e:
            raise ValidationFailed([("due_on", str(e))]) from e
        return started["run"]

    if perform(start, "已开始生成通报，完成后会出现在下方列表中。"):
        run_id = started["run"].id
        jobs.run(_produce_in_background, run_id, current_user.id)
        return redirect(url_for(".archive", campaign_id=campaign.id, run=run_id))
    return redirect(url_for(".archive", campaign_id=campaign.id))


@bp.get("/runs/<int:run_id>")
@login_required
def run_status(campaign_id: int, run_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    permissions.require(permissions.sees_city(current_user))
    run = db.session.get(BulletinRun, run_id)
    if run is None or run.campaign_id != campaign.id:
        abort(404)
    # A run whose process died shows as it will be settled (this page does not write).
    shown = {"status": run.status, "error": run.error}
    shown |= jobs.as_settled(services.RUNS, run, clock.now())
    return {
        "status": shown["status"],
        "status_label": RUN_STATUSES.get(shown["status"], shown["status"]),
        "step": run.step,
        "progress": run.progress,
        "error": shown["error"],
        "done": shown["status"] != "running",
    }


@bp.get("/<int:number>.pdf")
@login_required
def pdf(campaign_id: int, number: int) -> ResponseReturnValue:
    b = bulletin_or_404(campaign_id, number)
    return send_stored(b.pdf_path, f"通报第{b.number}期（{b.due_on}）.pdf", inline=True)


@bp.get("/<int:number>.xlsx")
@login_required
def xlsx(campaign_id: int, number: int) -> ResponseReturnValue:
    b = bulletin_or_404(campaign_id, number, detail=True)
    return send_stored(b.xlsx_path, attachment.filename(b.campaign.name, b.number))


@bp.get("/<int:number>/snapshot.json")
@login_required
def snapshot(campaign_id: int, number: int) -> ResponseReturnValue:
    b = bulletin_or_404(campaign_id, number, detail=True)
    return current_app.response_class(b.snapshot, mimetype="application/json")
