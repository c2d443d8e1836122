"""/api/v1 for the board: items, plans, 销号 closures and spot checks."""

from pathlib import Path

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import abort
from flask_smorest.fields import Upload
from marshmallow import Schema, fields
from sqlalchemy import select

from campaign.board import services as board
from campaign.board.inputs import (
    ClosureClaim,
    ClosureSchema,
    DrawSchema,
    ItemQuerySchema,
    Plan,
    PlanSchema,
    ReasonSchema,
    ResultSchema,
)
from campaign.board.models import (
    ANY_OPEN,
    BoardItem,
    CheckKind,
    CheckResult,
    ItemState,
    SizeMode,
    SpotCheck,
)
from campaign.core import permissions
from campaign.core.api import blueprint, commit
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.inputs import Choice
from campaign.core.models import Unit
from campaign.core.vocab import Path as RulePath
from campaign.core.vocab import Target

blp = blueprint("board_api", "挂图作战与销号")


# ---- 挂图作战 and 销号 -------------------------------------------------------------------


class ItemSchema(Schema):
    id = fields.Int()
    unit = fields.Function(lambda i: i.unit.code)
    organization = fields.Function(
        lambda i: {
            "id": i.organization.id,
            "name": i.organization.name,
            "credit_code": i.organization.credit_code,
        }
    )
    target = Choice(Target)
    state = Choice(ItemState)
    path = Choice(RulePath)
    joint_form = fields.Str()
    measures = fields.Str()
    planned_on = fields.Date(allow_none=True)
    responsible_person = fields.Str()
    last_reason = fields.Str()
    work_coverage_only = fields.Bool()
    version = fields.Int()


class FindingSchema(Schema):
    """A drawn closure and the checker's finding on it."""

    id = fields.Int()
    closure = fields.Int(attribute="closure_id")
    item = fields.Function(lambda r: r.closure.item_id)
    result = Choice(CheckResult)
    notes = fields.Str()


class SpotCheckSchema(Schema):
    id = fields.Int()
    kind = Choice(CheckKind)
    seed = fields.Int()
    size_mode = Choice(SizeMode)
    size_value = fields.Int()
    drawn = fields.List(fields.Int(), attribute="drawn_ids")
    results = fields.List(fields.Nested(FindingSchema))
    team = fields.Function(
        lambda c: _team_codes(c.team_unit_ids or []),
        metadata={"description": "检查组成员：核查部门的单位代码"},
    )


class DrawRequestSchema(DrawSchema):
    """A draw as the API takes it: the page's fields, the team by unit codes."""

    team = fields.List(
        fields.String(),
        load_default=list,
        metadata={
            "description": "检查组成员：有核查职责的在用市直部门的单位代码（统战、工商等）；"
            "不是核查部门的单位 422"
        },
    )


def _team_codes(unit_ids: list[int]) -> list[str]:
    """The team's departments by unit code, in the order drawn."""
    found = db.session.execute(select(Unit.id, Unit.code).where(Unit.id.in_(unit_ids)))
    codes: dict[int, str] = {unit_id: code for unit_id, code in found}
    return [codes[i] for i in unit_ids if i in codes]


def _team_ids(codes: list[str]) -> list[int]:
    """The team's departments by id; an unknown code is refused (422) naming it. Whether each
    is an active verifying department is the service's check, as for the page."""
    found = db.session.execute(select(Unit.code, Unit.id).where(Unit.code.in_(codes)))
    ids: dict[str, int] = {code: unit_id for code, unit_id in found}
    unknown = [c for c in dict.fromkeys(codes) if c not in ids]
    if unknown:
        raise ValidationFailed(
            [("team", f"「检查组成员」没有单位代码为{'、'.join(unknown)}的单位")]
        )
    return [ids[c] for c in codes]


class ClosureUploadSchema(ClosureSchema):
    """A 销号 claim as the API takes it: one multipart form with the approving document."""

    document = Upload(load_default=None, metadata={"description": "批复文件（PDF或图片）"})


def _board_item(campaign_id: int, item_id: int) -> BoardItem:
    return permissions.unit_record_or_404(g.api_user, BoardItem, item_id, campaign_id)


