"""API endpoints: campaigns, phases, units and figures."""

import io
import json
from datetime import date
from pathlib import Path

from flask import current_app, g, request, send_file
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from campaign import figures
from campaign.board import services as board
from campaign.board.models import BoardItem, SpotCheck
from campaign.core import campaigns as timeline
from campaign.core import clock, permissions
from campaign.core import commit as transaction
from campaign.core.accounts import user_for_token
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.models import Campaign
from campaign.core.paging import MAX_PAGE, PAGE_RANGE
from campaign.half_monthly import services as half_monthly
from campaign.half_monthly.models import UnitReport
from campaign.ledger import importing
from campaign.ledger import services as ledger_services
from campaign.timeline import tasks
from campaign.timeline.models import Task

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
blp = Blueprint("api", __name__, url_prefix="/api/v1", description="攻坚 API v1")


def commit(action, status: int = 422):
    """Run a service call through the one commit path; a refusal answers its status (refused
    input ``status``) with the Chinese message and per-field ``errors``; nothing kept."""
    outcome = transaction.commit(action)
    if (refusal := outcome.refusal) is not None:
        code = status if refusal.status == 422 else refusal.status
        if refusal.status == 422:
            abort(code, message=refusal.message, errors=dict(refusal.problems))
        abort(code, message=refusal.message)
    return outcome.result


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
        permissions.ensure(permissions.may_edit_campaign, g.api_user)
        raw = {k: str(v) for k, v in data.items()}
        commit(lambda: timeline.update_settings(db.session, campaign, raw, g.api_user))
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
    def get(self, query: dict, code: str):
        """Export the unit's ledger as xlsx."""
        campaign = _ledger_campaign(query["campaign_id"])
        unit = permissions.unit_or_404(g.api_user, code)
        data, _ = ledger_services.export_workbook(db.session, campaign, [unit.id])
        return send_file(
            io.BytesIO(data),
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
                errors={"file": json.loads(batch.problems)},
            )
        finish = importing.discard_import if query["dry_run"] else importing.apply_import
        commit(lambda: finish(db.session, batch, g.api_user), status=409)
        return {
            "batch_id": batch.id,
            "status": batch.status,
            "summary": json.loads(batch.summary),
            "notices": json.loads(batch.notices),
        }


# ---- phase tasks ----------------------------------------------------------------------


class TaskSchema(Schema):
    id = fields.Int()
    unit = fields.Function(lambda c: c.task.unit.code)
    deliverable = fields.Function(lambda c: c.task.deliverable.name)
    phase = fields.Function(lambda c: c.task.deliverable.phase.name)
    due_on = fields.Function(lambda c: c.task.due_on.isoformat())
    status = fields.Function(
        lambda c: c.task.status, metadata={"description": "open|submitted|accepted|returned"}
    )
    state = fields.Function(
        lambda c: c.state.value,
        metadata={"description": "not_started|in_progress|done_on_time|done_late|overdue"},
    )
    label = fields.Function(lambda c: c.label)


class TaskQuerySchema(Schema):
    unit = fields.Str(load_default=None)


class TaskSubmissionSchema(Schema):
    note = fields.Str(load_default="")


class TaskFileSchema(Schema):
    file = Upload(load_default=None)


class ReviewSchema(Schema):
    accept = fields.Bool(required=True)
    comment = fields.Str(load_default="")


def _cell(task) -> tasks.Cell:
    campaign = db.session.get(Campaign, task.deliverable.campaign_id)
    return tasks.Cell(task, tasks.state_of(task, clock.now(campaign.timezone), campaign.timezone))


@blp.route("/campaigns/<int:campaign_id>/tasks")
class Tasks(MethodView):
    @blp.arguments(TaskQuerySchema, location="query")
    @blp.response(200, TaskSchema(many=True))
    def get(self, query: dict, campaign_id: int):
        """Every task the caller may read, with its state (未开始/进行中/按时完成/逾期完成/已逾期)."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        unit_ids = permissions.visible_unit_ids(g.api_user)
        if query["unit"]:
            unit_ids = [permissions.unit_or_404(g.api_user, query["unit"]).id]
        _, rows = tasks.matrix(db.session, campaign, unit_ids, clock.now(campaign.timezone))
        return [_IdCell(cell) for _, cells in rows for cell in cells.values()]


class _IdCell:
    """A matrix cell with the task's id on top, for the schema."""

    def __init__(self, cell: tasks.Cell):
        self.task, self.state, self.label, self.id = cell.task, cell.state, cell.label, cell.task.id


