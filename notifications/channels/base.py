"""The one base class every channel implements."""

from collections.abc import Mapping

from campaign.core.db import Session
from notifications.messages import Message
from notifications.models import Delivery


class SendFailed(RuntimeError):
    """The message did not go out; the delivery is retried later."""


class Channel:
    name = ""
    label = ""

    def __init__(self, config: Mapping):
        self.config = config

    def send(self, delivery: Delivery, message: Message, session: Session) -> None:
        """Deliver ``message``; raise SendFailed (with a Chinese reason) when it did not go out."""
        raise NotImplementedError
