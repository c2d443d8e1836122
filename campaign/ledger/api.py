"""/api/v1 for the ledger: a unit's ledger as xlsx (export, import), exclusions and the figures."""

import io
from pathlib import Path
from typing import Any

from flask import Response, current_app, g, send_file
from flask.views import MethodView
from flask_smorest import abort
from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from campaign import figures
from campaign.core import campaigns as timeline
from campaign.core import permissions
from campaign.core.api import UnitSchema, blueprint, commit
from campaign.core.extensions import db
from campaign.core.inputs import Choice
from campaign.core.models import Campaign
from campaign.core.storage import MIMETYPES
from campaign.core.vocab import OperatingStatus, OrgKind
from campaign.ledger import checks, importing
from campaign.ledger import services as ledger_services
from campaign.ledger.inputs import ExclusionSchema
from campaign.ledger.models import Organization

blp = blueprint("ledger_api", "台账与指标")


class CountsSchema(Schema):
    base = fields.Int()
    excluded = fields.Int()
    with_party_org = fields.Int()
    standalone = fields.Int()
    work_covered = fields.Int()
    required = fields.Int()
    required_met = fields.Int()
    member_required = fields.Int()
    member_required_met = fields.Int()
    party_org_required_by_size = fields.Int()
    party_org_required_by_size_met = fields.Int()


class FiguresSchema(Schema):
    counts = fields.Nested(CountsSchema)
    party_org_coverage = fields.Float(allow_none=True)
    work_coverage = fields.Float(allow_none=True)
    standalone_rate = fields.Float(allow_none=True)
    required_coverage = fields.Float(allow_none=True)
    member_rate = fields.Float(allow_none=True)
    party_org_rate_by_size = fields.Float(allow_none=True)


class UnitFiguresSchema(Schema):
    unit = fields.Nested(UnitSchema)
    figures = fields.Nested(FiguresSchema)


class CampaignFiguresSchema(Schema):
    as_of = fields.Date(allow_none=True)
    overall = fields.Nested(FiguresSchema)
    units = fields.List(fields.Nested(UnitFiguresSchema))


class FiguresQuerySchema(Schema):
    as_of = fields.Date(load_default=None, metadata={"description": "按党组织成立日期回溯到该日"})


@blp.route("/campaigns/<int:campaign_id>/figures")
class CampaignFigures(MethodView):
    @blp.arguments(FiguresQuerySchema, location="query")
    @blp.response(200, CampaignFiguresSchema)
    def get(self, query: dict, campaign_id: int) -> dict[str, Any]:
        """Figures overall and per unit, over what the caller may read."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        unit_ids = permissions.visible_unit_ids(g.api_user)
        as_of = query["as_of"]
        rows = figures.by_unit(db.session, campaign, unit_ids, as_of)
        return {
            "as_of": as_of,
            # The units' sum: the same rows, not a second query for the total.
            "overall": figures.total_of(rows),
            "units": [{"unit": u, "figures": f} for u, f in rows],
        }


# ---- ledger ---------------------------------------------------------------------


class LedgerUploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "附表1/附表2 xlsx"})


class LedgerQuerySchema(Schema):
    campaign_id = fields.Int(load_default=None, metadata={"description": "默认最新的行动"})
    dry_run = fields.Bool(load_default=False, metadata={"description": "只校验并返回差异"})


class ImportResultSchema(Schema):
    batch_id = fields.Int()
    status = fields.Str(metadata={"description": "applied | previewed | discarded"})
    summary = fields.Dict()
    notices = fields.List(fields.Str())


def _ledger_campaign(campaign_id: int | None) -> Campaign:
    if campaign_id:
        return permissions.campaign_or_404(g.api_user, campaign_id)
    return timeline.latest_campaign(db.session) or abort(404, message="没有攻坚行动")


@blp.route("/units/<code>/ledger")
class UnitLedgerResource(MethodView):
    @blp.arguments(LedgerQuerySchema, location="query")
    @blp.response(200, description="xlsx（附表1、附表2），可原样再导入")
    def get(self, query: dict, code: str) -> Response:
        """Export the unit's ledger as xlsx."""
        campaign = _ledger_campaign(query["campaign_id"])
        unit = permissions.unit_or_404(g.api_user, code)
        data, _ = ledger_services.export_workbook(db.session, campaign, [unit.id])
        return send_file(
            io.BytesIO(data),
            mimetype=MIMETYPES[".xlsx"],
            as_attachment=True,
            download_name=f"ledger-{unit.code}-{campaign.year}.xlsx",
        )

    @blp.arguments(LedgerQuerySchema, location="query")
    @blp.arguments(LedgerUploadSchema, location="files")
    @blp.response(200, ImportResultSchema)
    def post(self, query: dict, files: dict, code: str) -> dict[str, Any]:
        """Import an xlsx into the unit's ledger: all or nothing; 422 lists every problem in Chinese."""
        campaign = _ledger_campaign(query["campaign_id"])
        unit = permissions.unit_or_404(g.api_user, code)
        permissions.ensure(permissions.may_edit_ledger, g.api_user, unit)
        data = files["file"].read()
        storage = Path(current_app.config["STORAGE_PATH"])
        batch = importing.start_import(
            db.session, campaign, unit, data, files["file"].filename, g.api_user, storage
        )
        importing.process_import(db.session, batch, data)
        if batch.status == "refused":
            db.session.commit()  # the refused upload and any conflicts stay on record
            abort(
                422,
                message="文件未通过校验，台账未作任何修改",
                errors={"file": batch.problems},
            )
        finish = importing.discard_import if query["dry_run"] else importing.apply_import
        commit(lambda: finish(db.session, batch, g.api_user), status=409)
        return {
            "batch_id": batch.id,
            "status": batch.status,
            "summary": batch.summary,
            "notices": batch.notices,
        }


