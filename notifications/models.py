"""The outbox of events, what was delivered to whom, in-app notifications, and preferences."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.core.clock import now
from campaign.core.db import Base
from campaign.core.models import User
from campaign.core.text import text_field


class Event(Base):
    """Something that happened and must be told (e.g. a bulletin published).

    Written with the change itself, so a rolled-back change leaves no event, and a
    committed one is never lost: delivery reads the outbox after the commit.
    ``dedupe_key`` makes a computed event (a reminder for one window) exist once.
    """

    __tablename__ = "notification_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"), index=True)
    # What the message templates read (templates/notifications/*.txt).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    # Set once the event's deliveries are queued (fanned out to recipients and channels).
    delivered_at: Mapped[datetime | None]


DELIVERY_STATUSES = {
    "queued": "待发送",
    "sending": "发送中",
    "sent": "已发送",
    "failed": "发送失败（将重试）",
    "gave_up": "多次失败，已停止重试",
}


class Delivery(Base):
    """One message to one recipient over one channel: the delivery log.

    ``key`` (event, channel, recipient) is unique, so fanning an event out twice queues
    nothing new, and a message is claimed (queued/failed -> sending) by one sender only.
    """

    __tablename__ = "notification_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("notification_event.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))  # email | inapp | webhook
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    address: Mapped[str] = mapped_column(String(500), default="")  # email or webhook URL
    subject: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime] = mapped_column(default=now)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)

    event: Mapped[Event] = relationship()
    user: Mapped[User | None] = relationship()

    @property
    def status_label(self) -> str:
        return DELIVERY_STATUSES.get(self.status, self.status)


class Notification(Base):
    """An in-app notification (the notification centre)."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("notification_delivery.id"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    read_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("delivery_id", name="notification_once"),)


class Preference(Base):
    """A user's choice for one kind of event and one channel (absent = the kind's default)."""

    __tablename__ = "notification_preference"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    enabled: Mapped[bool]

    __table_args__ = (UniqueConstraint("user_id", "kind", "channel"),)


class UnitWebhook(Base):
    """A unit's (or the city's) 企业微信 / 钉钉 group robot, set by its admins."""

    __tablename__ = "unit_webhook"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), unique=True)
    flavour: Mapped[str] = mapped_column(String(20))  # wecom | dingtalk
    url: Mapped[str] = mapped_column(String(500), info=text_field("Webhook 地址"))
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class MailingListEntry(Base):
    """The campaign's distribution list for bulletins, beyond leadership users."""

    __tablename__ = "mailing_list_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    name: Mapped[str] = mapped_column(String(80), default="", info=text_field("姓名"))
    email: Mapped[str] = mapped_column(String(200), info=text_field("电子邮件"))

    __table_args__ = (UniqueConstraint("campaign_id", "email"),)
