"""Raising events: a service calls ``emit`` inside its transaction; nothing is sent here.

The event is a row written with the change, so a rolled-back change notifies nobody. After
the commit, ``init_app``'s hook starts delivery in the background; the scheduler's
``notifications.deliver`` job picks up anything a dead process left behind.
"""

from typing import cast

from flask import Flask, current_app
from sqlalchemy import event as sa_event
from sqlalchemy import orm, select
from sqlalchemy.exc import IntegrityError
from werkzeug.local import LocalProxy

from campaign.core.db import Session
from notifications.models import Event

BULLETIN_PUBLISHED = "bulletin_published"
_PENDING = "gongjian.events_pending"


def actor_name(user) -> str:
    """Who did it, as a message says it."""
    return getattr(user, "display_name", None) or getattr(user, "username", None) or "系统"


def emit(session: Session, kind: str, dedupe_key: str | None = None, **payload) -> Event | None:
    """Queue an event with the caller's transaction (kept only if it commits).

    With ``dedupe_key`` the event exists once (a reminder for one window): None if it
    already does.
    """
    if dedupe_key is not None:
        if session.scalar(select(Event.id).where(Event.dedupe_key == dedupe_key)):
            return None
    event = Event(
        kind=kind,
        campaign_id=payload.get("campaign_id"),
        dedupe_key=dedupe_key,
        payload=payload,
    )
    if dedupe_key is not None:
        try:
            with session.begin_nested():
                session.add(event)
        except IntegrityError:  # emitted by another process just now
            return None
    else:
        session.add(event)
    mark_pending(session)
    return event


def mark_pending(session: Session) -> None:
    """Ask for a delivery round after this transaction commits (e.g. a resend was queued)."""
    session.info[_PENDING] = True


def deliver_now(app: Flask) -> None:
    """Fan out and send what is pending, in a session of its own."""
    from campaign.core.extensions import db  # noqa: PLC0415
    from notifications import dispatch  # noqa: PLC0415

    # Runs inside the after_commit hook when jobs are inline: a failure here must never
    # surface in the code that committed (its change is already in), only in the log.
    try:
        with orm.Session(db.engine) as session:
            dispatch.process(session, app.config)
    except Exception:
        app.logger.exception("delivering notifications after a commit failed")


_hooked = False


def init_app(app: Flask) -> None:
    """Deliver after every commit that wrote events; forget them on rollback."""
    from campaign.core import jobs  # noqa: PLC0415
    from campaign.core.extensions import db  # noqa: PLC0415

    global _hooked
    if _hooked:  # db.session is shared by every app the process creates
        return
    _hooked = True

    @sa_event.listens_for(db.session, "after_commit")
    def _after_commit(session):
        if session.info.pop(_PENDING, False) and current_app:
            if current_app.config.get("NOTIFY_AFTER_COMMIT", True):
                # The app itself, for the job's thread (Flask types its proxy as the app).
                proxy = cast("LocalProxy[Flask]", current_app)
                jobs.run(deliver_now, proxy._get_current_object())

    @sa_event.listens_for(db.session, "after_rollback")
    def _after_rollback(session):
        session.info.pop(_PENDING, None)
