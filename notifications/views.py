"""Pages: the notification centre, a user's channel choices, the delivery log (with resend),
the bulletin distribution list, and a unit's group-robot webhook."""

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from campaign import audit
from campaign.core import permissions
from campaign.core.clock import now
from campaign.core.extensions import db
from campaign.core.paging import page_arg
from campaign.core.webforms import perform
from notifications import dispatch, services
from notifications.channels import CHANNELS
from notifications.channels import webhook as robots
from notifications.events import mark_pending
from notifications.kinds import KINDS, USER_CHANNELS
from notifications.models import (
    DELIVERY_STATUSES,
    Delivery,
    Event,
    MailingListEntry,
    Notification,
    UnitWebhook,
)

bp = Blueprint("notifications", __name__)
CHANNEL_LABELS = {name: channel.label for name, channel in CHANNELS.items()}
LOG_PER_PAGE = 50
FLAVOURS = {"wecom": "企业微信群机器人", "dingtalk": "钉钉群机器人"}


@bp.app_context_processor
def unread_count() -> dict[str, Any]:
    """The unread badge in the header."""
    if not getattr(current_user, "is_authenticated", False):
        return {}
    count = db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
    )
    return {"unread_notifications": count}


@bp.get("/notifications")
@login_required
def inbox() -> ResponseReturnValue:
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.user_id == current_user.id)
        .order_by(Notification.read_at.is_not(None), Notification.id.desc())
        .limit(200)
    ).all()
    return render_template("notifications/inbox.html", rows=rows, kinds=KINDS)


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read(notification_id: int) -> ResponseReturnValue:
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != current_user.id:
        abort(404)

    def mark():
        note.read_at = note.read_at or now()

    perform(mark, "已标记为已读")
    target = note.link if note.link and request.form.get("follow") else url_for(".inbox")
    return redirect(target)


@bp.post("/notifications/read-all")
@login_required
def read_all() -> ResponseReturnValue:
    def mark():
        for note in db.session.scalars(
            select(Notification).where(
                Notification.user_id == current_user.id, Notification.read_at.is_(None)
            )
        ):
            note.read_at = now()

    perform(mark, "全部标记为已读")
    return redirect(url_for(".inbox"))


@bp.route("/notifications/preferences", methods=["GET", "POST"])
@login_required
def preferences() -> ResponseReturnValue:
    if request.method == "POST":
        perform(
            lambda: services.save_preferences(db.session, current_user, request.form),
            "通知设置已保存",
        )
        return redirect(url_for(".preferences"))
    chosen = {kind: dispatch.wanted(db.session, current_user.id, kind) for kind in KINDS}
    return render_template(
        "notifications/preferences.html",
        kinds=KINDS,
        channels=USER_CHANNELS,
        labels=CHANNEL_LABELS,
        chosen=chosen,
    )


# ---- the delivery log (coordinators) --------------------------------------------------


@bp.get("/campaigns/<int:campaign_id>/deliveries")
@login_required
def log(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    permissions.require(permissions.sees_city(current_user))  # every unit's messages
    permissions.ensure(permissions.may_edit_campaign, current_user)
    status = request.args.get("status", "")
    if status not in DELIVERY_STATUSES:
        status = ""
    of_campaign = Delivery.event.has(Event.campaign_id == campaign.id)
    stmt = (
        select(Delivery)
        .where(of_campaign)
        .options(joinedload(Delivery.event), joinedload(Delivery.user))
        .order_by(Delivery.id.desc())
    )
    if status:
        stmt = stmt.where(Delivery.status == status)
    # A page past the last one (or below 1) is a 404, as db.paginate does by default.
    deliveries = db.paginate(stmt, page=page_arg(strict=True), per_page=LOG_PER_PAGE, count=True)
    counts: dict[str, int] = dict(
        db.session.execute(
            select(Delivery.status, func.count()).where(of_campaign).group_by(Delivery.status)
        )
        .tuples()
        .all()
    )
    mailing = db.session.scalars(
        select(MailingListEntry)
        .where(MailingListEntry.campaign_id == campaign.id)
        .order_by(MailingListEntry.id)
    ).all()
    return render_template(
        "notifications/log.html",
        campaign=campaign,
        deliveries=deliveries,
        status=status,
        statuses=DELIVERY_STATUSES,
        counts=counts,
        kinds=KINDS,
        labels=CHANNEL_LABELS,
        mailing=mailing,
        masked=robots.masked,
    )


def _log_place() -> dict:
    """The status filter and page a form on the log came from, to go back to them."""
    status = request.args.get("status", "")
    page = page_arg()
    return {
        "status": status if status in DELIVERY_STATUSES else None,
        "page": page if page > 1 else None,
    }


@bp.post("/campaigns/<int:campaign_id>/deliveries/<int:delivery_id>/resend")
@login_required
def resend(campaign_id: int, delivery_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    permissions.require(permissions.sees_city(current_user))  # every unit's messages
    permissions.ensure(permissions.may_edit_campaign, current_user)
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None or delivery.event.campaign_id != campaign.id:
        abort(404)

    def again():
        copy = dispatch.resend(db.session, delivery)
        mark_pending(db.session)  # sent right after the commit, not at the next minute
        audit.record(
            db.session,
            user=current_user,
            action="delivery.resend",
            obj_type="notification_delivery",
            obj_id=delivery.id,
            after={"copy": copy.key},
        )
        return copy

    perform(again, "已重新排队发送")
    return redirect(url_for(".log", campaign_id=campaign.id, **_log_place()))


@bp.post("/campaigns/<int:campaign_id>/mailing-list")
@login_required
def mailing_list(campaign_id: int) -> ResponseReturnValue:
    campaign = permissions.campaign_or_404(current_user, campaign_id)
    permissions.require(permissions.sees_city(current_user))  # every unit's messages
    permissions.ensure(permissions.may_edit_campaign, current_user)

    def change():
        if remove := request.form.get("remove"):
            entry = db.session.get(MailingListEntry, int(remove)) if remove.isdigit() else None
            if entry is None or entry.campaign_id != campaign.id:
                abort(404)
            services.remove_from_mailing_list(db.session, entry, current_user)
        else:
            services.add_to_mailing_list(
                db.session,
                campaign,
                request.form.get("name", ""),
                request.form.get("email", ""),
                current_user,
            )

    perform(change, "通报分发名单已更新")
    return redirect(url_for(".log", campaign_id=campaign.id))


# ---- a unit's group robot ------------------------------------------------------------


@bp.route("/units/<code>/webhook", methods=["GET", "POST"])
@login_required
def webhook(code: str) -> ResponseReturnValue:
    unit = permissions.unit_or_404(current_user, code)
    permissions.ensure(permissions.may_set_webhook, current_user, unit)
    hook = db.session.scalar(select(UnitWebhook).where(UnitWebhook.unit_id == unit.id))
    if request.method == "POST":
        perform(
            lambda: services.save_webhook(
                db.session,
                unit,
                request.form.get("flavour", ""),
                request.form.get("url", ""),
                current_user,
            ),
            "群机器人设置已保存",
        )
        return redirect(url_for(".webhook", code=unit.code))
    return render_template(
        "notifications/webhook.html",
        unit=unit,
        hook=hook,
        shown=robots.masked(hook.url) if hook else "",
        flavours=FLAVOURS,
    )
