"""API endpoints: campaigns, phases, units and figures."""

from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields

from campaign import figures, permissions
from campaign.accounts.services import user_for_token
from campaign.errors import ValidationFailed
from campaign.extensions import db
from campaign.timeline import services as timeline
from campaign.timeline.models import Campaign

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
