"""The 催办 button: a coordinator urges a late unit from his home."""

from flask import Blueprint, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from campaign.core import permissions
from campaign.core.extensions import db
from campaign.core.webforms import perform
from notifications import urging

bp = Blueprint("urging", __name__)


@bp.post("/campaigns/<int:campaign_id>/units/<code>/urge")
@login_required
def urge(campaign_id: int, code: str) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    unit = permissions.unit_or_404(current_user, code)
    permissions.require(unit.is_responsible)
    permissions.ensure(permissions.may_edit_campaign, current_user)
    perform(
        lambda: urging.urge(db.session, campaign, unit, current_user),
        f"已向{unit.name}发出催办（站内通知、邮件、群机器人）。",
    )
    return redirect(url_for("home.campaign", campaign_id=campaign.id) + "#late-units")
