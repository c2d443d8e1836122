"""The JSON API's common ground (/api/v1): each area's blueprint made here with bearer-token
authentication, the one commit path answering refusals in Chinese, and the endpoints of the
campaign itself (campaigns, settings, phases, units).

Every endpoint applies the same permissions as the pages; errors are JSON with a Chinese
``message`` (campaign.core.api_errors).
"""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from flask import Request, g, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import MultiDict

from campaign.core import campaigns as timeline
from campaign.core import commit as transaction
from campaign.core import permissions
from campaign.core.accounts import user_for_token
from campaign.core.extensions import db
from campaign.core.inputs import Choice
from campaign.core.models import Campaign, Phase, Unit
from campaign.core.vocab import UnitKind

T = TypeVar("T")


class Parser(FlaskParser):
    """webargs' parser, with one more location: ``multipart``, a form's fields and files
    read by one schema (documented as one multipart/form-data body, where a ``form`` and a
    ``files`` schema would document only one of them)."""

    __location_map__ = dict(FlaskParser.__location_map__, multipart="load_multipart")

    def load_multipart(self, req: Request, schema: Schema) -> Any:
        fields_and_files = MultiDict([*req.form.items(multi=True), *req.files.items(multi=True)])
        return self._makeproxy(fields_and_files, schema)


class AreaBlueprint(Blueprint):
    ARGUMENTS_PARSER = Parser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }


def blueprint(name: str, description: str) -> Blueprint:
    """An area's API blueprint under /api/v1, every request authenticated by bearer token."""
    blp = AreaBlueprint(name, __name__, url_prefix="/api/v1", description=description)
    blp.before_request(authenticate_bearer)
    return blp


def commit(action: Callable[[], T], status: int = 422) -> T:
    """Run a service call through the one commit path; a refusal answers its status (refused
    input ``status``) with the Chinese message and per-field ``errors``; nothing kept."""
    outcome = transaction.commit(action)
    if (refusal := outcome.refusal) is not None:
        code = status if refusal.status == 422 else refusal.status
        if refusal.status == 422:
            abort(code, message=refusal.message, errors=dict(refusal.problems))
        abort(code, message=refusal.message)
    return cast(T, outcome.result)  # no refusal (abort raised): what the action returned


def authenticate_bearer() -> None:
    """Every API request carries ``Authorization: Bearer <token>``; session cookies are ignored."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    user = user_for_token(db.session, token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        abort(401, message="缺少或无效的访问令牌（Authorization: Bearer …）")
    g.api_user = user


blp = blueprint("core_api", "攻坚行动、阶段、单位")


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


class UnitSchema(Schema):
    code = fields.Str()
    name = fields.Str()
    kind = Choice(UnitKind)
    parent = fields.Function(lambda u: u.parent.code if u.parent else None)
    is_responsible = fields.Bool()


@blp.route("/campaigns")
class Campaigns(MethodView):
    @blp.response(200, CampaignSchema(many=True))
    def get(self) -> Sequence[Campaign]:
        """Every campaign."""
        return db.session.scalars(db.select(Campaign).order_by(Campaign.id)).all()


@blp.route("/campaigns/<int:campaign_id>")
class CampaignItem(MethodView):
    @blp.response(200, CampaignSchema)
    def get(self, campaign_id: int) -> Campaign:
        """One campaign with its settings."""
        return permissions.campaign_or_404(g.api_user, campaign_id)


@blp.route("/campaigns/<int:campaign_id>/settings")
class CampaignSettings(MethodView):
    @blp.arguments(timeline.SettingsSchema)
    @blp.response(200, CampaignSchema)
    def patch(self, data: dict[str, Any], campaign_id: int) -> Campaign:
        """Change settings (coordinators and admins); all or nothing, messages in Chinese."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        permissions.ensure(permissions.may_edit_campaign, g.api_user)
        commit(lambda: timeline.update_settings(db.session, campaign, data, g.api_user))
        return campaign


@blp.route("/campaigns/<int:campaign_id>/phases")
class Phases(MethodView):
    @blp.response(200, PhaseSchema(many=True))
    def get(self, campaign_id: int) -> list[Phase]:
        """The campaign's phases in order."""
        return permissions.campaign_or_404(g.api_user, campaign_id).phases


@blp.route("/units")
class Units(MethodView):
    @blp.response(200, UnitSchema(many=True))
    def get(self) -> list[Unit]:
        """The responsible units the caller may read."""
        return permissions.responsible_units(g.api_user)


@blp.route("/units/<code>")
class UnitItem(MethodView):
    @blp.response(200, UnitSchema)
    def get(self, code: str) -> Unit:
        """One unit (404 if the caller may not read it)."""
        return permissions.unit_or_404(g.api_user, code)