@blp.route("/campaigns/<int:campaign_id>/tasks/<int:task_id>/submissions")
class TaskSubmissions(MethodView):
    @blp.arguments(TaskSubmissionSchema, location="form")
    @blp.arguments(TaskFileSchema, location="files")
    @blp.response(201, TaskSchema)
    def post(self, form: dict, files: dict, campaign_id: int, task_id: int):
        """Deliver a task (a file and a note) for the caller's own unit."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        task = permissions.unit_record_or_404(g.api_user, Task, task_id, campaign.id)
        permissions.ensure(permissions.may_deliver, g.api_user, task.unit)
        upload = files.get("file")
        file = (upload.filename, upload.read()) if upload else None
        storage = Path(current_app.config["STORAGE_PATH"])
        commit(lambda: tasks.submit_task(db.session, task, form["note"], file, g.api_user, storage))
        return _IdCell(_cell(task))


@blp.route("/campaigns/<int:campaign_id>/tasks/<int:task_id>/review")
class TaskReview(MethodView):
    @blp.arguments(ReviewSchema)
    @blp.response(200, TaskSchema)
    def post(self, data: dict, campaign_id: int, task_id: int):
        """Accept or return the pending delivery (coordinators)."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        task = permissions.unit_record_or_404(g.api_user, Task, task_id, campaign.id)
        permissions.ensure(permissions.may_edit_campaign, g.api_user)
        commit(
            lambda: tasks.review_task(db.session, task, data["accept"], data["comment"], g.api_user)
        )
        return _IdCell(_cell(task))


# ---- half-monthly reports ---------------------------------------------------------------


class ReportSchema(Schema):
    id = fields.Int()
    unit = fields.Function(lambda r: r.unit.code)
    due_on = fields.Date()
    version = fields.Int()
    status = fields.Str()
    is_late = fields.Bool()
    submitted_at = fields.DateTime()
    figures = fields.Function(lambda r: json.loads(r.figures))
    progress = fields.Str()
    problems = fields.Str()
    next_steps = fields.Str()
    return_comment = fields.Str()


class ReportStateSchema(Schema):
    unit = fields.Function(lambda row: row[0].code)
    state = fields.Function(
        lambda row: row[2], metadata={"description": "on_time|late|returned|missing|waiting"}
    )
    report = fields.Function(lambda row: ReportSchema().dump(row[1]) if row[1] else None)


class ReportQuerySchema(Schema):
    due = fields.Date(required=True, metadata={"description": "报送日，如 2026-11-10"})


class ReportInputSchema(Schema):
    progress = fields.Str(required=True)
    problems = fields.Str(load_default="")
    next_steps = fields.Str(load_default="")


class CommentSchema(Schema):
    comment = fields.Str(required=True)


@blp.route("/campaigns/<int:campaign_id>/reports")
class Reports(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, ReportStateSchema(many=True))
    def get(self, query: dict, campaign_id: int):
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
    @blp.arguments(ReportInputSchema)
    @blp.response(201, ReportSchema)
    def post(self, data: dict, campaign_id: int, code: str, due: str):
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
                db.session, campaign, unit, due_on, data, None, g.api_user, storage
            )
        )
        return report


@blp.route("/campaigns/<int:campaign_id>/reports/<int:report_id>/return")
class ReportReturn(MethodView):
    @blp.arguments(CommentSchema)
    @blp.response(200, ReportSchema)
    def post(self, data: dict, campaign_id: int, report_id: int):
        """Return a report with comments (coordinators)."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        report = permissions.unit_record_or_404(g.api_user, UnitReport, report_id, campaign.id)
        permissions.ensure(permissions.may_edit_campaign, g.api_user)
        commit(lambda: half_monthly.return_report(db.session, report, data["comment"], g.api_user))
        return report


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
    target = fields.Str()
    state = fields.Str(metadata={"description": "todo|in_progress|awaiting|closed|reopened"})
    path = fields.Str()
    joint_form = fields.Str()
    measures = fields.Str()
    planned_on = fields.Date(allow_none=True)
    responsible_person = fields.Str()
    last_reason = fields.Str()
    work_coverage_only = fields.Bool()
    version = fields.Int()


class ItemQuerySchema(Schema):
    unit = fields.Str(required=True)
    state = fields.Str(
        load_default="open",
        metadata={"description": "open|todo|in_progress|reopened|awaiting|closed"},
    )
    q = fields.Str(load_default="")
    kind = fields.Str(load_default="")
    path = fields.Str(load_default="")
    person = fields.Str(load_default="")
    overdue = fields.Str(load_default="")
    page = fields.Int(load_default=1, validate=validate.Range(1, MAX_PAGE, error=PAGE_RANGE))


class PlanSchema(Schema):
    path = fields.Str()
    joint_form = fields.Str()
    measures = fields.Str()
    planned_on = fields.Str()
    responsible_person = fields.Str()


class ClosureFormSchema(Schema):
    method = fields.Str(required=True)
    joint_form = fields.Str(load_default="")
    party_org_name = fields.Str(load_default="")
    established_on = fields.Str(load_default="")
    formal_members = fields.Str(load_default="0")
    secretary = fields.Str(load_default="")
    instructor = fields.Str(load_default="")
    mass_organizations = fields.Str(load_default="")
    covered_codes = fields.Str(load_default="")


class DocumentSchema(Schema):
    document = Upload(load_default=None)


class ReasonSchema(Schema):
    reason = fields.Str(load_default="")


class DrawSchema(Schema):
    mode = fields.Str(load_default="count")
    size = fields.Int(required=True)
    seed = fields.Int(load_default=None)
    units = fields.List(fields.Str(), load_default=list)
    kind = fields.Str(load_default="spot_check")
    note = fields.Str(load_default="")


class SpotCheckSchema(Schema):
    id = fields.Int()
    kind = fields.Str()
    seed = fields.Int()
    size_mode = fields.Str()
    size_value = fields.Int()
    drawn = fields.Function(lambda c: json.loads(c.drawn_ids))
    results = fields.Function(
        lambda c: [
            {
                "id": r.id,
                "closure": r.closure_id,
                "item": r.closure.item_id,
                "result": r.result,
                "notes": r.notes,
            }
            for r in c.results
        ]
    )


class ResultSchema(Schema):
    passed = fields.Bool(required=True)
    notes = fields.Str(load_default="")
    checklist = fields.Dict(load_default=dict)


def _board_item(campaign_id: int, item_id: int) -> BoardItem:
    return permissions.unit_record_or_404(g.api_user, BoardItem, item_id, campaign_id)


@blp.route("/campaigns/<int:campaign_id>/items")
class Items(MethodView):
    @blp.arguments(ItemQuerySchema, location="query")
    @blp.response(200, ItemSchema(many=True))
    def get(self, query: dict, campaign_id: int):
        """A unit's board items (30 a page), filtered as on the page."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        unit = permissions.unit_or_404(g.api_user, query["unit"])
        return board.list_items(db.session, campaign, unit.id, query, query["state"], query["page"])


