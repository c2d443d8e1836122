"""What a 销号's people are told as it moves, and what their notification centre shows.

江岸区 has two enterprises of 10 staff with nothing (two work-coverage items, 小企业 and
小商店), an operator 张填报 and two leaders, 李书记 and 王主任. 张填报 files 工作覆盖 for
each; every leader is told (待核验) by mail and in the app. Once one leader decides on
小企业 (returns or verifies it), both leaders' 待核验 notices of 小企业 are done (read),
while those of 小商店 still wait. When 小企业 is verified, 张填报 is told (已核验) by mail and
in the app. Mails carry the page's address; a notice in the app links to it instead.
"""

from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from campaign.board import services as board
from campaign.board.inputs import ClosureClaim
from campaign.board.models import BoardItem
from campaign.core.extensions import db
from notifications.models import Notification
from tests import documents
from tests.conftest import csrf_token, login, make_campaign, make_org, make_unit, make_user
from tests.notifications.loopback import HOST, free_port, smtp_server
from tests.timeutil import at, shanghai

BASE_URL = "https://gongjian.example.cn"
OPERATOR, LEADER, OTHER_LEADER = "zhang@example.cn", "li@example.cn", "wang@example.cn"
PDF = ("批复文件.pdf", documents.pdf("closure evidence"))
COVERAGE = {"method": "work_coverage", "instructor": "王指导员", "mass_organizations": "工会"}


@pytest.fixture
def w(app):
    app.config.update(
        NOTIFY_AFTER_COMMIT=True,
        JOBS_IN_BACKGROUND=False,
        BASE_URL=BASE_URL,
        SMTP_HOST=HOST,
        SMTP_PORT=free_port(),
        SMTP_TLS="",
        SMTP_USER="",
    )
    campaign = make_campaign(2026)
    jiangan = make_unit("jiangan", "江岸区")
    people = {}
    for username, role, name, email in [
        ("jiangan-op", "operator", "张填报", OPERATOR),
        ("jiangan-leader", "leader", "李书记", LEADER),
        ("jiangan-leader2", "leader", "王主任", OTHER_LEADER),
    ]:
        user = make_user(username, role, jiangan)
        user.display_name, user.email = name, email
        people[role if username != "jiangan-leader2" else "other_leader"] = user
    small = make_org(campaign, jiangan, name="小企业", employees=10)
    shop = make_org(campaign, jiangan, name="小商店", employees=10)
    board.sync_items(db.session, campaign)
    db.session.commit()
    return SimpleNamespace(
        app=app,
        campaign=campaign,
        small=small,
        shop=shop,
        storage=Path(app.config["STORAGE_PATH"]),
        **people,
    )


def item_of(org) -> BoardItem:
    return db.session.scalar(select(BoardItem).where(BoardItem.organization_id == org.id))


def path_of(w, org) -> str:
    return f"/campaigns/{w.campaign.id}/items/{item_of(org).id}"


def notices(user, kind: str) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id, Notification.kind == kind)
            .order_by(Notification.id)
        )
    )


def unread(user) -> list[str]:
    """The titles of a user's unread notices, oldest first."""
    return [
        n.title
        for n in db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .order_by(Notification.id)
        )
    ]


def file_both(w) -> None:
    for org in (w.small, w.shop):
        claim = ClosureClaim.from_form(COVERAGE)
        board.submit_closure(db.session, item_of(org), claim, PDF, w.operator, w.storage)
        db.session.commit()


WAITING = ["【待核验】小企业的销号申请", "【待核验】小商店的销号申请"]


@pytest.mark.parametrize("decision", ["return", "verify"])
def test_once_one_leader_decides_every_leaders_waiting_notice_of_that_item_is_done(w, decision):
    with smtp_server(w.app.config["SMTP_PORT"]), at(2026, 11, 20, 10, 0):
        file_both(w)
        assert unread(w.leader) == WAITING
        assert unread(w.other_leader) == WAITING

    with smtp_server(w.app.config["SMTP_PORT"]), at(2026, 11, 21, 9, 30):
        if decision == "return":
            board.return_closure(db.session, item_of(w.small), "请补充工会成立批复", w.leader)
        else:
            board.verify_closure(db.session, item_of(w.small), w.leader)
        db.session.commit()

    db.session.expire_all()
    assert unread(w.leader) == ["【待核验】小商店的销号申请"]
    assert unread(w.other_leader) == ["【待核验】小商店的销号申请"]
    (done,) = [n for n in notices(w.other_leader, "closure_submitted") if "小企业" in n.title]
    assert done.read_at == shanghai(2026, 11, 21, 9, 30)  # when the leader decided


def test_the_operator_is_told_when_his_closure_is_verified(w):
    with smtp_server(w.app.config["SMTP_PORT"]) as box, at(2026, 11, 20, 10, 0):
        file_both(w)
        board.verify_closure(db.session, item_of(w.small), w.leader)
        db.session.commit()

    (note,) = notices(w.operator, "closure_verified")
    assert note.title == "【已核验】小企业的销号已核验通过"
    assert (
        note.body
        == "“小企业”的销号申请（工作覆盖（指导员、群团组织））已由李书记核验通过，计入统计。\n"
    )
    assert note.link == path_of(w, w.small)
    (mail,) = box.to(OPERATOR)
    assert mail.subject == "【已核验】小企业的销号已核验通过"
    assert mail.text.rstrip("\n") == (
        "“小企业”的销号申请（工作覆盖（指导员、群团组织））已由李书记核验通过，计入统计。\n\n"
        f"销号记录：{BASE_URL}{path_of(w, w.small)}"
    )
    # Only the one who filed it, and only for the one verified.
    assert notices(w.leader, "closure_verified") == []
    assert len(notices(w.operator, "closure_verified")) == 1


def test_a_notice_in_the_app_links_to_its_page_and_prints_no_address(w):
    with smtp_server(w.app.config["SMTP_PORT"]) as box, at(2026, 11, 20, 10, 0):
        file_both(w)
        leader = w.app.test_client()
        login(leader, "jiangan-leader")
        inbox = leader.get("/notifications").get_data(as_text=True)

    item_path = path_of(w, w.small)
    # The mail writes the address out: it is read outside the system.
    mail = next(m for m in box.to(LEADER) if "小企业" in m.subject)
    assert mail.text.rstrip("\n").endswith(f"核验入口：{BASE_URL}{item_path}")
    # The notice in the app does not; its 查看 opens the page (and marks it read).
    (note,) = [n for n in notices(w.leader, "closure_submitted") if "小企业" in n.title]
    assert (
        note.body
        == "张填报提交了“小企业”的销号申请（工作覆盖（指导员、群团组织）），请核验佐证材料后通过或退回。\n"
    )
    assert "http" not in inbox and "核验入口" not in inbox
    with at(2026, 11, 20, 10, 5):
        token = csrf_token(leader, "/notifications")
        answer = leader.post(
            f"/notifications/{note.id}/read", data={"csrf_token": token, "follow": "1"}
        )
    assert answer.status_code == 302 and answer.headers["Location"] == item_path
    db.session.expire_all()
    assert unread(w.leader) == ["【待核验】小商店的销号申请"]
