"""Messages leave only after the change that caused them is committed.

A 销号 of 江岸区's 小企业 (10 staff, nothing: a work-coverage item) is filed by the unit's
operator 张填报 and sent back by its leader 李书记: the return tells the submitter. Rolled
back, it tells nobody; committed, 张填报 gets one in-app notification and one mail. Mail goes
to a real SMTP server on loopback; delivery runs inline right after the commit.
"""

from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from campaign.board import services as board
from campaign.board.inputs import ClosureClaim
from campaign.board.models import BoardItem
from campaign.core.extensions import db
from notifications.models import Delivery, Event, Notification
from tests import documents
from tests.conftest import make_campaign, make_org, make_unit, make_user
from tests.notifications.loopback import HOST, free_port, smtp_server

OPERATOR, LEADER = "zhang@example.cn", "li@example.cn"
PDF = ("批复文件.pdf", documents.pdf("closure evidence"))
COVERAGE = {"method": "work_coverage", "instructor": "王指导员", "mass_organizations": "工会"}


@pytest.fixture
def w(app):
    app.config.update(
        NOTIFY_AFTER_COMMIT=True,
        JOBS_IN_BACKGROUND=False,
        BASE_URL="https://gongjian.example.cn",
        SMTP_HOST=HOST,
        SMTP_PORT=free_port(),
        SMTP_TLS="",
        SMTP_USER="",
    )
    campaign = make_campaign(2026)
    jiangan = make_unit("jiangan", "江岸区")
    operator = make_user("jiangan-op", "operator", jiangan)
    operator.display_name, operator.email = "张填报", OPERATOR
    leader = make_user("jiangan-leader", "leader", jiangan)
    leader.display_name, leader.email = "李书记", LEADER
    small = make_org(campaign, jiangan, name="小企业", employees=10)
    board.sync_items(db.session, campaign)
    db.session.commit()
    return SimpleNamespace(
        app=app,
        campaign=campaign,
        operator=operator,
        leader=leader,
        small=small,
        storage=Path(app.config["STORAGE_PATH"]),
    )


def item(w) -> BoardItem:
    return db.session.scalar(select(BoardItem).where(BoardItem.organization_id == w.small.id))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def returned_events() -> int:
    return count(Event, Event.kind == "closure_returned")


def test_a_return_rolled_back_tells_nobody_and_committed_tells_the_submitter_once(w):
    with smtp_server(w.app.config["SMTP_PORT"]) as box:
        board.submit_closure(
            db.session, item(w), ClosureClaim.from_form(COVERAGE), PDF, w.operator, w.storage
        )
        db.session.commit()
        # Filing it told the leader (待核验), by mail and in the app.
        assert [m.subject for m in box.mails] == ["【待核验】小企业的销号申请"]
        assert box.mails[0].rcpt_tos == [LEADER]
        assert count(Notification, Notification.user_id == w.leader.id) == 1

        # Returned, then the transaction is rolled back (a later step failed).
        board.return_closure(db.session, item(w), "佐证材料不全", w.leader)
        db.session.rollback()
        assert returned_events() == 0
        assert count(Delivery) == 2  # the 待核验 ones only
        assert count(Notification, Notification.user_id == w.operator.id) == 0
        assert len(box.mails) == 1

        # Returned and committed.
        board.return_closure(db.session, item(w), "佐证材料不全，请补充工会成立批复", w.leader)
        db.session.commit()

    assert returned_events() == 1
    (note,) = db.session.scalars(
        select(Notification).where(Notification.user_id == w.operator.id)
    ).all()
    assert (note.kind, note.title) == ("closure_returned", "【已退回】小企业的销号申请")
    assert "“小企业”的销号申请被李书记退回。" in note.body
    assert "退回原因：佐证材料不全，请补充工会成立批复" in note.body
    # In-app links are paths: they work whatever BASE_URL says.
    assert note.link == f"/campaigns/{w.campaign.id}/items/{item(w).id}"
    # One mail to the submitter, none to anyone else for the return.
    (mail,) = box.to(OPERATOR)
    assert mail.subject == "【已退回】小企业的销号申请"
    assert [m.subject for m in box.to(LEADER)] == ["【待核验】小企业的销号申请"]
    assert count(Notification, Notification.user_id == w.leader.id) == 1
