"""The change record as people read it, wherever it is shown: field labels and values in plain
Chinese, people by their names, organizations and units by their names, no hashes, no codes.

A day of work goes through the real services (ledger rows created, corrected, moved, taken
out of the base and put back; plans, notes, closures of every method submitted, returned,
verified, revoked by a spot check; accounts and units created, changed, disabled), then every
entry of the record is rendered (campaign.display.change_record) and the item, user and unit
pages are read: none may show an English identifier (``work_coverage``, ``none``, ``True``,
a login name), a SHA-256 or a bare id where a name exists.
"""

import re
from datetime import date
from pathlib import Path

from sqlalchemy import select

from campaign import display
from campaign.audit import AuditEntry
from campaign.board import services as board
from campaign.board.inputs import ClosureClaim, Plan
from campaign.board.models import BoardItem, SizeMode
from campaign.core import accounts, units
from campaign.core.account_inputs import UserChanges
from campaign.core.extensions import db
from campaign.core.unit_inputs import UnitChanges
from campaign.core.vocab import OperatingStatus, UnitKind
from campaign.ledger import services as ledger
from campaign.ledger.models import ChangeAction, ChangeRequest
from tests import documents
from tests.conftest import PASSWORD, login, make_campaign, make_org, make_unit
from tests.timeutil import at

PDF = ("批复文件.pdf", documents.pdf("change record"))
# An English word or identifier: a run of letters with a lowercase one or an underscore
# (``work_coverage``, ``none``, ``True``, ``zhang-op``'s parts); credit codes (digits and
# capitals) and dates are not.
IDENTIFIER = re.compile(r"[A-Za-z_]*[a-z_][A-Za-z_]*")
HEX = re.compile(r"(?=[0-9a-f]*[a-f])[0-9a-f]{16,}")


def _english(text: str, allowed: set[str]) -> list[str]:
    for value in allowed:
        text = text.replace(value, "")
    return [w for w in IDENTIFIER.findall(text) if len(w) > 1] + HEX.findall(text)


def _day_of_work(app):
    storage = Path(app.config["STORAGE_PATH"])
    campaign = make_campaign(2026)
    jiangan = make_unit("jiangan", "江岸区")
    wuchang = make_unit("wuchang", "武昌区")
    street = make_unit("erqi", "二七街道", kind=UnitKind.STREET, parent=jiangan, responsible=False)
    admin = accounts.create_user(db.session, "root", "admin", PASSWORD, display_name="系统管理员甲")
    operator = accounts.create_user(
        db.session, "zhang-op", "operator", PASSWORD, "jiangan", display_name="张填报"
    )
    leader = accounts.create_user(
        db.session, "li-leader", "leader", PASSWORD, "jiangan", display_name="李负责", actor=admin
    )
    coordinator = accounts.create_user(
        db.session, "city", "coordinator", PASSWORD, display_name="王专班", actor=admin
    )
    coverage = make_org(campaign, jiangan, name="覆盖甲", employees=10, area=street)
    standalone = make_org(campaign, jiangan, name="单独乙", employees=120, formal=3)
    joint = make_org(campaign, jiangan, name="联合丙", employees=20, formal=1)
    covered = make_org(campaign, jiangan, name="被覆盖丁", employees=20, formal=1)
    moved = make_org(campaign, jiangan, name="转出戊", employees=10)
    shell = make_org(campaign, jiangan, name="空壳己", employees=10)
    board.sync_items(db.session, campaign)

    def item(org) -> BoardItem:
        return db.session.scalar(select(BoardItem).where(BoardItem.organization_id == org.id))

    def close(org, **claimed) -> None:
        claim = ClosureClaim.from_form(claimed)
        board.submit_closure(db.session, item(org), claim, PDF, operator, storage)

    with at(2026, 11, 20, 10, 0):
        board.update_plan(
            db.session,
            item(coverage),
            Plan.of(item(coverage), planned_on=date(2026, 11, 30), responsible_person="赵六"),
            operator,
        )
        board.add_note(db.session, item(coverage), "已约谈企业负责人", operator)
        close(coverage, method="work_coverage", instructor="张伟", mass_organizations="工会")
        board.return_closure(db.session, item(coverage), "指导员未到岗", leader)
        close(coverage, method="work_coverage", instructor="张伟", mass_organizations="工会")
        board.verify_closure(db.session, item(coverage), leader)
        close(
            standalone,
            method="standalone",
            party_org_name="单独乙党支部",
            established_on="2026-10-08",
            formal_members="3",
            secretary="孙书记",
        )
        board.verify_closure(db.session, item(standalone), leader)
        close(
            joint,
            method="joint",
            joint_form="区域联建",
            party_org_name="联合丙丁联合党支部",
            established_on="2026-10-09",
            formal_members="2",
            secretary="周书记",
            covered_codes=covered.credit_code,
        )
        board.verify_closure(db.session, item(joint), leader)
        check = board.draw(db.session, campaign, None, SizeMode.PERCENT, 100, coordinator, seed=7)
        for result in check.results:
            passed = result.closure.item_id != item(joint).id
            board.record_result(
                db.session, result, passed, {}, "" if passed else "无会议记录", coordinator
            )
        ledger.update_organization(
            db.session, campaign, moved, {"unit_id": wuchang.id, "employees": 12}, operator
        )
        ledger.exclude_organization(
            db.session, shell, OperatingStatus.SHELL, "工商核实为空壳", coordinator
        )
        ledger.restore_organization(db.session, shell, "复核后恢复经营", coordinator)
        request = ChangeRequest(
            campaign_id=campaign.id,
            unit_id=jiangan.id,
            organization_id=standalone.id,
            action=ChangeAction.UPDATE,
            credit_code=standalone.credit_code,
            payload={"employees": 130, "investor_is_member": True},
            reason="导入文件",
        )
        db.session.add(request)
        db.session.flush()
        ledger.decide_change(db.session, request, True, coordinator, "核实无误")
        accounts.update_user(
            db.session,
            operator,
            UserChanges(display_name="张填报员", email="zhang@example.cn"),
            admin,
        )
        accounts.disable_user(db.session, operator, admin)
        accounts.enable_user(db.session, operator, admin)
        accounts.reset_password(db.session, operator, admin)
        units.update_unit(db.session, street, UnitChanges(name="二七街道办", position=3), admin)
        db.session.commit()
    return campaign, [coverage, standalone, joint, covered, moved, shell]


