"""协调事项 pages: a unit raises an issue with the city; the working group answers or assigns it."""

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from campaign.board import coordination
from campaign.board.coordination import Raised
from campaign.board.models import BoardItem, CoordinationIssue, IssueKind
from campaign.core import permissions
from campaign.core.extensions import db
from campaign.core.models import Unit, User
from campaign.core.vocab import Role
from campaign.core.webforms import perform

bp = Blueprint("coordination", __name__, url_prefix="/campaigns/<int:campaign_id>/coordination")


@permissions.because("只有本单位的填报员和负责人可以提出协调事项")
def may_raise(user: User, unit: Unit) -> bool:
    """A responsible unit's operators and leader raise its issues with the city."""
    return (
        unit.is_responsible
        and user.role in (Role.OPERATOR, Role.LEADER)
        and user.unit_id == unit.id
    )


@bp.get("")
@login_required
def index(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    unit_ids = permissions.visible_unit_ids(current_user)
    unit = current_user.unit if unit_ids is not None else None
    return render_template(
        "board/coordination.html",
        campaign=campaign,
        open_issues=coordination.open_issues(db.session, campaign, unit_ids),
        answered=coordination.answered_issues(db.session, campaign, unit_ids),
        may_raise=unit is not None and may_raise(current_user, unit),
        sees_city=permissions.sees_city(current_user),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    unit = current_user.unit
    permissions.require(unit is not None and not permissions.sees_city(current_user))
    permissions.ensure(may_raise, current_user, unit)
    raised = Raised.from_form(request.form if request.method == "POST" else request.args)
    item = None
    if raised.item_id is not None:
        # An item of another unit is not there for this user.
        item = permissions.unit_record_or_404(current_user, BoardItem, raised.item_id, campaign.id)
    if request.method == "POST":
        done: dict = {}

        def act():
            done["issue"] = coordination.raise_issue(
                db.session, campaign, unit, raised, current_user
            )

        if perform(act, "已提交协调事项，市级专班处理后会在首页答复。"):
            return redirect(url_for(".issue", campaign_id=campaign.id, issue_id=done["issue"].id))
    return render_template(
        "board/coordination_new.html",
        campaign=campaign,
        unit=unit,
        item=item,
        raised=raised,
        kinds=list(IssueKind),
        form=FlaskForm(),
    )


@bp.route("/<int:issue_id>", methods=["GET", "POST"])
@login_required
def issue(campaign_id: int, issue_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    found = permissions.unit_record_or_404(current_user, CoordinationIssue, issue_id, campaign.id)
    if request.method == "POST":
        permissions.ensure(permissions.may_edit_campaign, current_user)
        action = request.form.get("action", "")
        if action == "answer":
            perform(
                lambda: coordination.answer_issue(
                    db.session, found, request.form.get("answer", ""), current_user
                ),
                "已答复，该单位首页可见。",
            )
        elif action == "assign":
            raw = request.form.get("assignee", "")
            perform(
                lambda: coordination.assign_issue(
                    db.session, found, int(raw) if raw.isdigit() else None, current_user
                ),
                "已交办。",
            )
        else:
            abort(400)  # no such action
        return redirect(url_for(".issue", campaign_id=campaign.id, issue_id=found.id))
    return render_template(
        "board/coordination_issue.html",
        campaign=campaign,
        issue=found,
        form=FlaskForm(),
        may_answer=permissions.may_edit_campaign(current_user),
        assignees=coordination.assignees(db.session),
    )
