"""A unit's figures and ledger; import, export, review, change requests and exclusions."""

import io
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from campaign import figures, targets
from campaign.core import clock, inputs, jobs, permissions
from campaign.core.extensions import db
from campaign.core.models import Unit
from campaign.core.paging import page_arg
from campaign.core.storage import MIMETYPES
from campaign.core.vocab import EXITS, Affiliation, LiaisonRole, OrgKind
from campaign.core.webforms import perform
from campaign.ledger import checks, excel, importing, services
from campaign.ledger.inputs import ExclusionSchema, PhasesSchema
from campaign.ledger.models import (
    ChangeAction,
    ChangeRequest,
    ChangeStatus,
    ImportBatch,
    Organization,
)

bp = Blueprint("ledger", __name__)
XLSX = MIMETYPES[".xlsx"]


@bp.get("/campaigns/<int:campaign_id>/units/<code>")
@login_required
def unit(campaign_id: int, code: str) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    unit = permissions.unit_or_404(current_user, code)
    if not unit.is_responsible and unit.parent is not None:
        # Streets and parks have no ledger of their own: their rows are on the district's page.
        return redirect(url_for("ledger.unit", campaign_id=campaign.id, code=unit.parent.code))
    page = page_arg()
    q = request.args.get("q", "").strip()
    orgs = services.list_organizations(db.session, campaign, unit.id, q, page)
    by_area = figures.grouped(db.session, campaign, "area", [unit.id])
    areas = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.parent_id == unit.id))}
    return render_template(
        "ledger/unit.html",
        campaign=campaign,
        unit=unit,
        ledger=services.unit_ledger(db.session, campaign, unit),
        total=figures.overall(db.session, campaign, [unit.id]),
        # Streets/parks in their order, then rows with no street ("（未分街道）").
        by_area=sorted(
            ((areas.get(key), f) for key, f in by_area.items()),
            key=lambda pair: (pair[0] is None, pair[0].position if pair[0] else 0),
        ),
        by_kind=figures.grouped(db.session, campaign, "kind", [unit.id]),
        goals=targets.load(db.session, campaign),  # the unit's own targets, where it has them
        by_category=figures.grouped(db.session, campaign, "category", [unit.id]),
        orgs=orgs.items,
        org_total=orgs.total,
        may_exclude=permissions.may_review_ledgers(current_user),
        may_propose=permissions.may_propose_exclusion(current_user, unit),
        pending=services.pending_ids(db.session, campaign, [unit.id]),
        exclusion_choices=EXITS,
        form=FlaskForm(),
        page=page,
        pages=max(1, orgs.pages),
        q=q,
    )


@bp.get("/campaigns/<int:campaign_id>/units/<code>/ledger")
@login_required
def ledger(campaign_id: int, code: str) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    unit = permissions.unit_or_404(current_user, code)
    if not unit.is_responsible:
        abort(404)  # streets and parks keep no ledger of their own
    ledger = services.unit_ledger(db.session, campaign, unit)
    db.session.commit()  # the draft row, created on first visit
    imports = db.session.scalars(
        select(ImportBatch)
        .where(ImportBatch.campaign_id == campaign.id, ImportBatch.unit_id == unit.id)
        .order_by(ImportBatch.id.desc())
        .limit(20)
    ).all()
    conflicts = services.conflicts(db.session, campaign, unit)
    requests = db.session.scalars(
        select(ChangeRequest)
        .where(ChangeRequest.campaign_id == campaign.id, ChangeRequest.unit_id == unit.id)
        .order_by(ChangeRequest.status != ChangeStatus.PENDING, ChangeRequest.id.desc())
        .limit(100)
    ).all()
    return render_template(
        "ledger/ledger.html",
        campaign=campaign,
        unit=unit,
        ledger=ledger,
        imports=imports,
        import_status={b.id: _shown(b)["status"] for b in imports},
        conflicts=conflicts,
        requests=requests,
        form=FlaskForm(),
        may_edit=permissions.may_edit_ledger(current_user, unit),
        may_review=permissions.may_review_ledgers(current_user),
        max_mb=excel.MAX_FILE_BYTES // 1024 // 1024,
    )


def _xlsx(data: bytes, filename: str):
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=filename)


@bp.get("/campaigns/<int:campaign_id>/units/<code>/ledger/template.xlsx")
@login_required
def template(campaign_id: int, code: str) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    unit = permissions.unit_or_404(current_user, code)
    heading = services.filing_line(unit.name)
    data, _ = services.export_workbook(db.session, campaign, [unit.id], blank=True, heading=heading)
    return _xlsx(data, services.export_name(campaign, unit.name, blank=True))


