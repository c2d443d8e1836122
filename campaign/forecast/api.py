"""/api/v1 for the forecast: each unit's and the city's figures projected to the deadline."""

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, fields

from campaign.core import clock, permissions
from campaign.core.api import blueprint
from campaign.core.extensions import db
from campaign.forecast import services
from campaign.forecast.inputs import ForecastQuerySchema

blp = blueprint("forecast_api", "截止日预测")


class ProjectionSchema(Schema):
    today = fields.Float(allow_none=True, metadata={"description": "今天（基准日）的值，0–1"})
    projected = fields.Float(allow_none=True, metadata={"description": "预计截止日的值，0–1"})
    low = fields.Float(allow_none=True, metadata={"description": "区间下限，0–1"})
    high = fields.Float(allow_none=True, metadata={"description": "区间上限，0–1"})
    target = fields.Float(metadata={"description": "目标（%）"})
    at_risk = fields.Bool(metadata={"description": "预计低于目标"})
    part = fields.Int(metadata={"description": "分子（今天）"})
    whole = fields.Int(metadata={"description": "分母"})
    gain = fields.Int(metadata={"description": "预计到截止日新增"})
    room = fields.Int(metadata={"description": "最多还能新增（未建党组织的组织数或未销号事项数）"})
    pace = fields.Float(metadata={"description": "最近几周平均每周新增"})
    bounded = fields.Bool(metadata={"description": "预计受未销号事项数所限"})
    planned = fields.Int(
        metadata={"description": "计划在截止日前完成的未销号事项数（区间上限不低于此）"}
    )


class FiguresForecastSchema(Schema):
    party_org_coverage = fields.Nested(ProjectionSchema, metadata={"description": "党组织覆盖率"})
    required_coverage = fields.Nested(ProjectionSchema, metadata={"description": "应建尽建率"})


class UnitForecastSchema(Schema):
    unit = fields.Str(metadata={"description": "单位代码"})
    name = fields.Str()
    at_risk = fields.Bool()
    figures = fields.Nested(FiguresForecastSchema)


class ForecastSchema(Schema):
    as_of = fields.Date()
    deadline = fields.Date(metadata={"description": "集中组建截止日"})
    days_left = fields.Int()
    weeks = fields.Int(metadata={"description": "取平均进度的周数"})
    method = fields.Str(metadata={"description": "预测方法（一句话）"})
    overall = fields.Nested(
        FiguresForecastSchema,
        metadata={"description": "全市（单位用户为其可见单位之和）"},
    )
    units = fields.List(fields.Nested(UnitForecastSchema))


def _figures(projections: dict[str, services.Projection]) -> dict[str, Any]:
    return {name: p.as_dict() for name, p in projections.items()}


@blp.route("/campaigns/<int:campaign_id>/forecast")
class CampaignForecast(MethodView):
    @blp.arguments(ForecastQuerySchema, location="query")
    @blp.response(200, ForecastSchema)
    def get(self, query: dict, campaign_id: int) -> dict[str, Any]:
        """Each unit's 党组织覆盖率 and 应建尽建率 projected to the build deadline, over what
        the caller may read."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        as_of = query["as_of"]
        if as_of is not None and as_of > clock.today(campaign.timezone):
            abort(422, message="「预测基准日」不能晚于今天", errors={"as_of": ["不能晚于今天"]})
        result = services.forecast(
            db.session, campaign, permissions.visible_unit_ids(g.api_user), as_of
        )
        return {
            "as_of": result.as_of,
            "deadline": result.deadline,
            "days_left": result.days_left,
            "weeks": result.weeks,
            "method": result.method,
            "overall": _figures(result.city),
            "units": [
                {
                    "unit": u.unit.code,
                    "name": u.unit.name,
                    "at_risk": u.at_risk,
                    "figures": _figures(u.figures),
                }
                for u in result.units
            ],
        }
