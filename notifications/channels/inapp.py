"""In-app: a row in the user's notification centre."""

from sqlalchemy import select

from notifications.channels.base import Channel
from notifications.models import Notification


class InAppChannel(Channel):
    name = "inapp"
    label = "站内通知"

    def send(self, delivery, message, session) -> None:
        # Once per delivery (unique), so a retried delivery never shows twice.
        if session.scalar(select(Notification.id).where(Notification.delivery_id == delivery.id)):
            return
        session.add(
            Notification(
                user_id=delivery.user_id,
                delivery_id=delivery.id,
                kind=delivery.event.kind,
                title=message.subject,
                # The centre's 查看 opens the page: no address written out in the text.
                body=message.text,
                link=message.path,
            )
        )
        session.flush()
