"""A unit's page: its figures by street/park and org type, and its ledger rows."""

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from campaign import figures, permissions
from campaign.accounts.models import Unit
from campaign.extensions import db
from campaign.ledger import services

bp = Blueprint("ledger", __name__)


@bp.get("/campaigns/<int:campaign_id>/units/<code>")
@login_required
def unit(campaign_id: int, code: str):
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    unit = permissions.unit_or_404(current_user, code)
    page = max(1, request.args.get("page", 1, type=int))
    q = request.args.get("q", "").strip()
    orgs, total = services.list_organizations(db.session, campaign, unit.id, q, page)
    by_area = figures.grouped(db.session, campaign, "area", [unit.id])
    areas = {u.id: u for u in db.session.query(Unit).filter(Unit.parent_id == unit.id)}
    return render_template(
        "ledger/unit.html",
        campaign=campaign,
        unit=unit,
        total=figures.overall(db.session, campaign, [unit.id]),
        # Streets/parks in their order, then rows with no street ("（未分街道）").
        by_area=sorted(
            ((areas.get(key), f) for key, f in by_area.items()),
            key=lambda pair: (pair[0] is None, pair[0].position if pair[0] else 0),
        ),
        by_kind=figures.grouped(db.session, campaign, "kind", [unit.id]),
        by_category=figures.grouped(db.session, campaign, "category", [unit.id]),
        orgs=orgs,
        org_total=total,
        page=page,
        pages=max(1, -(-total // 50)),
        q=q,
    )
