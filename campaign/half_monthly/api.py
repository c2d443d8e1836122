"""/api/v1 for half-monthly reports (半月报): who reported, filing, returning."""

from datetime import date
from pathlib import Path

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, fields

from campaign.core import clock, permissions
from campaign.core.api import blueprint, commit
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.inputs import Choice, documented
from campaign.core.models import Unit
from campaign.half_monthly import inputs
from campaign.half_monthly import services as half_monthly
from campaign.half_monthly.inputs import ReportText
from campaign.half_monthly.models import ReportState, ReportStatus, UnitReport

blp = blueprint("half_monthly_api", "半月报")


# ---- half-monthly reports ---------------------------------------------------------------


class ReportSchema(Schema):
    id = fields.Int()
    unit = fields.Function(lambda r: r.unit.code)
    due_on = fields.Date()
    version = fields.Int()
    status = Choice(ReportStatus)
    is_late = fields.Bool()
    submitted_at = fields.DateTime()
    figures = fields.Dict()
    progress = fields.Str()
    problems = fields.Str()
    next_steps = fields.Str()
    return_comment = fields.Str()


class ReportStateSchema(Schema):
    unit = fields.Function(lambda row: row[0].code)
    state = fields.Function(
        lambda row: row[2],
        metadata=documented(ReportState),
    )
    report = fields.Function(lambda row: ReportSchema().dump(row[1]) if row[1] else None)


@blp.route("/campaigns/<int:campaign_id>/reports")
class Reports(MethodView):
    @blp.arguments(inputs.ReportQuerySchema, location="query")
    @blp.response(200, ReportStateSchema(many=True))
    def get(
        self, query: dict, campaign_id: int
    ) -> list[tuple[Unit, UnitReport | None, ReportState]]:
        """Who has reported for the period due on ``due``: on time, late, returned, missing."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        try:
            period = half_monthly.period_for(campaign, query["due"])
        except ValidationFailed as e:
            abort(404, message=str(e))
        return half_monthly.period_overview(
            db.session,
            campaign,
            period.due_on,
            permissions.visible_unit_ids(g.api_user),
            clock.now(campaign.timezone),
        )


@blp.route("/campaigns/<int:campaign_id>/units/<code>/reports/<due>")
class UnitReports(MethodView):
    @blp.arguments(inputs.ReportInputSchema)
    @blp.response(201, ReportSchema)
    def post(self, data: dict, campaign_id: int, code: str, due: str) -> UnitReport:
        """File the unit's report (a new version if one exists); figures are frozen now."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        unit = permissions.unit_or_404(g.api_user, code)
        permissions.ensure(permissions.may_deliver, g.api_user, unit)
        try:
            due_on = date.fromisoformat(due)
        except ValueError:
            abort(404)
        storage = Path(current_app.config["STORAGE_PATH"])
        report = commit(
            lambda: half_monthly.submit_report(
                db.session, campaign, unit, due_on, ReportText(**data), None, g.api_user, storage
            )
        )
        return report


@blp.route("/campaigns/<int:campaign_id>/reports/<int:report_id>/return")
class ReportReturn(MethodView):
    @blp.arguments(inputs.CommentSchema)
    @blp.response(200, ReportSchema)
    def post(self, data: dict, campaign_id: int, report_id: int) -> UnitReport:
        """Return a report with comments (coordinators)."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        report = permissions.unit_record_or_404(g.api_user, UnitReport, report_id, campaign.id)
        permissions.ensure(permissions.may_edit_campaign, g.api_user)
        commit(lambda: half_monthly.return_report(db.session, report, data["comment"], g.api_user))
        return report
