"""The home pages: the latest campaign, a campaign's overview (its timeline, every unit's
figures and the board's totals), and a home per role with its 待办 (campaign/home/todo.py) or,
for leadership, the phone-first view (campaign/home/leadership.py); nothing imports it."""

from flask import Blueprint, abort, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from campaign import figures, targets
from campaign.board import coordination
from campaign.board import services as board
from campaign.core import campaigns, clock, permissions
from campaign.core.extensions import db
from campaign.core.vocab import Role
from campaign.forecast import services as forecast
from campaign.home import leadership, todo
from campaign.quality import services as quality

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    campaign = campaigns.latest_campaign(db.session)
    if campaign is None:
        return render_template("home/empty.html")
    if permissions.may_edit_campaign(current_user):
        # The working group's home is the overview, with its 待办 on top.
        return redirect(url_for("home.campaign", campaign_id=campaign.id))
    return redirect(url_for("home.role_home", campaign_id=campaign.id))


@bp.get("/campaigns/<int:campaign_id>")
@login_required
def campaign(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    unit_ids = permissions.visible_unit_ids(current_user)
    rows = figures.by_unit(db.session, campaign, unit_ids)
    coordinator = permissions.may_edit_campaign(current_user)
    goals = targets.load(db.session, campaign)
    sees_city = permissions.sees_city(current_user)
    return render_template(
        "home/overview.html",
        campaign=campaign,
        timeline=campaigns.timeline_view(campaign, clock.today(campaign.timezone)),
        rows=rows,
        total=figures.total_of(rows),
        goals=goals,
        # A unit's own page compares its totals with its own target.
        kpi_unit=rows[0][0].id if not sees_city and len(rows) == 1 else None,
        # 非公 / 社会组织 against their own targets, where the campaign sets them.
        by_kind=figures.grouped(db.session, campaign, "kind", unit_ids) if goals.by_kind else None,
        board=board.totals(db.session, campaign, unit_ids),
        phases=figures.phase_counts(db.session, campaign, unit_ids),
        rule_figures=figures.rule_figures(db.session, campaign, unit_ids),
        forecast=forecast.stored(db.session, campaign, rows),  # kept, not computed
        sees_city=sees_city,
        may_edit=coordinator,
        is_leadership=current_user.role == Role.LEADERSHIP,
        todo=(
            todo.coordinator_home(db.session, campaign, clock.now(campaign.timezone))
            if coordinator
            else None
        ),
        open_issues=(
            coordination.open_issues(db.session, campaign, None)[:10] if coordinator else []
        ),
        form=FlaskForm(),
        # Open data-quality signals per unit, for those who judge them (stored, not computed).
        quality=quality.open_counts(db.session, campaign)
        if quality.may_see_signals(current_user)
        else None,
    )


@bp.get("/campaigns/<int:campaign_id>/home")
@login_required
def role_home(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    if current_user.role == Role.LEADERSHIP:
        return leadership_view(campaign.id)
    unit = current_user.unit
    if current_user.role not in (Role.OPERATOR, Role.LEADER) or unit is None:
        return redirect(url_for("home.campaign", campaign_id=campaign.id))
    moment = clock.now(campaign.timezone)
    common = {
        "campaign": campaign,
        "unit": unit,
        "timeline": campaigns.timeline_view(campaign, moment.date()),
        "open_issues": coordination.open_issues(db.session, campaign, [unit.id]),
    }
    if current_user.role == Role.LEADER:
        return render_template(
            "home/leader.html",
            **common,
            **todo.leader_home(db.session, campaign, unit, moment),
            target=targets.load(db.session, campaign)
            .of(targets.Rate.PARTY_ORG_COVERAGE, unit.id)
            .percent,
        )
    return render_template(
        "home/operator.html", **common, **todo.operator_home(db.session, campaign, unit, moment)
    )


@bp.get("/campaigns/<int:campaign_id>/leadership")
@login_required
def leadership_view(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    permissions.require(permissions.sees_city(current_user))  # the city's ranking
    today = clock.today(campaign.timezone)
    return render_template(
        "home/leadership.html",
        campaign=campaign,
        today=today,
        **leadership.view(db.session, campaign, today),
    )


@bp.get("/campaigns/<int:campaign_id>/bulletins/<int:number>/reading")
@login_required
def bulletin_reading(campaign_id: int, number: int) -> ResponseReturnValue:
    # Every user reads a bulletin's PDF (reports.views.pdf); this is the same, for a phone.
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    found = leadership.bulletin(db.session, campaign, number) or abort(404)
    return render_template(
        "home/bulletin_reading.html",
        campaign=campaign,
        bulletin=found,
        **leadership.reading(found),
    )


@bp.get("/campaigns/<int:campaign_id>/todo/<any(returned, awaiting, tasks, decided, review):what>")
@login_required
def todo_list(campaign_id: int, what: str) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    unit = None
    if what == "review":
        permissions.require(permissions.may_edit_campaign(current_user))
    else:
        unit = current_user.unit
        permissions.require(unit is not None and not permissions.sees_city(current_user))
    rows = todo.todo_list(db.session, campaign, what, unit, clock.now(campaign.timezone))
    return render_template(
        "home/todo_list.html",
        campaign=campaign,
        title=todo.LISTS[what],
        what=what,
        rows=rows,
        show_unit=unit is None,
    )
