"""The bulletin archive: every bulletin with its PDF, attachment and snapshot; producing one;
a draft's review and 签发."""

import json

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

from campaign.core import clock, jobs, permissions
from campaign.core.commit import commit
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
    the snapshot and the item lists behind it are for city-wide users only. A draft is for
    those who review and sign it: nobody else knows it exists."""
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    permissions.require(not detail or permissions.sees_city(current_user))
    bulletin = db.session.scalar(
        select(Bulletin).where(Bulletin.campaign_id == campaign.id, Bulletin.number == number)
    ) or abort(404)
    permissions.require(not bulletin.is_draft or services.sees_drafts(current_user))
    return bulletin


@bp.get("")
@login_required
def archive(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    may_generate = permissions.may_edit_campaign(current_user)
    bulletins = services.archive(db.session, campaign)
    published = {b.due_on for b in bulletins}
    sees_drafts = services.sees_drafts(current_user)
    if not sees_drafts:
        bulletins = [b for b in bulletins if not b.is_draft]
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
        sees_drafts=sees_drafts,
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
                db.session, campaign, due, _settings(), "manual", current_user, queued=True
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
    name = f"通报第{b.number}期{'（草稿）' if b.is_draft else ''}（{b.due_on}）.pdf"
    # Opened in the browser's (or the phone's) viewer; ?download=1 saves it instead.
    return send_stored(b.pdf_path, name, inline=not request.args.get("download"))


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


# ---- review and 签发 -----------------------------------------------------------------------


def _draft_page(b: Bulletin, status: int = 200, problems=(), submitted=None) -> ResponseReturnValue:
    data = json.loads(b.snapshot)
    return render_template(
        "reports/draft.html",
        campaign=b.campaign,
        b=b,
        s=data,
        form=FlaskForm(),
        may_edit=permissions.may_edit_campaign(current_user) and b.is_draft,
        may_sign=services.may_sign(current_user) and b.is_draft,
        problems=[message for _, message in problems],
        # A blank line between paragraphs, for the eye (blank lines are not paragraphs).
        text=submitted if submitted is not None else "\n\n".join(data["requirements"]),
        next_number=services.next_document(
            db.session, b.campaign, clock.today(b.campaign.timezone)
        )[1],
    ), status


@bp.route("/<int:number>/draft", methods=["GET", "POST"])
@login_required
def draft(campaign_id: int, number: int) -> ResponseReturnValue:
    """A bulletin under review (and, once signed, what was signed): its figures, its PDF, the
    coordinators' wording of 下步工作要求, the leader's 签发."""
    b = bulletin_or_404(campaign_id, number)
    permissions.require(services.sees_drafts(current_user))
    if request.method == "GET":
        return _draft_page(b)
    permissions.ensure(permissions.may_edit_campaign, current_user)
    if not FlaskForm().validate_on_submit():
        return _draft_page(b, 400, [("", "表单已失效，请刷新页面后重试。")])
    raw = request.form.get("requirements", "")
    based_on = request.form.get("based_on") or None
    outcome = commit(
        lambda: services.edit_requirements(db.session, b, raw, current_user, _settings(), based_on)
    )
    if (refusal := outcome.refusal) is not None:
        db.session.refresh(b)
        edited_meanwhile = refusal.message == services.EDITED_MEANWHILE
        return _draft_page(b, refusal.status, refusal.problems, None if edited_meanwhile else raw)
    flash("已保存，草稿已按修改后的文字重新生成。" if outcome.result else "没有修改。", "success")
    return redirect(url_for(".draft", campaign_id=campaign_id, number=number))


@bp.post("/<int:number>/sign")
@login_required
def sign(campaign_id: int, number: int) -> ResponseReturnValue:
    b = bulletin_or_404(campaign_id, number)
    permissions.require(services.sees_drafts(current_user))
    permissions.ensure(services.may_sign, current_user)
    if not FlaskForm().validate_on_submit():
        return _draft_page(b, 400, [("", "表单已失效，请刷新页面后重试。")])
    outcome = commit(lambda: services.sign(db.session, b, current_user, _settings()))
    if (refusal := outcome.refusal) is not None:
        db.session.refresh(b)
        return _draft_page(b, refusal.status, refusal.problems)
    flash(f"已签发第{b.number}期通报（{b.document_number}），已存档并发送各主送单位。", "success")
    return redirect(url_for(".archive", campaign_id=campaign_id))
