"""/api/v1 for the data-quality signals: the open ones with their codes, units and rows, and
a coordinator's judgement. As on the page, only coordinators and admins: 404 for anyone else."""

from typing import Any

from flask import g
from flask.views import MethodView
from marshmallow import Schema, fields

from campaign.core import permissions
from campaign.core.api import blueprint, commit
from campaign.core.extensions import db
from campaign.core.inputs import Choice
from campaign.core.models import Campaign
from campaign.quality import services
from campaign.quality.models import QualitySignal, SignalCode, SignalStatus

blp = blueprint("quality_api", "数据质量线索")


class SignalRowSchema(Schema):
    organization_id = fields.Int()
    name = fields.Str(metadata={"description": "组织名称"})
    credit_code = fields.Str(metadata={"description": "统一社会信用代码"})
    closure_id = fields.Int(
        load_default=None, metadata={"description": "涉及的销号（与销号有关的线索）"}
    )
    detail = fields.Str(metadata={"description": "该组织的情况，如“正式党员1→3（2026-09-25）”"})


class SignalSchema(Schema):
    id = fields.Int()
    code = Choice(SignalCode, metadata={"description": "线索代码（稳定，不随版本变化）"})
    title = fields.Str(attribute="code_label", metadata={"description": "线索名称"})
    unit = fields.Function(lambda s: s.unit.code, metadata={"description": "单位代码"})
    unit_name = fields.Function(lambda s: s.unit.name)
    key = fields.Str(metadata={"description": "线索对象：文件哈希、报送日、核验人、姓名等"})
    reason = fields.Str(metadata={"description": "为什么是线索（中文说明）"})
    total = fields.Int(metadata={"description": "涉及的组织（或销号）数"})
    rows = fields.List(
        fields.Nested(SignalRowSchema), metadata={"description": "涉及的组织，最多200个"}
    )
    status = Choice(SignalStatus)
    note = fields.Str(metadata={"description": "核实说明"})
    detected_at = fields.DateTime()
    reviewed_at = fields.DateTime(allow_none=True)


class SignalQuerySchema(Schema):
    unit = fields.Str(load_default="", metadata={"description": "只看这个单位（单位代码）"})
    code = Choice(SignalCode, "「线索代码」无效：{input}", optional=True, load_default=None)


class JudgementSchema(Schema):
    status = Choice(SignalStatus, "「核实结果」无效：{input}", required=True)
    note = fields.Str(load_default="", metadata={"description": "核实说明；标记核实结果时必填"})


def _campaign(campaign_id: int) -> Campaign:
    campaign = permissions.campaign_or_404(g.api_user, campaign_id)
    permissions.require(services.may_see_signals(g.api_user))
    return campaign


@blp.route("/campaigns/<int:campaign_id>/signals")
class Signals(MethodView):
    @blp.arguments(SignalQuerySchema, location="query")
    @blp.response(200, SignalSchema(many=True))
    def get(self, query: dict[str, Any], campaign_id: int) -> list[QualitySignal]:
        """The open signals (待核实, found by the last detection) with their codes, units and
        rows; coordinators and admins only (404 for anyone else)."""
        campaign = _campaign(campaign_id)
        unit_ids = None
        if query["unit"]:
            unit_ids = [permissions.unit_or_404(g.api_user, query["unit"]).id]
        return services.list_signals(
            db.session, campaign, unit_ids, code=query["code"], status=SignalStatus.OPEN
        )


@blp.route("/campaigns/<int:campaign_id>/signals/<int:signal_id>")
class SignalItem(MethodView):
    @blp.arguments(JudgementSchema)
    @blp.response(200, SignalSchema)
    def patch(self, data: dict[str, Any], campaign_id: int, signal_id: int) -> QualitySignal:
        """Mark a signal 已核实无误 (checked_ok) or 需整改 (needs_fix) with a note, or open
        again; recorded with who, when, before and after."""
        campaign = _campaign(campaign_id)
        signal = db.session.get(QualitySignal, signal_id)
        permissions.require(signal is not None and signal.campaign_id == campaign.id)
        assert signal is not None  # required above
        commit(
            lambda: services.review(db.session, signal, data["status"], data["note"], g.api_user)
        )
        return signal
