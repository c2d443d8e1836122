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
from marshmallow import Schema, fields, validate
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import MultiDict

from campaign import rulesets, targets
from campaign.core import accounts, permissions, units
from campaign.core import campaigns as timeline
from campaign.core import commit as transaction
from campaign.core.account_inputs import NewUser, NewUserSchema, UserChanges, UserChangesSchema
from campaign.core.accounts import user_for_token
from campaign.core.extensions import db
from campaign.core.inputs import Choice
from campaign.core.models import Campaign, Phase, Unit, User
from campaign.core.paging import MAX_PAGE, PAGE_RANGE
from campaign.core.unit_inputs import NewUnit, NewUnitSchema, UnitChanges, UnitChangesSchema
from campaign.core.vocab import Role, UnitKind

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


blp = blueprint("core_api", "攻坚行动、阶段、单位、用户")


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
    target_work_coverage = fields.Decimal(as_string=True)
    template = fields.Str()
    masthead = fields.Str()
    bulletin_subject = fields.Str()
    document_prefix = fields.Str()
    addressees = fields.Str()
    bulletin_time = fields.Str()
    rules = fields.Function(
        lambda c: (c.rule_set or {}).get("preset", rulesets.DEFAULT_PRESET),
        metadata={"description": "规则预设（规则可在创建后修改）"},
    )
    phases = fields.List(fields.Nested(PhaseSchema))


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

    @blp.arguments(timeline.CampaignCreateSchema)
    @blp.response(201, CampaignSchema)
    def post(self, data: dict[str, Any]) -> Campaign:
        """Create a campaign from a template (``wuhan-2016``, ``seed-000``, ``blank``) for a
        year, with any of its own texts, report days and dates in place of the template's
        (coordinators and admins); all or nothing, every problem named by field."""
        permissions.ensure(permissions.may_create_campaign, g.api_user)
        values = {k: v for k, v in data.items() if k not in ("template", "year")}
        return commit(
            lambda: timeline.create_from_template(
                db.session, data["template"], data["year"], g.api_user, values
            )
        )


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


class RateTargetOutSchema(Schema):
    id = fields.Int()
    unit = fields.Str(allow_none=True, metadata={"description": "单位代码；全市为空"})
    unit_name = fields.Str()
    kind = fields.Str(metadata={"description": "all、enterprise 或 social"})
    rate = fields.Str(
        metadata={"description": "party_org_coverage、required_coverage 或 work_coverage"}
    )
    percent = fields.Str()
    reason = fields.Str()


@blp.route("/campaigns/<int:campaign_id>/settings/targets")
class CampaignTargets(MethodView):
    @blp.response(200, RateTargetOutSchema(many=True))
    def get(self, campaign_id: int) -> list[dict[str, Any]]:
        """The campaign's targets for one kind of organization or one unit (the city-wide
        ones are settings); a unit's own overrides the city's."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        return targets.listed(targets.load(db.session, campaign))

    @blp.arguments(targets.RateTargetSchema)
    @blp.response(200, RateTargetOutSchema(many=True))
    def put(self, data: dict[str, Any], campaign_id: int) -> list[dict[str, Any]]:
        """Set one target (coordinators and admins): the same unit, kind and rate again
        changes it; recorded. Answers every target."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        permissions.ensure(permissions.may_edit_campaign, g.api_user)
        commit(lambda: targets.set_target(db.session, campaign, data, g.api_user))
        return targets.listed(targets.load(db.session, campaign))


@blp.route("/campaigns/<int:campaign_id>/settings/targets/<int:target_id>")
class CampaignTarget(MethodView):
    @blp.response(204)
    def delete(self, campaign_id: int, target_id: int) -> None:
        """Remove one target (coordinators and admins): the unit or kind has the city's again;
        recorded."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        permissions.ensure(permissions.may_edit_campaign, g.api_user)
        commit(lambda: targets.remove_target(db.session, campaign, target_id, g.api_user))


@blp.route("/campaigns/<int:campaign_id>/phases")
class Phases(MethodView):
    @blp.response(200, PhaseSchema(many=True))
    def get(self, campaign_id: int) -> list[Phase]:
        """The campaign's phases in order."""
        return permissions.campaign_or_404(g.api_user, campaign_id).phases


class UnitRecordSchema(UnitSchema):
    """A unit as the units endpoints give it: with its order among its siblings and whether
    it is in use."""

    position = fields.Int(metadata={"description": "同一上级下的排序，从小到大"})
    active = fields.Bool(metadata={"description": "在用；false 为已撤销"})


class UnitQuerySchema(Schema):
    scope = fields.Str(
        load_default="responsible",
        validate=validate.OneOf(
            ["responsible", "all"], error="「scope」应为 responsible 或 all，而不是“{input}”"
        ),
        metadata={
            "description": "responsible：调用者可见的责任单位（默认）；"
            "all：全部单位（含街道、乡镇、园区和已撤销的），按树的顺序，仅限市级专班和系统管理员"
        },
    )


