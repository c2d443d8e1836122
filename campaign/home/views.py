"""The home pages: the latest campaign, and a campaign's overview (its timeline, every
unit's figures and the board's totals), composed from the areas; nothing imports it."""

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from campaign import figures
from campaign.board import services as board
from campaign.core import campaigns, clock, permissions
from campaign.core.extensions import db
from campaign.quality import services as quality

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    campaign = campaigns.latest_campaign(db.session)
    if campaign is None:
        return render_template("home/empty.html")
    return redirect(url_for("home.campaign", campaign_id=campaign.id))


@bp.get("/campaigns/<int:campaign_id>")
@login_required
def campaign(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    unit_ids = permissions.visible_unit_ids(current_user)
    rows = figures.by_unit(db.session, campaign, unit_ids)
    return render_template(
        "home/overview.html",
        campaign=campaign,
        timeline=campaigns.timeline_view(campaign, clock.today(campaign.timezone)),
        rows=rows,
        total=figures.total_of(rows),
        board=board.totals(db.session, campaign, unit_ids),
        sees_city=permissions.sees_city(current_user),
        may_edit=permissions.may_edit_campaign(current_user),
        # Open data-quality signals per unit, for those who judge them (stored, not computed).
        quality=quality.open_counts(db.session, campaign)
        if quality.may_see_signals(current_user)
        else None,
    )
