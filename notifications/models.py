"""The outbox: events written in the same transaction as the change that raised them."""

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from campaign.clock import now
from campaign.db import Base


class Event(Base):
    """Something that happened and must be told (e.g. a bulletin published).

    Written with the change itself, so a rolled-back change leaves no event, and a
    committed one is never lost: delivery reads the outbox after the commit.
    """

    __tablename__ = "notification_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    payload: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    created_at: Mapped[datetime] = mapped_column(default=now)
    delivered_at: Mapped[datetime | None]