@blp.route("/units")
class Units(MethodView):
    @blp.arguments(UnitQuerySchema, location="query")
    @blp.response(200, UnitRecordSchema(many=True))
    def get(self, query: dict[str, Any]) -> list[Unit]:
        """The responsible units the caller may read; ``scope=all``: the whole tree
        (coordinators and admins)."""
        if query["scope"] == "all":
            permissions.ensure(permissions.may_manage_units, g.api_user)
            return [u for u, _ in units.tree(db.session)]
        return permissions.responsible_units(g.api_user)

    @blp.arguments(NewUnitSchema)
    @blp.response(201, UnitRecordSchema)
    def post(self, data: dict[str, Any]) -> Unit:
        """Add a unit under its parent (coordinators and admins); all or nothing, every
        problem named by field. A responsible unit gets its tasks in the running campaigns
        at once."""
        permissions.ensure(permissions.may_manage_units, g.api_user)
        new = NewUnit(**data)
        return commit(lambda: units.add_unit(db.session, new, g.api_user))


@blp.route("/units/<code>")
class UnitItem(MethodView):
    @blp.response(200, UnitRecordSchema)
    def get(self, code: str) -> Unit:
        """One unit (404 if the caller may not read it)."""
        return permissions.unit_or_404(g.api_user, code)

    @blp.arguments(UnitChangesSchema)
    @blp.response(200, UnitRecordSchema)
    def patch(self, data: dict[str, Any], code: str) -> Unit:
        """Rename, move (``parent``), reorder (``position``), make responsible or not, retire
        (``active``: false) or reactivate a unit (coordinators and admins). Its code and kind
        never change; it is never deleted."""
        found = permissions.unit_or_404(g.api_user, code)
        permissions.ensure(permissions.may_manage_units, g.api_user)
        changes = UnitChanges(**data)
        commit(lambda: units.update_unit(db.session, found, changes, g.api_user))
        return found


# ---- users (admins only) ----------------------------------------------------------------


class UserSchema(Schema):
    username = fields.Str()
    display_name = fields.Str()
    role = Choice(Role)
    unit = fields.Function(lambda u: u.unit.code if u.unit else None)
    phone = fields.Str()
    email = fields.Str()
    active = fields.Bool()
    must_change_password = fields.Bool(metadata={"description": "下次登录须修改密码"})
    last_login_at = fields.DateTime(metadata={"description": "最近登录时间；从未登录为 null"})
    created_at = fields.DateTime()


class IssuedSchema(Schema):
    user = fields.Nested(UserSchema)
    one_time_password = fields.Str(
        attribute="password",
        metadata={"description": "一次性密码：仅在此响应中出现一次；用户登录后须立即修改"},
    )


class UserQuerySchema(Schema):
    q = fields.Str(
        load_default="", metadata={"description": "用户名或姓名包含的文字", "maxLength": 80}
    )
    role = Choice(Role, "「角色」无效：{input}", optional=True, load_default=None)
    status = fields.Str(load_default="", metadata={"enum": ["", *accounts.USER_STATUSES]})
    page = fields.Integer(load_default=1, validate=validate.Range(1, MAX_PAGE, error=PAGE_RANGE))


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(UserQuerySchema, location="query")
    @blp.response(200, UserSchema(many=True))
    def get(self, query: dict[str, Any]) -> list[User]:
        """Users by username, 100 a page (admins only)."""
        permissions.ensure(permissions.may_administer_users, g.api_user)
        stmt = accounts.users_query(query["q"][:80].strip(), query["role"], query["status"])
        return list(db.session.scalars(stmt.limit(100).offset((query["page"] - 1) * 100)))

    @blp.arguments(NewUserSchema)
    @blp.response(201, IssuedSchema)
    def post(self, data: dict[str, Any]) -> accounts.Issued:
        """Create a user with a one-time password, returned once (admins only); he sets his
        own at his first login. All or nothing; every problem named by field."""
        permissions.ensure(permissions.may_administer_users, g.api_user)
        new = NewUser(**data)
        return commit(lambda: accounts.open_account(db.session, new, g.api_user))


@blp.route("/users/<username>")
class UserItem(MethodView):
    @blp.response(200, UserSchema)
    def get(self, username: str) -> User:
        """One user (admins only; 404 for anyone else)."""
        return permissions.user_or_404(g.api_user, username)

    @blp.arguments(UserChangesSchema)
    @blp.response(200, UserSchema)
    def patch(self, data: dict[str, Any], username: str) -> User:
        """Change a user's name, role, unit, phone, email, or disable (``active``: false: his
        sessions end and his tokens are revoked at once) or enable him (admins only)."""
        account = permissions.user_or_404(g.api_user, username)
        changes = UserChanges(**data)
        commit(lambda: accounts.update_user(db.session, account, changes, g.api_user))
        return account


@blp.route("/users/<username>/password-reset")
class UserPasswordReset(MethodView):
    @blp.response(200, IssuedSchema)
    def post(self, username: str) -> accounts.Issued:
        """Give the user a one-time password, returned once, and end his sessions; he must
        set his own at his next login. His API tokens stay (admins only)."""
        account = permissions.user_or_404(g.api_user, username)
        password = commit(lambda: accounts.reset_password(db.session, account, g.api_user))
        return accounts.Issued(account, password)
