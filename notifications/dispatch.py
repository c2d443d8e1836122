"""From the outbox to people: fan an event out to deliveries, then send them with retries.

Runs after the commit that wrote the event (a background job kicked by the commit) and
every minute from the scheduler, so a message whose process died is still sent. Every step
is idempotent: a delivery's key is unique, and a delivery is claimed by one sender before
it is sent, so two processes never send the same message.
"""

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from campaign.core import jobs
from campaign.core.clock import now
from campaign.core.db import Session, claim
from campaign.core.errors import Conflict
from notifications import kinds
from notifications.channels import CHANNELS
from notifications.channels.base import SendFailed
from notifications.messages import render
from notifications.models import Delivery, Event, Preference, UnitWebhook

log = logging.getLogger("gongjian.notifications")

# A failed message is retried after 1 minute, doubling up to 30, 12 attempts in all (about
# four hours) before a coordinator must resend it.
RETRY = jobs.Retry(first=timedelta(minutes=1), cap=timedelta(minutes=30), max_attempts=12)
# A message claimed for sending is held by its sender; a claim older than 5 minutes died
# with its process, and the message is sent again.
DELIVERIES = jobs.Kind(
    Delivery,
    running="sending",
    heartbeat=Delivery.claimed_at,
    lease=timedelta(minutes=5),
    abandoned=lambda moment: {"status": "failed", "last_error": "发送过程中断，将重试"},
    waiting=("queued", "failed"),
    due=Delivery.next_attempt_at,
)


def wanted(session: Session, user_id: int, kind: str) -> set[str]:
    """The channels a user wants for a kind (their choices over the kind's defaults)."""
    channels = set(kinds.KINDS[kind].defaults)
    for pref in session.scalars(
        select(Preference).where(Preference.user_id == user_id, Preference.kind == kind)
    ):
        (channels.add if pref.enabled else channels.discard)(pref.channel)
    return channels


def fan_out(session: Session, event: Event) -> int:
    """Queue one delivery per recipient and channel for ``event``; returns how many are new."""
    kind = kinds.KINDS[event.kind]
    payload = event.payload
    planned: list[tuple[str, int | None, str]] = []  # channel, user, address
    for user in kinds.users_for(session, kind, payload):
        channels = wanted(session, user.id, event.kind)
        if "inapp" in channels:
            planned.append(("inapp", user.id, ""))
        if "email" in channels and user.email:
            planned.append(("email", user.id, user.email))
    mailed = {address.lower() for channel, _, address in planned if channel == "email"}
    for entry in kinds.mailing_list(session, kind, payload):
        if entry.email.lower() not in mailed:  # a leader on the list too gets one mail
            mailed.add(entry.email.lower())
            planned.append(("email", None, entry.email))
    units = [u.id for u in kinds.webhook_units(session, kind, payload)]
    hooks = session.scalars(select(UnitWebhook).where(UnitWebhook.unit_id.in_(units)))
    for hook in sorted(hooks, key=lambda h: units.index(h.unit_id)):
        planned.append(("webhook", None, f"{hook.flavour}|{hook.url}"))
    existing = set(session.scalars(select(Delivery.key).where(Delivery.event_id == event.id)))
    new = 0
    for channel, user_id, address in planned:
        key = f"{event.id}:{channel}:{user_id or address.lower()}"
        if key in existing:
            continue
        existing.add(key)
        session.add(
            Delivery(key=key, event_id=event.id, channel=channel, user_id=user_id, address=address)
        )
        new += 1
    event.delivered_at = now()
    return new


def fan_out_pending(session: Session) -> int:
    """Fan out every event not yet fanned out (committed per event)."""
    total = 0
    for event_id in session.scalars(
        select(Event.id).where(Event.delivered_at.is_(None)).order_by(Event.id)
    ).all():
        event = session.get_one(Event, event_id)
        try:
            total += fan_out(session, event)
            session.commit()
        except IntegrityError:  # another process fanned it out at the same moment
            session.rollback()
    return total


def send_one(session: Session, delivery: Delivery, config: Mapping, moment: datetime) -> bool:
    """Send a claimed delivery and record the outcome; True if it went out."""
    channel = CHANNELS[delivery.channel](config)
    event = delivery.event
    try:
        message = render(event.kind, event.payload, config.get("BASE_URL", ""))
        delivery.subject = message.subject[:300]
        channel.send(delivery, message, session)
    except Exception as e:  # SendFailed, or a message that cannot be built: this one fails
        session.rollback()
        delivery = session.get_one(Delivery, delivery.id)
        delivery.attempts += 1
        delivery.last_error = str(e) if isinstance(e, SendFailed) else f"消息无法生成：{e!r}"
        delivery.status = "gave_up" if RETRY.gives_up(delivery.attempts) else "failed"
        # Counted from this attempt's claim.
        last = delivery.claimed_at or moment
        delivery.next_attempt_at = RETRY.next_attempt(delivery.attempts, last)
        session.commit()
        log.warning("delivery %s failed (attempt %s): %s", delivery.id, delivery.attempts, e)
        return False
    delivery.attempts += 1
    delivery.status, delivery.sent_at, delivery.last_error = "sent", now(), ""
    session.commit()
    return True


def send_due(session: Session, config: Mapping, moment: datetime | None = None) -> int:
    """Send every delivery that is due (queued, or failed and past its back-off)."""
    moment = moment or now()
    # A claim whose sender died: back to failed, to be sent again at once.
    jobs.settle_abandoned(session, DELIVERIES, now())
    session.commit()
    sent = 0
    due_ids = session.scalars(
        select(Delivery.id).where(jobs.ready(DELIVERIES, moment)).order_by(Delivery.id)
    ).all()
    for delivery_id in due_ids:
        if jobs.claim(session, DELIVERIES, delivery_id, moment):
            sent += send_one(session, session.get_one(Delivery, delivery_id), config, moment)
    return sent


def process(session: Session, config: Mapping, moment: datetime | None = None) -> int:
    """Fan out what is pending and send what is due; returns messages sent."""
    fan_out_pending(session)
    return send_due(session, config, moment)


RESEND_PENDING = "该消息已重新排队，尚未发出，未重复排队"


def resend(session: Session, delivery: Delivery) -> Delivery:
    """Send a delivered (or given-up) message again, as a new, logged delivery; not while an
    earlier resend of it is still on its way (a double click queues it once)."""
    # Claiming the row makes a second resend posted at once wait here for the first.
    claim(
        session,
        delivery,
        Delivery.status.in_(("sent", "gave_up")),
        "该消息仍在发送或重试中，无需重发",
    )
    copies = f"{delivery.key}:resend:%"
    if session.scalar(
        select(func.count()).where(
            Delivery.key.like(copies), Delivery.status.in_(("queued", "sending", "failed"))
        )
    ):
        raise Conflict(RESEND_PENDING)
    earlier = session.scalar(select(func.count()).where(Delivery.key.like(copies))) or 0
    copy = Delivery(
        key=f"{delivery.key}:resend:{earlier + 1}",
        event_id=delivery.event_id,
        channel=delivery.channel,
        user_id=delivery.user_id,
        address=delivery.address,
    )
    session.add(copy)
    session.flush()
    return copy
