"""The sender survives a message it cannot build: that delivery fails (logged, retried, in
the end given up), the others go out.

The case is real: until issue 7, reports/services.py wrote "bulletin_published" events with
only bulletin_id, campaign_id, number and due_on, and left them undelivered
(delivered_at NULL) in the outbox. Once upgraded, the deliver job fans those out, and the
bulletin template, which reads p.title, p.coverage ..., cannot render them.
"""

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from campaign.core.extensions import db
from notifications import dispatch, events
from notifications.models import Delivery, Event, Notification
from tests.conftest import make_campaign, make_unit, make_user


@pytest.fixture
def w(app):
    campaign = make_campaign(2026)
    jiangan = make_unit("jiangan", "江岸区")
    boss = make_user("boss", "leadership")  # no email: in-app only
    operator = make_user("jiangan-op", "operator", jiangan)
    # An outbox row as issue 6 wrote it.
    old = Event(
        kind="bulletin_published",
        payload={"bulletin_id": 1, "campaign_id": campaign.id, "number": 5, "due_on": "2026-10-25"},
    )
    db.session.add(old)
    db.session.commit()
    return SimpleNamespace(
        app=app, campaign=campaign, jiangan=jiangan, boss=boss, operator=operator, old=old
    )


def reviewed(w) -> None:
    """A message of today (a ledger approved), committed."""
    events.emit(
        db.session,
        "ledger_reviewed",
        campaign_id=w.campaign.id,
        unit_id=w.jiangan.id,
        unit="江岸区",
        outcome="审核通过",
        comment="",
        actor="市级专班",
        path=f"/campaigns/{w.campaign.id}/units/jiangan",
    )
    db.session.commit()


def assert_only_the_old_one_failed(w) -> None:
    # Today's message reached the operator ...
    (note,) = db.session.scalars(select(Notification)).all()
    assert (note.user_id, note.title) == (w.operator.id, "【台账审核】江岸区台账审核通过")
    # ... and the one that cannot be built is failed with a reason, not left "sending".
    (stuck,) = db.session.scalars(select(Delivery).where(Delivery.event_id == w.old.id)).all()
    assert stuck.user_id == w.boss.id
    assert stuck.status in ("failed", "gave_up")
    assert stuck.attempts == 1 and stuck.last_error


def test_an_event_that_cannot_be_rendered_does_not_hold_up_the_others(w):
    reviewed(w)
    dispatch.process(db.session, w.app.config)  # the minute job: must not stop half-way
    assert_only_the_old_one_failed(w)


def test_a_commit_that_starts_the_sender_never_fails_because_of_it(w):
    # Delivery right after the commit, inline: whatever delivery meets, the change that
    # was committed is not reported as failed to its caller (a page would answer 500 and
    # reports.services.produce would try to roll back a committed bulletin).
    w.app.config.update(NOTIFY_AFTER_COMMIT=True, JOBS_IN_BACKGROUND=False)
    reviewed(w)
    assert_only_the_old_one_failed(w)
