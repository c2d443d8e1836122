"""The 数据质量 page: the stored signals by unit and by kind, open or judged, for the city's
working group; a coordinator judges each one, or has them computed again.

Who sees it: coordinators and admins, city-wide. Everyone else gets 404, units included: a
lead about a unit's own rows is for the working group to check first (线索, not verdicts);
what a unit must put right reaches it as 需整改 through the coordinator, and the bulletin
shows every unit its counts.
"""

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from campaign.core import permissions
from campaign.core.extensions import db
from campaign.core.models import Campaign
from campaign.core.webforms import perform
from campaign.quality import services
from campaign.quality.models import QualitySignal, SignalCode, SignalStatus

bp = Blueprint("quality", __name__)
# Signals a page lists at most (the counts above them count all).
PAGE_LIMIT = 200


def _campaign(campaign_id: int) -> Campaign:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    permissions.require(services.may_see_signals(current_user))
    return campaign


def _choice(enum: type[SignalCode] | type[SignalStatus], name: str) -> Any:
    value = request.args.get(name, "")
    try:
        return enum(value) if value else None
    except ValueError:
        return None  # an unknown filter shows everything, as no filter does


@bp.get("/campaigns/<int:campaign_id>/quality")
@login_required
def page(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    units = permissions.responsible_units(current_user)
    unit_code = request.args.get("unit", "")
    unit = next((u for u in units if u.code == unit_code), None)
    code = _choice(SignalCode, "code")
    status = _choice(SignalStatus, "status")
    gone = request.args.get("gone") == "1"
    signals = services.list_signals(
        db.session,
        campaign,
        [unit.id] if unit else None,
        code=code,
        status=status,
        active=not gone,
        limit=PAGE_LIMIT,
    )
    return render_template(
        "quality/page.html",
        campaign=campaign,
        units=units,
        unit=unit,
        code=code,
        status=status,
        gone=gone,
        signals=signals,
        limit=PAGE_LIMIT,
        tallies=services.tallies(db.session, campaign),
        run=services.last_run(db.session, campaign),
        stale=services.is_stale(db.session, campaign),
        codes=list(SignalCode),
        statuses=list(SignalStatus),
        form=FlaskForm(),
    )


@bp.post("/campaigns/<int:campaign_id>/quality/signals/<int:signal_id>")
@login_required
def review(campaign_id: int, signal_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    signal = db.session.get(QualitySignal, signal_id)
    permissions.require(signal is not None and signal.campaign_id == campaign.id)
    assert signal is not None  # required above
    perform(
        lambda: services.review(
            db.session,
            signal,
            services.judgement(request.form.get("status", "")),
            request.form.get("note", ""),
            current_user,
        ),
        lambda s: f"已将{s.unit.name}的线索标记为“{s.status_label}”。",
    )
    # Back to the list as it was filtered (only the filters, never a URL from the form).
    kept: dict[str, Any] = {
        k: request.form[k] for k in ("unit", "code", "status", "gone") if request.form.get(k)
    }
    return redirect(url_for("quality.page", campaign_id=campaign.id, **kept) + f"#s{signal.id}")


@bp.post("/campaigns/<int:campaign_id>/quality/refresh")
@login_required
def refresh(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign(campaign_id)
    perform(
        lambda: services.refresh(db.session, campaign, current_user),
        lambda r: (
            f"已重新检查：新发现{r.new}条，重新打开{r.reopened}条，已消除{r.gone}条，"
            f"现有线索{r.active}条。"
        ),
    )
    return redirect(url_for("quality.page", campaign_id=campaign.id))