@blp.route("/campaigns/<int:campaign_id>/items/<int:item_id>/plan")
class ItemPlan(MethodView):
    @blp.arguments(PlanSchema)
    @blp.response(200, ItemSchema)
    def patch(self, data: dict, campaign_id: int, item_id: int):
        """Change the item's plan (the unit's operators)."""
        item = _board_item(campaign_id, item_id)
        permissions.ensure(permissions.may_work_items, g.api_user, item.unit)
        raw = {
            **{
                f: getattr(item, f) or ""
                for f in ("path", "joint_form", "measures", "responsible_person")
            },
            "planned_on": item.planned_on.isoformat() if item.planned_on else "",
            **data,
        }
        commit(lambda: board.update_plan(db.session, item, raw, g.api_user))
        return item


@blp.route("/campaigns/<int:campaign_id>/items/<int:item_id>/closures")
class ItemClosures(MethodView):
    @blp.arguments(ClosureFormSchema, location="form")
    @blp.arguments(DocumentSchema, location="files")
    @blp.response(201, ItemSchema)
    def post(self, form: dict, files: dict, campaign_id: int, item_id: int):
        """Submit a 销号 with its approving document (PDF or image)."""
        item = _board_item(campaign_id, item_id)
        permissions.ensure(permissions.may_work_items, g.api_user, item.unit)
        upload = files.get("document")
        document = (upload.filename, upload.read()) if upload else None
        storage = Path(current_app.config["STORAGE_PATH"])
        commit(lambda: board.submit_closure(db.session, item, form, document, g.api_user, storage))
        return item


@blp.route("/campaigns/<int:campaign_id>/items/<int:item_id>/<any(verify, return):decision>")
class ItemDecision(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, ItemSchema)
    def post(self, data: dict, campaign_id: int, item_id: int, decision: str):
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
    @blp.arguments(DrawSchema)
    @blp.response(201, SpotCheckSchema)
    def post(self, data: dict, campaign_id: int):
        """Draw verified closures at random (recorded seed), or a look-back batch."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        permissions.require(permissions.sees_city(g.api_user))  # checks span every unit
        permissions.ensure(permissions.may_spot_check, g.api_user)
        unit_ids = [permissions.unit_or_404(g.api_user, code).id for code in data["units"]] or None
        kind = "lookback" if data["kind"] == "lookback" else "spot_check"
        return commit(
            lambda: board.draw(
                db.session,
                campaign,
                unit_ids,
                data["mode"],
                data["size"],
                g.api_user,
                seed=data["seed"],
                kind=kind,
                note=data["note"],
            )
        )


@blp.route("/campaigns/<int:campaign_id>/spot-checks/<int:check_id>/results/<int:result_id>")
class SpotCheckResults(MethodView):
    @blp.arguments(ResultSchema)
    @blp.response(200, SpotCheckSchema)
    def post(self, data: dict, campaign_id: int, check_id: int, result_id: int):
        """Record a checker's finding; a failure reopens the item."""
        campaign = permissions.campaign_or_404(g.api_user, campaign_id)
        permissions.require(permissions.sees_city(g.api_user))  # checks span every unit
        check = db.session.get(SpotCheck, check_id)
        if check is None or check.campaign_id != campaign.id:
            abort(404)
        result = next((r for r in check.results if r.id == result_id), None) or abort(404)
        permissions.ensure(permissions.may_spot_check, g.api_user)
        commit(
            lambda: board.record_result(
                db.session, result, data["passed"], data["checklist"], data["notes"], g.api_user
            )
        )
        return check