@blp.route("/campaigns/<int:campaign_id>/items")
class Items(MethodView):
    @blp.arguments(ItemQuerySchema, location="query")
    @blp.response(200, ItemSchema(many=True))
    def get(self, query: dict, campaign_id: int) -> list[BoardItem]:
        """A unit's board items (30 a page), filtered as on the page."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        unit = permissions.unit_or_404(g.api_user, query["unit"])
        state = query["state"] if query["state"] == ANY_OPEN else ItemState(query["state"])
        return board.list_items(db.session, campaign, unit.id, query, state, query["page"])


@blp.route("/campaigns/<int:campaign_id>/items/<int:item_id>/plan")
class ItemPlan(MethodView):
    @blp.arguments(PlanSchema)
    @blp.response(200, ItemSchema)
    def patch(self, data: dict, campaign_id: int, item_id: int) -> BoardItem:
        """Change the item's plan (the unit's operators)."""
        item = _board_item(campaign_id, item_id)
        permissions.ensure(permissions.may_work_items, g.api_user, item.unit)
        plan = Plan.of(item, **data)  # what is left out stays as it is
        commit(lambda: board.update_plan(db.session, item, plan, g.api_user))
        return item


@blp.route("/campaigns/<int:campaign_id>/items/<int:item_id>/closures")
class ItemClosures(MethodView):
    @blp.arguments(ClosureUploadSchema, location="multipart")
    @blp.response(201, ItemSchema)
    def post(self, form: dict, campaign_id: int, item_id: int) -> BoardItem:
        """Submit a 销号 with its approving document (PDF or image)."""
        item = _board_item(campaign_id, item_id)
        permissions.ensure(permissions.may_work_items, g.api_user, item.unit)
        upload = form.pop("document")
        document = (upload.filename, upload.read()) if upload else None
        storage = Path(current_app.config["STORAGE_PATH"])
        claimed = ClosureClaim(**form)
        commit(
            lambda: board.submit_closure(db.session, item, claimed, document, g.api_user, storage)
        )
        return item


@blp.route("/campaigns/<int:campaign_id>/items/<int:item_id>/<any(verify, return):decision>")
class ItemDecision(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, ItemSchema)
    def post(self, data: dict, campaign_id: int, item_id: int, decision: str) -> BoardItem:
        """Verify or return the pending closure (the unit's leaders)."""
        item = _board_item(campaign_id, item_id)
        permissions.ensure(permissions.may_verify_closures, g.api_user, item.unit)
        if decision == "verify":
            commit(lambda: board.verify_closure(db.session, item, g.api_user))
        else:
            commit(lambda: board.return_closure(db.session, item, data["reason"], g.api_user))
        return item


@blp.route("/campaigns/<int:campaign_id>/spot-checks")
class SpotChecks(MethodView):
    @blp.arguments(DrawRequestSchema)
    @blp.response(201, SpotCheckSchema)
    def post(self, data: dict, campaign_id: int) -> SpotCheck:
        """Draw verified closures at random (recorded seed), or a look-back batch, with the
        verifying departments named on its team (``team``: unit codes, 422 for one that is
        not an active verifying department, as on the page)."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        permissions.require(permissions.sees_city(g.api_user))  # checks span every unit
        permissions.ensure(permissions.may_spot_check, g.api_user)
        unit_ids = [permissions.unit_or_404(g.api_user, code).id for code in data["units"]] or None
        return commit(
            lambda: board.draw(
                db.session,
                campaign,
                unit_ids,
                data["mode"],
                data["size"],
                g.api_user,
                seed=data["seed"],
                kind=data["kind"],
                note=data["note"],
                team_unit_ids=_team_ids(data["team"]),
            )
        )


@blp.route("/campaigns/<int:campaign_id>/spot-checks/<int:check_id>/results/<int:result_id>")
class SpotCheckResults(MethodView):
    @blp.arguments(ResultSchema)
    @blp.response(200, SpotCheckSchema)
    def post(self, data: dict, campaign_id: int, check_id: int, result_id: int) -> SpotCheck:
        """Record a checker's finding; a failure reopens the item."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        permissions.require(permissions.sees_city(g.api_user))  # checks span every unit
        check = db.session.get(SpotCheck, check_id)
        if check is None or check.campaign_id != campaign.id:
            abort(404)
        assert check is not None  # flask-smorest's abort raised otherwise (it is untyped)
        result = next((r for r in check.results if r.id == result_id), None) or abort(404)
        permissions.ensure(permissions.may_spot_check, g.api_user)
        commit(
            lambda: board.record_result(
                db.session, result, data["passed"], data["checklist"], data["notes"], g.api_user
            )
        )
        return check
