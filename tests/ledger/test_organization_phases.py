"""The organization page records seed 004's phases 5 and 6 (隶属关系, 理顺, 第一书记/指导员) as
the unit's ledger is edited: on a draft the row changes, on the approved base a change request
is filed for the working group; hostile values are refused in Chinese, naming the field, and
change nothing; another unit's operator is told 404, a coordinator 403. Today is 2026-11-15.

江岸区's ledger: 甲 (单独组建 founded 09-10, 3 formal: meets its target, no item) and 乙 (3
formal members, 联合组建: short of 应单独组建, an item on the board once approved).
"""

from datetime import date

import pytest
from sqlalchemy import select

from campaign.board.models import BoardItem
from campaign.core.extensions import db
from campaign.ledger import services
from campaign.ledger.models import ChangeRequest, Organization
from tests.conftest import csrf_token, login, make_campaign, make_org, make_unit, make_user
from tests.timeutil import at

FORM = {
    "affiliation": "territorial",
    "affiliation_settled": "是",
    "affiliation_settled_on": "2026-11-02",
    "liaison_role": "first_secretary",
    "liaison_name": " 王五 ",
    "liaison_unit": "江岸区商务局",
    "liaison_assigned_on": "2026-09-20",
}


@pytest.fixture(autouse=True)
def _today():
    with at(2026, 11, 15, 10, 0):
        yield


def test_an_operator_records_them_on_a_draft_then_by_change_request(app):
    jiangan, wuchang = make_unit("jiangan", "江岸区"), make_unit("wuchang", "武昌区")
    campaign = make_campaign(2026)
    op = make_user("jiangan_op", "operator", jiangan)
    make_user("wuchang_op", "operator", wuchang)
    coord = make_user("coord", "coordinator")
    a = make_org(campaign, jiangan, formal=3, party_org="standalone", founded_on=date(2026, 9, 10))
    b = make_org(campaign, jiangan, formal=3, party_org="joint", founded_on=date(2026, 9, 1))
    db.session.commit()
    page = f"/campaigns/{campaign.id}/organizations/{a.id}"
    clients = {}
    for name in ("jiangan_op", "wuchang_op", "coord"):
        clients[name] = app.test_client()
        login(clients[name], name)
    client = clients["jiangan_op"]

    def post(form, who=client, org=a):
        path = f"/campaigns/{campaign.id}/organizations/{org.id}"
        token = csrf_token(who, f"/campaigns/{campaign.id}/exclusions")
        return who.post(f"{path}/phases", data={"csrf_token": token, **form})

    def row() -> Organization:
        db.session.expire_all()
        return db.session.get(Organization, a.id)

    assert "（未理顺）" in client.get(page).get_data(as_text=True)

    # Hostile values: each named, in Chinese; nothing changes.
    answer = post({**FORM, "affiliation": "街道"})
    assert answer.status_code == 302
    said = client.get(page).get_data(as_text=True)
    assert "「党组织隶属关系」应为：属地、行业、主管部门（或不填）" in said
    post({**FORM, "liaison_unit": "市民\x07政局"})
    said = client.get(page).get_data(as_text=True)
    assert "「第一书记（指导员）所在单位」含有不可见的控制字符" in said
    post({**FORM, "affiliation_settled_on": "2026-11-16"})
    assert "「隶属关系理顺时间」不能晚于今天（2026-11-16）" in client.get(page).get_data(
        as_text=True
    )
    post({**FORM, "liaison_name": "王" * 81})
    assert "「第一书记（指导员）姓名」超过80个字" in client.get(page).get_data(as_text=True)
    assert (row().affiliation, row().liaison_name) == (None, "")

    # Not his unit: 404; a coordinator edits no ledger: 403.
    assert post(FORM, who=clients["wuchang_op"]).status_code == 404
    assert post(FORM, who=clients["coord"]).status_code == 403

    # The draft: the row changes, recorded.
    post(FORM)
    stored = row()
    assert (stored.affiliation, stored.affiliation_settled, stored.affiliation_settled_on) == (
        "territorial",
        True,
        date(2026, 11, 2),
    )
    assert (stored.liaison_role, stored.liaison_name, stored.liaison_unit) == (
        "first_secretary",
        "王五",
        "江岸区商务局",
    )
    html = client.get(page).get_data(as_text=True)
    assert "属地（已理顺，2026年11月2日）" in html
    assert "第一书记 王五（江岸区商务局），2026年9月20日选派" in html

    # The approved base: a change request, the row unchanged until it is accepted.
    ledger = services.unit_ledger(db.session, campaign, jiangan)
    services.submit_ledger(db.session, ledger, op)
    services.approve_ledger(db.session, ledger, coord)
    db.session.commit()
    post({**FORM, "liaison_assigned_on": "2026-09-21"})
    request = db.session.scalars(select(ChangeRequest)).one()
    assert services.proposed_changes(request) == {
        "liaison_assigned_on": ["2026-09-20", "2026-09-21"]
    }
    assert row().liaison_assigned_on == date(2026, 9, 20)
    services.decide_change(db.session, request, True, coord)
    db.session.commit()
    assert row().liaison_assigned_on == date(2026, 9, 21)

    # 乙's board item shows its 隶属关系 and who was sent.
    item = db.session.scalars(select(BoardItem).where(BoardItem.organization_id == b.id)).one()
    html = client.get(f"/campaigns/{campaign.id}/items/{item.id}").get_data(as_text=True)
    assert "隶属关系：未填（未理顺） · 第一书记（指导员）：未选派" in html
