"""Channels behind one registry: ``CHANNELS[name](config).send(delivery, message, session)``."""

from notifications.channels.email import EmailChannel
from notifications.channels.inapp import InAppChannel
from notifications.channels.webhook import WebhookChannel

CHANNELS = {c.name: c for c in (EmailChannel, InAppChannel, WebhookChannel)}