# ---- exclusions ---------------------------------------------------------------------


class ExclusionStateSchema(Schema):
    """An organization in or out of the base, with why and who decided."""

    id = fields.Int()
    name = fields.Str()
    credit_code = fields.Str()
    kind = Choice(OrgKind)
    operating_status = Choice(OperatingStatus)
    in_base = fields.Bool()
    exclusion_note = fields.Str()
    exclusion_decided_by = fields.Int(attribute="exclusion_decided_by_id", allow_none=True)
    exclusion_decided_at = fields.DateTime(allow_none=True)


@blp.route("/campaigns/<int:campaign_id>/organizations/<int:org_id>/<any(exclude, restore):action>")
class OrganizationExclusion(MethodView):
    @blp.arguments(ExclusionSchema)
    @blp.response(200, ExclusionStateSchema)
    def post(self, data: dict, campaign_id: int, org_id: int, action: str) -> Organization:
        """Take an organization out of the base with a status of its kind, or put it back
        (restore). A social organization (deregistered, revoked, inactive) leaves at the
        coordinator's decision; an enterprise (shell, zombie, shadow) is proposed by its
        district's operator or a coordinator and stays in the base (``in_base`` still true)
        until 工商 confirms the proposal. Another kind's status is refused (422, naming the
        field)."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        org = permissions.unit_record_or_404(g.api_user, Organization, org_id, campaign.id)
        reason = data.get("reason", "")
        if action == "exclude" and org.kind == OrgKind.ENTERPRISE:
            permissions.ensure(permissions.may_propose_exclusion, g.api_user, org.unit)
            status = data.get("status")
            commit(
                lambda: ledger_services.propose_exclusion(
                    db.session, org, status, reason, g.api_user
                )
            )
            return org
        permissions.ensure(permissions.may_review_ledgers, g.api_user)
        if action == "exclude":
            status = data.get("status")
            commit(
                lambda: ledger_services.exclude_organization(
                    db.session, org, status, reason, g.api_user
                ),
                status=422,
            )
        else:
            commit(
                lambda: ledger_services.restore_organization(db.session, org, reason, g.api_user)
            )
        return org


class ProposalSchema(Schema):
    id = fields.Int()
    organization = fields.Int(attribute="organization_id")
    name = fields.Function(lambda p: p.organization.name)
    unit = fields.Function(lambda p: p.unit.code)
    status = Choice(OperatingStatus)
    reason = fields.Str()
    state = fields.Str(metadata={"enum": ["pending", "confirmed", "rejected"]})
    proposed_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    decision_note = fields.Str()


class DecisionSchema(Schema):
    note = fields.Str(load_default="", metadata={"description": "工商部门意见（不予确认时必填）"})


@blp.route("/campaigns/<int:campaign_id>/exclusion-proposals")
class ExclusionProposals(MethodView):
    @blp.response(200, ProposalSchema(many=True))
    def get(self, campaign_id: int) -> list:
        """The proposals to take enterprises out of the base, waiting ones first: 工商 reads
        every unit's, the others those of the units they read."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        ids = checks.proposal_units(g.api_user)
        return ledger_services.exclusion_proposals(db.session, campaign, ids)


@blp.route(
    "/campaigns/<int:campaign_id>/exclusion-proposals/<int:proposal_id>/<any(confirm, reject):action>"
)
class ExclusionDecision(MethodView):
    @blp.arguments(DecisionSchema)
    @blp.response(200, ProposalSchema)
    def post(self, data: dict, campaign_id: int, proposal_id: int, action: str) -> Any:
        """工商 confirms a proposal (the enterprise leaves the base) or rejects it with its
        reason (it stays); 403 for anyone else who reads it, 409 when already decided."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        proposal = checks.proposal_or_404(g.api_user, proposal_id, campaign.id)
        permissions.ensure(permissions.may_confirm_exclusions, g.api_user)
        decide = (
            ledger_services.confirm_exclusion
            if action == "confirm"
            else ledger_services.reject_exclusion
        )
        commit(lambda: decide(db.session, proposal, data["note"], g.api_user))
        return proposal


# ---- the verifying departments' remit (read-only) -----------------------------------------


class RemitOrganizationSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    credit_code = fields.Str()
    unit = fields.Function(lambda o: o.unit.code)
    kind = fields.Str()
    tags = fields.List(fields.Str())
    operating_status = fields.Str()
    employees = fields.Int()
    formal_members = fields.Int()
    probationary_members = fields.Int()
    party_org_status = fields.Str()
    target = fields.Str()
    in_base = fields.Bool()


class RemitQuerySchema(Schema):
    q = fields.Str(load_default="", metadata={"description": "名称（包含）或统一社会信用代码"})
    page = fields.Int(
        load_default=1,
        validate=lambda n: 1 <= n <= 100_000,
        metadata={"description": "页码（每页50个）"},
    )


@blp.route("/campaigns/<int:campaign_id>/remit")
class Remit(MethodView):
    @blp.arguments(RemitQuerySchema, location="query")
    @blp.response(200, RemitOrganizationSchema(many=True))
    def get(self, query: dict, campaign_id: int) -> list[Organization]:
        """The organizations in the caller's remit (a verifying department's users only; 404
        for anyone else), city-wide, 50 a page, by unit."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        remit = permissions.remit_of(g.api_user)
        permissions.require(remit is not None)
        assert remit is not None  # required above
        page = checks.remit_organizations(db.session, campaign, remit, query["q"], query["page"])
        return list(page.items)
