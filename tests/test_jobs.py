"""Background work (campaign.core.jobs): the one back-off formula, and abandoned work of
every kind settled by the scheduler's job with the outcome its users read.

Back-off worked out by hand: a delivery waits 1 minute after its first failure, doubling to
the cap of 30 (1, 2, 4, 8, 16, 30, 30 …) and stops after the 12th; a bulletin period waits
5 minutes, doubling to 2 hours (5, 10, 20, 40, 80, 120, 120 …) and never stops.
"""

from datetime import date, timedelta

from campaign import scheduler
from campaign.core.extensions import db
from campaign.ledger.models import ImportBatch
from notifications import dispatch
from notifications.models import Delivery, Event
from reports import services
from reports.models import BulletinRun
from tests.conftest import make_campaign, make_unit
from tests.timeutil import at, shanghai

MINUTE = timedelta(minutes=1)


def test_deliveries_wait_1_2_4_8_16_30_minutes_and_stop_after_12_attempts():
    retry = dispatch.RETRY
    assert [retry.wait(n) for n in range(1, 8)] == [m * MINUTE for m in (1, 2, 4, 8, 16, 30, 30)]
    assert [retry.gives_up(n) for n in (1, 11, 12)] == [False, False, True]
    last = shanghai(2026, 11, 10, 9, 0)
    assert retry.next_attempt(3, last) == shanghai(2026, 11, 10, 9, 4)


def test_bulletin_periods_wait_5_minutes_doubling_to_2_hours_without_end():
    retry = services.RETRY
    assert [retry.wait(n) for n in range(1, 8)] == [
        m * MINUTE for m in (5, 10, 20, 40, 80, 120, 120)
    ]
    # Failing every two hours for weeks: still two hours, never a number too large to hold.
    assert retry.wait(500) == timedelta(hours=2)
    assert not retry.gives_up(500)


def test_the_scheduler_settles_dead_work_of_every_kind_and_leaves_live_work_alone(app):
    campaign = make_campaign(2026)
    unit = make_unit("jiangan", "江岸区")
    event = Event(kind="ledger_reviewed", campaign_id=campaign.id, payload={})
    db.session.add(event)
    db.session.flush()

    def batch(at_) -> ImportBatch:
        return ImportBatch(
            campaign_id=campaign.id,
            unit_id=unit.id,
            filename="台账.xlsx",
            sha256="0" * 64,
            size=1,
            created_at=at_,
            heartbeat_at=at_,
        )

    def run(at_) -> BulletinRun:
        return BulletinRun(
            campaign_id=campaign.id,
            due_on=date(2026, 11, 10),
            trigger="schedule",
            started_at=at_,
            heartbeat_at=at_,
        )

    def delivery(key: str, at_) -> Delivery:
        return Delivery(
            key=key, event_id=event.id, channel="inapp", status="sending", claimed_at=at_
        )

    # At 12:00 each kind has one row past its lease (30 min, 2 min, 5 min) and one within.
    dead = [
        batch(shanghai(2026, 11, 10, 11, 29, 59)),
        run(shanghai(2026, 11, 10, 11, 57, 59)),
        delivery("dead", shanghai(2026, 11, 10, 11, 54, 59)),
    ]
    alive = [
        batch(shanghai(2026, 11, 10, 11, 30)),
        run(shanghai(2026, 11, 10, 11, 58)),
        delivery("alive", shanghai(2026, 11, 10, 11, 55)),
    ]
    db.session.add_all(dead + alive)
    db.session.commit()
    dead_ids = [row.id for row in dead]
    alive_ids = [row.id for row in alive]

    with at(2026, 11, 10, 12, 0):
        assert scheduler.settle_abandoned_work(app) == 3

    def rows(ids):
        db.session.expire_all()
        return [
            db.session.get(model, i)
            for model, i in zip((ImportBatch, BulletinRun, Delivery), ids, strict=True)
        ]

    batch_, run_, delivery_ = rows(dead_ids)
    assert (batch_.status, batch_.problems, batch_.notices) == (
        "refused",
        ["处理被中断（服务重启等），台账未作任何修改，请重新上传"],
        [],
    )
    assert (run_.status, run_.error, run_.finished_at) == (
        "abandoned",
        "进程在生成过程中中断（未生成通报，将自动重新生成）",
        shanghai(2026, 11, 10, 12, 0),
    )
    # Sent again at once: a sender that died is not a failed attempt.
    assert (delivery_.status, delivery_.last_error, delivery_.attempts) == (
        "failed",
        "发送过程中断，将重试",
        0,
    )
    assert [row.status for row in rows(alive_ids)] == ["processing", "running", "sending"]
