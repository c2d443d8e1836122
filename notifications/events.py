"""Raising events: a service calls ``emit`` inside its transaction; nothing is sent here."""

import json

from sqlalchemy.orm import Session

from notifications.models import Event

BULLETIN_PUBLISHED = "bulletin_published"


def emit(session: Session, kind: str, **payload) -> Event:
    """Queue an event with the caller's transaction (kept only if it commits)."""
    event = Event(kind=kind, payload=json.dumps(payload, ensure_ascii=False, sort_keys=True))
    session.add(event)
    return event