@bp.get("/campaigns/<int:campaign_id>/units/<code>/ledger.xlsx")
@login_required
def export_unit(campaign_id: int, code: str) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    unit = permissions.unit_or_404(current_user, code)
    data, _ = services.export_workbook(
        db.session, campaign, [unit.id], heading=_filed_by(campaign, unit.name)
    )
    return _xlsx(data, services.export_name(campaign, unit.name))


@bp.get("/campaigns/<int:campaign_id>/ledger.xlsx")
@login_required
def export_city(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    permissions.require(permissions.sees_city(current_user))
    data, _ = services.export_workbook(
        db.session, campaign, None, heading=_filed_by(campaign, "全市")
    )
    return _xlsx(data, services.export_name(campaign, "全市"))


def _filed_by(campaign, unit_name: str) -> str:
    """The 填报单位/填报人/日期 line of an export by the user asking for it, today."""
    person = current_user.display_name or current_user.username
    return services.filing_line(unit_name, person, clock.today(campaign.timezone))


@bp.post("/campaigns/<int:campaign_id>/units/<code>/ledger/imports")
@login_required
def upload(campaign_id: int, code: str) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    unit = permissions.unit_or_404(current_user, code)
    permissions.ensure(permissions.may_edit_ledger, current_user, unit)
    form = FlaskForm()
    file = request.files.get("file")
    back = url_for("ledger.ledger", campaign_id=campaign.id, code=unit.code)
    if not form.validate_on_submit():
        flash("表单已失效，请刷新页面后重新上传。", "error")
        return redirect(back)
    if file is None or not file.filename:
        flash("请选择要上传的 xlsx 文件。", "error")
        return redirect(back)
    storage = Path(current_app.config["STORAGE_PATH"])
    batch = importing.start_import(
        db.session, campaign, unit, file.read(), file.filename, current_user, storage
    )
    db.session.commit()
    jobs.run(_process, batch.id, storage)
    return redirect(url_for("ledger.import_batch", campaign_id=campaign.id, batch_id=batch.id))


def _process(batch_id: int, storage: Path) -> None:
    importing.run_import(db.session, batch_id, storage)


def _shown(batch: ImportBatch) -> dict:
    """The batch's status, problems and notices as they are, or as they will be settled if
    its processing died (read only: these pages never write)."""
    shown = {"status": batch.status, "problems": batch.problems, "notices": batch.notices}
    return shown | jobs.as_settled(importing.IMPORTS, batch, clock.now())


def _batch_view(batch: ImportBatch) -> dict:
    diff = batch.diff
    shown = _shown(batch)
    return {
        "id": batch.id,
        "status": shown["status"],
        "progress": batch.progress,
        "total": batch.total,
        "problems": shown["problems"],
        "notices": shown["notices"],
        "summary": batch.summary,
        "changes": [
            {**d, "action_label": ChangeAction(d["action"]).label}
            for d in [d for d in diff if d["action"] != ChangeAction.ADD][:500]
        ],
        "additions": [d for d in diff if d["action"] == ChangeAction.ADD][:200],
    }


@bp.get("/campaigns/<int:campaign_id>/imports/<int:batch_id>")
@login_required
def import_batch(campaign_id: int, batch_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    batch = permissions.unit_record_or_404(current_user, ImportBatch, batch_id, campaign.id)
    view = _batch_view(batch)
    return render_template(
        "ledger/import.html",
        campaign=campaign,
        batch=batch,
        view=view,
        # Problems in the file's sheets (not of the file as a whole) can be marked in it.
        marked=view["status"] == "refused" and any(p.startswith("「") for p in view["problems"]),
        form=FlaskForm(),
        may_edit=permissions.may_edit_ledger(current_user, batch.unit),
    )


@bp.get("/campaigns/<int:campaign_id>/imports/<int:batch_id>/marked.xlsx")
@login_required
def marked_file(campaign_id: int, batch_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    batch = permissions.unit_record_or_404(current_user, ImportBatch, batch_id, campaign.id)
    storage = Path(current_app.config["STORAGE_PATH"])
    data = importing.annotated_file(db.session, batch, storage)
    if data is None:
        abort(404)
    return _xlsx(data, f"{Path(batch.filename).stem}-问题已标注.xlsx")


@bp.get("/campaigns/<int:campaign_id>/imports/<int:batch_id>/status")
@login_required
def import_status(campaign_id: int, batch_id: int) -> ResponseReturnValue:
    batch = permissions.unit_record_or_404(current_user, ImportBatch, batch_id, campaign_id)
    return jsonify(status=_shown(batch)["status"], progress=batch.progress, total=batch.total)


@bp.post("/campaigns/<int:campaign_id>/imports/<int:batch_id>/<any(apply, discard):action>")
@login_required
def decide_import(campaign_id: int, batch_id: int, action: str) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    batch = permissions.unit_record_or_404(current_user, ImportBatch, batch_id, campaign.id)
    permissions.ensure(permissions.may_edit_ledger, current_user, batch.unit)
    if action == "apply":
        perform(lambda: importing.apply_import(db.session, batch, current_user), _applied_message)
    else:
        perform(
            lambda: importing.discard_import(db.session, batch, current_user),
            "已放弃本次导入，台账未作修改。",
        )
    return redirect(url_for("ledger.ledger", campaign_id=campaign.id, code=batch.unit.code))


def _applied_message(summary: dict) -> str:
    exits = "".join(f"{n}。" for n in importing.exits_notices(db.session, summary, applied=True))
    if summary["editable"]:
        return (
            f"导入完成：新增{summary['add']}个，修改{summary['update']}个，"
            f"删除{summary['remove']}个，未变{summary['same']}个。{exits}"
        )
    return (
        f"台账已审核，本次导入生成变更申请：新增{summary['add']}个、修改{summary['update']}个，"
        f"待市级专班审核后生效。{exits}"
    )


@bp.post("/campaigns/<int:campaign_id>/units/<code>/ledger/<any(submit, approve, return):action>")
@login_required
def review(campaign_id: int, code: str, action: str) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    unit = permissions.unit_or_404(current_user, code)
    if action == "submit":
        permissions.ensure(permissions.may_edit_ledger, current_user, unit)
    else:
        permissions.ensure(permissions.may_review_ledgers, current_user)
    ledger = services.unit_ledger(db.session, campaign, unit)
    comment = request.form.get("comment", "")
    move = {
        "submit": lambda: services.submit_ledger(db.session, ledger, current_user),
        "approve": lambda: services.approve_ledger(db.session, ledger, current_user, comment),
        "return": lambda: services.return_ledger(db.session, ledger, current_user, comment),
    }[action]
    perform(move, lambda _: f"台账状态：{ledger.status_label}。")
    return redirect(url_for("ledger.ledger", campaign_id=campaign.id, code=unit.code))


@bp.get("/campaigns/<int:campaign_id>/change-requests")
@login_required
def change_requests(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    stmt = select(ChangeRequest).where(
        ChangeRequest.campaign_id == campaign.id, ChangeRequest.status == ChangeStatus.PENDING
    )
    ids = permissions.visible_unit_ids(current_user)
    if ids is not None:
        stmt = stmt.where(ChangeRequest.unit_id.in_(ids))
    pending = db.session.scalars(
        stmt.options(
            joinedload(ChangeRequest.unit),
            joinedload(ChangeRequest.organization).joinedload(Organization.area),
        )
        .order_by(ChangeRequest.id)
        .limit(500)
    ).all()
    return render_template(
        "ledger/change_requests.html",
        campaign=campaign,
        pending=[(r, services.proposed_changes(r)) for r in pending],
        form=FlaskForm(),
        may_review=permissions.may_review_ledgers(current_user),
    )


@bp.post(
    "/campaigns/<int:campaign_id>/change-requests/<int:request_id>/<any(accept, reject):action>"
)
@login_required
def decide_change(campaign_id: int, request_id: int, action: str) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    req = permissions.unit_record_or_404(current_user, ChangeRequest, request_id, campaign.id)
    permissions.ensure(permissions.may_review_ledgers, current_user)
    accept = action == "accept"
    perform(
        lambda: services.decide_change(
            db.session, req, accept, current_user, request.form.get("comment", "")
        ),
        f"变更申请（{req.credit_code}）已{'采纳' if accept else '驳回'}。",
    )
    return redirect(url_for("ledger.change_requests", campaign_id=campaign.id))


@bp.get("/campaigns/<int:campaign_id>/exclusions")
@login_required
def exclusions(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    orgs = services.exclusions(
        db.session, campaign, permissions.visible_unit_ids(current_user), page_arg()
    )
    return render_template(
        "ledger/exclusions.html",
        campaign=campaign,
        orgs=orgs,
        proposals=services.exclusion_proposals(
            db.session, campaign, checks.proposal_units(current_user)
        ),
        form=FlaskForm(),
        may_decide=permissions.may_review_ledgers(current_user),
        may_confirm=permissions.may_confirm_exclusions(current_user),
    )


@bp.post("/campaigns/<int:campaign_id>/organizations/<int:org_id>/<any(exclude, restore):action>")
@login_required
def exclusion(campaign_id: int, org_id: int, action: str) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    org = permissions.unit_record_or_404(current_user, Organization, org_id, campaign.id)
    # An enterprise is proposed (by its district) and leaves only when 工商 confirms; a social
    # organization is taken out by the coordinators. A status that is not an exit, or not one
    # of the organization's kind, is refused by the service.
    proposing = action == "exclude" and org.kind == OrgKind.ENTERPRISE
    if proposing:
        permissions.ensure(permissions.may_propose_exclusion, current_user, org.unit)
    else:
        permissions.ensure(permissions.may_review_ledgers, current_user)
    asked, _ = inputs.parse(ExclusionSchema(), request.form)
    status, reason = asked.get("status"), asked.get("reason", "")
    if proposing:
        perform(
            lambda: services.propose_exclusion(db.session, org, status, reason, current_user),
            f"已提请工商部门确认剔除“{org.name}”；确认前仍在党建基数内。",
        )
    elif action == "exclude":
        perform(
            lambda: services.exclude_organization(db.session, org, status, reason, current_user),
            f"“{org.name}”已剔除出党建基数。",
        )
    else:
        perform(
            lambda: services.restore_organization(db.session, org, reason, current_user),
            f"“{org.name}”已恢复到党建基数。",
        )
    back = request.form.get("back", "")
    if back == "unit":
        return redirect(url_for("ledger.unit", campaign_id=campaign.id, code=org.unit.code))
    return redirect(url_for("ledger.exclusions", campaign_id=campaign.id))


@bp.post(
    "/campaigns/<int:campaign_id>/exclusion-proposals/<int:proposal_id>/<any(confirm, reject):action>"
)
@login_required
def decide_exclusion(campaign_id: int, proposal_id: int, action: str) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    proposal = checks.proposal_or_404(current_user, proposal_id, campaign.id)
    permissions.ensure(permissions.may_confirm_exclusions, current_user)
    note = request.form.get("note", "")
    name = proposal.organization.name
    if action == "confirm":
        perform(
            lambda: services.confirm_exclusion(db.session, proposal, note, current_user),
            f"已确认：“{name}”剔除出党建基数。",
        )
    else:
        perform(
            lambda: services.reject_exclusion(db.session, proposal, note, current_user),
            f"未予确认：“{name}”仍在党建基数内。",
        )
    return redirect(url_for("ledger.exclusions", campaign_id=campaign.id))


# ---- the verifying departments: their remit, city-wide and read-only; check notes --------


@bp.get("/campaigns/<int:campaign_id>/remit")
@login_required
def remit(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    remit = permissions.remit_of(current_user)
    permissions.require(remit is not None)
    assert remit is not None  # required above
    q = request.args.get("q", "").strip()
    return render_template(
        "ledger/remit.html",
        campaign=campaign,
        remit=remit,
        scope=checks.scope_text(remit),
        q=q,
        orgs=checks.remit_organizations(db.session, campaign, remit, q, page_arg()),
    )


@bp.route("/campaigns/<int:campaign_id>/organizations/<int:org_id>", methods=["GET", "POST"])
@login_required
def organization(campaign_id: int, org_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    org = db.session.get(Organization, org_id)
    permissions.require(
        org is not None
        and org.campaign_id == campaign.id
        and permissions.sees_organization(current_user, org.kind, org.tags, org.unit_id)
    )
    assert org is not None  # required above
    if request.method == "POST":
        permissions.ensure(permissions.may_note_check, current_user, org.kind, org.tags)
        text = request.form.get("text", "")
        perform(
            lambda: checks.add_check_note(db.session, org, text, current_user), "已记录核查意见。"
        )
        return redirect(url_for("ledger.organization", campaign_id=campaign.id, org_id=org.id))
    return render_template(
        "ledger/organization.html",
        campaign=campaign,
        org=org,
        notes=checks.notes_of(db.session, org),
        may_note=permissions.may_note_check(current_user, org.kind, org.tags),
        may_edit=permissions.may_edit_ledger(current_user, org.unit),
        affiliations=Affiliation,
        liaison_roles=LiaisonRole,
        today=clock.today(campaign.timezone),
        form=FlaskForm(),
    )


@bp.post("/campaigns/<int:campaign_id>/organizations/<int:org_id>/phases")
@login_required
def organization_phases(campaign_id: int, org_id: int) -> ResponseReturnValue:
    # Seed 004 phases 5 and 6: the unit's operator records them as he edits the ledger (a
    # draft changes, an approved base gets a change request).
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    org = permissions.unit_record_or_404(current_user, Organization, org_id, campaign.id)
    permissions.ensure(permissions.may_edit_ledger, current_user, org.unit)

    def record() -> object:
        values = inputs.load(PhasesSchema(), request.form)
        return services.record_phases(db.session, campaign, org, values, current_user)

    perform(
        record,
        lambda done: (
            "已提交变更申请，待市级专班审核。"
            if isinstance(done, ChangeRequest)
            else "已保存隶属关系和选派情况。"
        ),
    )
    return redirect(url_for("ledger.organization", campaign_id=campaign.id, org_id=org.id))