# Values a user typed that are English by nature: login names, an e-mail address, unit codes.
TYPED = {
    "批复文件.pdf",
    "zhang-op",
    "li-leader",
    "root",
    "city",
    "zhang@example.cn",
    "jiangan",
    "wuchang",
    "erqi",
}


def test_every_entry_of_a_day_of_work_reads_in_plain_chinese(app):
    _day_of_work(app)
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    kinds = {e.action for e in entries}
    # Every kind of act the day did is in the record (so each was rendered below).
    assert {
        "organization.create",
        "organization.update",
        "organization.closure",
        "organization.closure_revoked",
        "organization.exclude",
        "organization.restore",
        "item.plan",
        "item.note",
        "item.follow",
        "closure.submit",
        "closure.return",
        "closure.verify",
        "closure.revoke",
        "spot_check.draw",
        "spot_check.result",
        "change_request.accepted",
        "user.create",
        "user.update",
        "user.disable",
        "user.enable",
        "user.reset_password",
        "unit.update",
    } <= kinds
    for entry, shown in zip(entries, display.change_record(db.session, entries), strict=True):
        text = "｜".join((shown.who, shown.action, shown.before, shown.after))
        assert not _english(text, TYPED), (entry.action, text)


def test_the_item_page_tells_the_story_by_names_and_labels(app):
    campaign, orgs = _day_of_work(app)
    coverage, _, joint, *_ = orgs
    client = app.test_client()
    login(client, "li-leader")

    def history(org) -> str:
        item = db.session.scalar(select(BoardItem).where(BoardItem.organization_id == org.id))
        html = client.get(f"/campaigns/{campaign.id}/items/{item.id}").get_data(as_text=True)
        table = html.split('id="history"', 1)[1].split("</table>", 1)[0]
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", table))

    shown = history(coverage)
    assert not _english(shown, TYPED), shown
    # The submission records what the operator entered, by whom (his name, not his login).
    assert "提交销号" in shown and "组建方式：工作覆盖" in shown
    assert "党建工作指导员：张伟" in shown and "群团组织：工会" in shown
    assert "批复文件：批复文件.pdf" in shown
    assert "张填报员" in shown and "李负责" in shown
    assert "街道（乡镇）/园区：二七街道办" in shown  # the area by its (current) name
    joint_story = history(joint)
    assert not _english(joint_story, TYPED), joint_story
    # The joint Party org covered 被覆盖丁: named, not numbered; the revocation put the ledger
    # back from 联合组建 to 未建.
    assert "涉及组织：联合丙、被覆盖丁" in joint_story
    assert "联合组建方式：区域联建" in joint_story
    assert "联合组建覆盖的组织：被覆盖丁" in joint_story
    assert "党组织状态：联合组建" in joint_story and "党组织状态：未建" in joint_story
    assert "撤销销号" in joint_story and "王专班" in joint_story


def test_the_user_and_unit_pages_name_people_not_logins(app):
    _day_of_work(app)
    client = app.test_client()
    login(client, "root")

    def history(path: str) -> str:
        html = client.get(path).get_data(as_text=True)
        table = html.split('id="history"', 1)[1].split("</table>", 1)[0]
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", table))

    user = history("/users/zhang-op")
    assert not _english(user, TYPED), user
    assert "系统管理员甲" in user and "姓名：张填报员" in user and "角色：单位填报员" in user
    assert "状态：停用" in user and "状态：启用" in user
    unit = history("/units/erqi")
    assert not _english(unit, TYPED), unit
    assert "单位名称：二七街道办" in unit and "系统管理员甲" in unit
