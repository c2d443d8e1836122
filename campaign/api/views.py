"""API endpoints: campaigns, phases, units and figures."""

import io
import json
from pathlib import Path

from flask import current_app, g, request, send_file
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from campaign import figures, permissions
from campaign.accounts.services import user_for_token
from campaign.errors import ValidationFailed
from campaign.extensions import db
from campaign.ledger import excel, importing
from campaign.ledger import services as ledger_services
from campaign.timeline import services as timeline
from campaign.timeline.models import Campaign

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
blp = Blueprint("api", __name__, url_prefix="/api/v1", description="攻坚 API v1")


@blp.before_request
def authenticate_bearer() -> None:
    """Every API request carries ``Authorization: Bearer <token>``; session cookies are ignored."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    user = user_for_token(db.session, token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        abort(401, message="缺少或无效的访问令牌（Authorization: Bearer …）")
    g.api_user = user


class PhaseSchema(Schema):
    id = fields.Int()
    position = fields.Int()
    code = fields.Str()
    name = fields.Str()
    starts_on = fields.Date()
    ends_on = fields.Date()
    deliverable = fields.Str()


class CampaignSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    year = fields.Int()
    issuing_body = fields.Str()
    city_name = fields.Str()
    starts_on = fields.Date()
    ends_on = fields.Date()
    timezone = fields.Str()
    report_day_first = fields.Int()
    report_day_second = fields.Int()
    member_required_employees = fields.Int()
    party_org_required_employees = fields.Int()
    standalone_formal_members = fields.Int()
    social_staff_threshold = fields.Int()
    large_enterprise_employees = fields.Int()
    rural_min_formal_members = fields.Int()
    target_party_org_coverage = fields.Decimal(as_string=True)
    target_required_coverage = fields.Decimal(as_string=True)


# Any subset of the editable settings, as strings or numbers; unknown fields are refused.
SettingsSchema = Schema.from_dict(
    {field: fields.Raw() for field in timeline.SETTINGS}, name="SettingsSchema"
)


class UnitSchema(Schema):
    code = fields.Str()
    name = fields.Str()
    kind = fields.Str()
    parent = fields.Function(lambda u: u.parent.code if u.parent else None)
    is_responsible = fields.Bool()


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


@blp.route("/campaigns")
class Campaigns(MethodView):
    @blp.response(200, CampaignSchema(many=True))
    def get(self):
        """Every campaign."""
        return db.session.scalars(db.select(Campaign).order_by(Campaign.id)).all()


@blp.route("/campaigns/<int:campaign_id>")
class CampaignItem(MethodView):
    @blp.response(200, CampaignSchema)
    def get(self, campaign_id: int):
        """One campaign with its settings."""
        return permissions.campaign_or_404(g.api_user, campaign_id)


@blp.route("/campaigns/<int:campaign_id>/settings")
class CampaignSettings(MethodView):
    @blp.arguments(SettingsSchema)
    @blp.response(200, CampaignSchema)
    def patch(self, data: dict, campaign_id: int):
        """Change settings (coordinators and admins); all or nothing, messages in Chinese."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        permissions.require(permissions.may_edit_campaign(g.api_user))
        try:
            timeline.update_settings(
                db.session, campaign, {k: str(v) for k, v in data.items()}, g.api_user
            )
        except ValidationFailed as e:
            db.session.rollback()
            abort(422, message=str(e), errors=dict(e.problems))
        db.session.commit()
        return campaign


@blp.route("/campaigns/<int:campaign_id>/phases")
class Phases(MethodView):
    @blp.response(200, PhaseSchema(many=True))
    def get(self, campaign_id: int):
        """The campaign's phases in order."""
        return permissions.campaign_or_404(g.api_user, campaign_id).phases


@blp.route("/units")
class Units(MethodView):
    @blp.response(200, UnitSchema(many=True))
    def get(self):
        """The responsible units the caller may read."""
        return permissions.responsible_units(g.api_user)


@blp.route("/units/<code>")
class UnitItem(MethodView):
    @blp.response(200, UnitSchema)
    def get(self, code: str):
        """One unit (404 if the caller may not read it)."""
        return permissions.unit_or_404(g.api_user, code)


@blp.route("/campaigns/<int:campaign_id>/figures")
class CampaignFigures(MethodView):
    @blp.arguments(FiguresQuerySchema, location="query")
    @blp.response(200, CampaignFiguresSchema)
    def get(self, query: dict, campaign_id: int):
        """Figures overall and per unit, over what the caller may read."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        unit_ids = permissions.visible_unit_ids(g.api_user)
        as_of = query["as_of"]
        return {
            "as_of": as_of,
            "overall": figures.overall(db.session, campaign, unit_ids, as_of),
            "units": [
                {"unit": u, "figures": f}
                for u, f in figures.by_unit(db.session, campaign, unit_ids, as_of)
            ],
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
    def get(self, query: dict, code: str):
        """Export the unit's ledger as xlsx."""
        campaign = _ledger_campaign(query["campaign_id"])
        unit = permissions.unit_or_404(g.api_user, code)
        buffer = io.BytesIO()
        areas = [u.name for u in unit.children]
        excel.write_workbook(
            ledger_services.export_rows(db.session, campaign, [unit.id]), areas, buffer
        )
        buffer.seek(0)
        return send_file(
            buffer,
            mimetype=XLSX,
            as_attachment=True,
            download_name=f"ledger-{unit.code}-{campaign.year}.xlsx",
        )

    @blp.arguments(LedgerQuerySchema, location="query")
    @blp.arguments(LedgerUploadSchema, location="files")
    @blp.response(200, ImportResultSchema)
    def post(self, query: dict, files: dict, code: str):
        """Import an xlsx into the unit's ledger: all or nothing; 422 lists every problem in Chinese."""
        campaign = _ledger_campaign(query["campaign_id"])
        unit = permissions.unit_or_404(g.api_user, code)
        permissions.require(permissions.may_edit_ledger(g.api_user, unit))
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
                errors={"file": json.loads(batch.problems)},
            )
        try:
            if query["dry_run"]:
                importing.discard_import(db.session, batch, g.api_user)
            else:
                importing.apply_import(db.session, batch, g.api_user)
        except ValidationFailed as e:
            db.session.rollback()
            abort(409, message=str(e))
        db.session.commit()
        return {
            "batch_id": batch.id,
            "status": batch.status,
            "summary": json.loads(batch.summary),
            "notices": json.loads(batch.notices),
        }
