"""挂图作战 and 销号 services (DOMAIN.md §5-§7), with expected values worked out by hand.

The campaign is the 2026 edition of seed 004: it starts on 2026-08-14. "Today" is fixed at
2026-11-15 10:00 Beijing time unless a test says otherwise.

The ledger (``w`` below):

  江岸区 (a district)
    大企业   enterprise, 120 staff, 0 members, no Party org
             -> 应建党组织 (100+ staff), path 工作覆盖并发展党员: an item
    已联建   enterprise,  60 staff, 1 formal, 联合组建 (founded 2026-09-01)
             -> 应有党员 (50+ staff): has a member and a Party org (work coverage): no item
    小企业   enterprise,  10 staff, nothing
             -> 实现工作覆盖, path 工作覆盖并发展党员: an item
    四党员   enterprise,  10 staff, 4 formal, no Party org
             -> 应单独组建, path 单独组建: an item
    空壳     enterprise, 200 staff, 空壳 -> out of the base: no item
  武昌区
    武昌三党员 enterprise, 10 staff, 3 formal, no Party org -> 应单独组建: an item

Figures before any closure: base 5 (excluded 1); with a Party org 1 (已联建), standalone 0;
work-covered 1; must have a Party org 3 (大企业, 四党员, 武昌三党员), of them met 0; by target
应单独组建 2 (四党员, 武昌三党员), 应建党组织 1 (大企业), 应有党员 1 (已联建, met),
实现工作覆盖 1 (小企业): the 4 short are the board's 4 items.
"""

import hashlib
import json
import random
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from campaign import audit, figures, rules
from campaign.board import services as board
from campaign.board.inputs import ClosureClaim, Plan
from campaign.board.models import BoardItem, Closure, ItemNote, SpotCheckResult
from campaign.core.errors import Conflict, ValidationFailed
from campaign.core.extensions import db
from campaign.figures import Counts
from campaign.ledger import creditcode
from campaign.ledger import services as ledger
from campaign.ledger.services import LEDGER_FIELDS
from tests import documents
from tests.conftest import loaded, login, make_campaign, make_org, make_unit, make_user, refs
from tests.timeutil import at, machine_zone

PDF = ("批复文件.pdf", documents.pdf("board test"))


BASELINE = Counts(
    base=5,
    excluded=1,
    with_party_org=1,
    standalone=0,
    work_covered=1,
    required=3,
    required_met=0,
    member_required=2,  # 大企业 (120), 已联建 (60)
    member_required_met=1,  # 已联建
    party_org_required_by_size=1,  # 大企业
    party_org_required_by_size_met=0,
    # By target: what the board holds open is what is due and not met.
    due_standalone=2,  # 四党员, 武昌三党员
    met_standalone=0,
    due_party_org=1,  # 大企业
    met_party_org=0,
    due_member=1,  # 已联建
    met_member=1,
    due_work_coverage=1,  # 小企业
    met_work_coverage=0,
)


@pytest.fixture
def today():
    with at(2026, 11, 15, 10, 0):
        yield


@pytest.fixture
def w(app, today, built_once):
    built = loaded(built_once("tests.board.w", _build_w))
    return SimpleNamespace(app=app, **vars(built), storage=Path(app.config["STORAGE_PATH"]))


def _build_w() -> SimpleNamespace:
    campaign = make_campaign(2026)
    jiangan = make_unit("jiangan", "江岸区")
    wuchang = make_unit("wuchang", "武昌区")
    built = SimpleNamespace(
        campaign=campaign,
        jiangan=jiangan,
        wuchang=wuchang,
        operator=make_user("jiangan-op", "operator", jiangan),
        leader=make_user("jiangan-leader", "leader", jiangan),
        coordinator=make_user("city", "coordinator"),
        big=make_org(campaign, jiangan, name="大企业", employees=120),
        joint=make_org(
            campaign,
            jiangan,
            name="已联建",
            employees=60,
            formal=1,
            party_org="joint",
            founded_on=date(2026, 9, 1),
        ),
        small=make_org(campaign, jiangan, name="小企业", employees=10),
        four=make_org(campaign, jiangan, name="四党员", employees=10, formal=4),
        shell=make_org(campaign, jiangan, name="空壳", employees=200, status="shell"),
        other=make_org(campaign, wuchang, name="武昌三党员", employees=10, formal=3),
    )
    db.session.commit()
    return refs(built)


def counts(w, unit_ids=None) -> Counts:
    return figures.overall(db.session, w.campaign, unit_ids).counts


def synced(w):
    board.sync_items(db.session, w.campaign)
    db.session.commit()
    return w


def item_of(org) -> BoardItem | None:
    return db.session.scalar(select(BoardItem).where(BoardItem.organization_id == org.id))


def refused(fn) -> list[str]:
    """The messages of a refusal; the session is rolled back as the views do (webforms)."""
    with pytest.raises(ValidationFailed) as caught:
        fn()
    db.session.rollback()
    return caught.value.messages


def conflicted(fn) -> str:
    """The message of an act refused because its record is no longer in the state it needs
    (done already: a double submission, or another's act first); rolled back likewise."""
    with pytest.raises(Conflict) as caught:
        fn()
    db.session.rollback()
    return caught.value.message


def standalone(members=4, on="2026-10-08", name="四党员公司党支部", **extra) -> dict:
    return {
        "method": "standalone",
        "party_org_name": name,
        "secretary": "张书记",
        "formal_members": str(members),
        "established_on": on,
        **extra,
    }


def joint(covered="", members=1, form="区域联建", name="江岸联合党支部", **extra) -> dict:
    return {
        "method": "joint",
        "joint_form": form,
        "party_org_name": name,
        "secretary": "李书记",
        "formal_members": str(members),
        "established_on": "2026-10-20",
        "covered_codes": covered,
        **extra,
    }


def coverage(instructor="王指导员", mass="工会") -> dict:
    return {"method": "work_coverage", "instructor": instructor, "mass_organizations": mass}


def submit(w, item, raw, document=PDF) -> Closure:
    closure = board.submit_closure(
        db.session, item, ClosureClaim.from_form(raw), document, w.operator, w.storage
    )
    db.session.commit()
    return closure


def verify(w, item) -> Closure:
    closure = board.verify_closure(db.session, item, w.leader)
    db.session.commit()
    return closure


def close(w, org, raw) -> Closure:
    item = item_of(org)
    submit(w, item, raw)
    return verify(w, item)


def entries(action: str) -> list[audit.AuditEntry]:
    return list(
        db.session.scalars(
            select(audit.AuditEntry)
            .where(audit.AuditEntry.action == action)
            .order_by(audit.AuditEntry.id)
        )
    )


# ---- sync_items -------------------------------------------------------------------


def test_the_ledger_baseline_is_as_worked_out(w):
    assert counts(w) == BASELINE


def test_sync_puts_on_the_board_exactly_the_orgs_below_their_target(w):
    assert board.sync_items(db.session, w.campaign, [w.jiangan.id]) == 3
    assert board.sync_items(db.session, w.campaign) == 1  # 武昌三党员
    db.session.commit()

    items = {i.organization.name: i for i in db.session.scalars(select(BoardItem))}
    assert set(items) == {"大企业", "小企业", "四党员", "武昌三党员"}
    assert (items["大企业"].target, items["大企业"].path) == ("party_org", "grow_members")
    assert (items["小企业"].target, items["小企业"].path) == ("work_coverage", "grow_members")
    assert (items["四党员"].target, items["四党员"].path) == ("standalone", "standalone")
    assert (items["武昌三党员"].target, items["武昌三党员"].unit_id) == (
        "standalone",
        w.wuchang.id,
    )
    assert {i.state for i in items.values()} == {"todo"}
    assert items["大企业"].unit_id == w.jiangan.id


def test_sync_twice_creates_nothing_new(w):
    assert board.sync_items(db.session, w.campaign) == 4
    db.session.commit()
    assert board.sync_items(db.session, w.campaign) == 0
    assert board.sync_items(db.session, w.campaign, [w.jiangan.id]) == 0
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(BoardItem)) == 4


def test_sync_keeps_a_closed_item_and_adds_no_second_one(w):
    synced(w)
    close(w, w.four, standalone())
    assert board.sync_items(db.session, w.campaign) == 0
    assert item_of(w.four).state == "closed"


# ---- plans and notes ----------------------------------------------------------------


def test_update_plan_changes_the_plan_moves_todo_to_in_progress_and_is_recorded(w):
    synced(w)
    item = item_of(w.big)
    changed = board.update_plan(
        db.session,
        item,
        Plan.from_form(
            {
                "path": "joint",
                "joint_form": "区域联建",
                "measures": " 选派党建指导员，发展一名党员 ",
                "planned_on": "2026-11-30",
                "responsible_person": "王五",
            }
        ),
        w.operator,
    )
    db.session.commit()
    assert changed == {
        "path": "joint",
        "joint_form": "区域联建",
        "measures": "选派党建指导员，发展一名党员",
        "planned_on": "2026-11-30",
        "responsible_person": "王五",
    }
    item = item_of(w.big)
    assert item.state == "in_progress"
    assert (item.path, item.joint_form, item.planned_on) == (
        "joint",
        "区域联建",
        date(2026, 11, 30),
    )
    assert item.version == 2

    [entry] = entries("item.plan")
    assert (entry.object_type, entry.object_id, entry.actor) == (
        "board_item",
        str(item.id),
        "jiangan-op",
    )
    assert json.loads(entry.before) == {
        "path": "grow_members",
        "joint_form": "",
        "measures": "",
        "planned_on": None,
        "responsible_person": "",
    }
    assert json.loads(entry.after) == changed


def test_update_plan_on_an_item_in_progress_keeps_it_in_progress_and_records_only_changes(w):
    synced(w)
    item = item_of(w.small)
    board.update_plan(
        db.session, item, Plan.from_form({"path": "grow_members", "measures": "甲"}), w.operator
    )
    changed = board.update_plan(
        db.session, item, Plan.from_form({"path": "grow_members", "measures": "乙"}), w.operator
    )
    db.session.commit()
    assert changed == {"measures": "乙"}
    assert item_of(w.small).state == "in_progress"
    assert [json.loads(e.before) for e in entries("item.plan")][-1] == {"measures": "甲"}


def test_a_joint_form_is_dropped_when_the_path_is_not_joint(w):
    synced(w)
    item = item_of(w.four)
    board.update_plan(
        db.session, item, Plan.from_form({"path": "standalone", "joint_form": "区域联建"}), None
    )
    db.session.commit()
    assert item_of(w.four).joint_form == ""


@pytest.mark.parametrize(
    "raw, message",
    [
        (
            {"path": "joint", "joint_form": "随便组建"},
            "「联合组建方式」应为：区域联建、同业共建、挂靠组建、派驻帮建、龙头带建",
        ),
        (
            {"path": "joint", "planned_on": "2026-13-01"},
            "「计划完成时间」应为日期，而不是“2026-13-01”",
        ),
        ({"path": "joint", "planned_on": "下个月"}, "「计划完成时间」应为日期，而不是“下个月”"),
        ({"path": "somewhere"}, "「推进路径」无效：somewhere"),
    ],
)
def test_update_plan_refuses_a_bad_joint_form_or_date(w, raw, message):
    synced(w)
    item = item_of(w.big)
    assert refused(
        lambda: board.update_plan(db.session, item, Plan.from_form(raw), w.operator)
    ) == [message]
    item = item_of(w.big)
    assert (item.state, item.path, item.joint_form, item.planned_on) == (
        "todo",
        "grow_members",
        "",
        None,
    )
    assert entries("item.plan") == []


def test_update_plan_lists_every_problem_at_once(w):
    synced(w)
    item = item_of(w.big)
    messages = refused(
        lambda: board.update_plan(
            db.session,
            item,
            Plan.from_form({"path": "joint", "joint_form": "x", "planned_on": "y"}),
            None,
        )
    )
    assert len(messages) == 2 and "联合组建方式" in messages[0] and "计划完成时间" in messages[1]


def test_a_note_is_dated_today_and_moves_todo_to_in_progress(w):
    synced(w)
    item = item_of(w.small)
    assert refused(lambda: board.add_note(db.session, item, "   ", w.operator)) == [
        "进展情况不能为空"
    ]
    item = item_of(w.small)
    board.add_note(db.session, item, " 已联系工会 ", w.operator)
    db.session.commit()
    [note] = db.session.scalars(select(ItemNote)).all()
    assert (note.noted_on, note.text, note.user_id) == (
        date(2026, 11, 15),
        "已联系工会",
        w.operator.id,
    )
    assert item_of(w.small).state == "in_progress"
    [entry] = entries("item.note")
    assert json.loads(entry.after) == {"noted_on": "2026-11-15", "text": "已联系工会"}


def test_a_note_just_after_midnight_in_beijing_is_dated_in_beijing(w):
    synced(w)
    # 2026-11-16 00:30 in Beijing is still 2026-11-15 in UTC and in New York.
    with machine_zone("America/New_York"), at(2026, 11, 16, 0, 30):
        note = board.add_note(db.session, item_of(w.small), "夜间走访", None)
    assert note.noted_on == date(2026, 11, 16)


# ---- submit_closure: checked against the rules ------------------------------------------


def test_standalone_with_two_formal_members_is_refused(w):
    synced(w)
    assert refused(lambda: submit(w, item_of(w.four), standalone(members=2))) == [
        "单独组建须有3名以上正式党员（填报2名）"
    ]
    assert item_of(w.four).state == "todo"
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 0


def test_standalone_with_exactly_three_formal_members_is_accepted(w):
    synced(w)
    closure = submit(w, item_of(w.other), standalone(members=3, name="武昌党支部"))
    assert closure.status == "pending"


def test_an_item_whose_target_is_standalone_cannot_close_by_joint(w):
    synced(w)
    assert refused(lambda: submit(w, item_of(w.four), joint())) == [
        "该组织有3名以上正式党员，按规定须单独组建"
    ]


@pytest.mark.parametrize("org", ["big", "four"])
def test_work_coverage_cannot_close_an_org_that_must_have_a_party_org(w, org):
    synced(w)
    assert refused(lambda: submit(w, item_of(getattr(w, org)), coverage())) == [
        "该组织按规则应建立党组织，工作覆盖不能销号"
    ]


def test_work_coverage_needs_an_instructor_or_a_mass_organization(w):
    synced(w)
    assert refused(lambda: submit(w, item_of(w.small), coverage(" ", ""))) == [
        "工作覆盖须填写党建工作指导员或群团组织"
    ]


def test_a_method_is_required(w):
    synced(w)
    assert refused(lambda: submit(w, item_of(w.four), {"method": "self_declared"})) == [
        "请选择组建方式"
    ]


def test_every_missing_field_is_named_at_once(w):
    synced(w)
    messages = refused(
        lambda: board.submit_closure(
            db.session,
            item_of(w.four),
            ClosureClaim.from_form({"method": "standalone"}),
            None,
            None,
            w.storage,
        )
    )
    assert messages == [
        "「党组织名称」不能为空",
        "「书记（负责人）」不能为空",
        "「成立时间」不能为空",
        "单独组建须有3名以上正式党员（填报0名）",
        "请上传批复文件（PDF或图片）",
    ]


@pytest.mark.parametrize(
    "on, message",
    [
        ("2026-08-13", "成立时间（2026-08-13）早于本次行动开始（2026-08-14），不属于本次集中组建"),
        ("2015-01-01", "成立时间（2015-01-01）早于本次行动开始（2026-08-14），不属于本次集中组建"),
        ("2026-11-16", "成立时间（2026-11-16）不能晚于今天"),
        ("2026/10/01", "「成立时间」应为日期，而不是“2026/10/01”"),
    ],
)
def test_established_on_must_fall_between_the_campaign_start_and_today(w, on, message):
    synced(w)
    assert refused(lambda: submit(w, item_of(w.four), standalone(on=on))) == [message]


@pytest.mark.parametrize("on", ["2026-08-14", "2026-11-15"])
def test_established_on_the_first_day_or_today_is_accepted(w, on):
    synced(w)
    assert submit(w, item_of(w.four), standalone(on=on)).established_on == date.fromisoformat(on)


def test_today_is_the_beijing_date_whatever_the_machine_zone(w):
    synced(w)
    # 00:30 on 11-16 in Beijing is 16:30 on 11-15 UTC: a Party org founded "today" (11-16)
    # is accepted, one founded 11-17 is not.
    with machine_zone("UTC"), at(2026, 11, 16, 0, 30):
        assert refused(lambda: submit(w, item_of(w.four), standalone(on="2026-11-17"))) == [
            "成立时间（2026-11-17）不能晚于今天"
        ]
        assert submit(w, item_of(w.four), standalone(on="2026-11-16")).status == "pending"


def test_a_non_integer_member_count_is_refused_for_a_joint_closure(w):
    synced(w)
    assert refused(lambda: submit(w, item_of(w.big), joint(members="一"))) == [
        "「正式党员数」应为非负整数，而不是“一”"
    ]


def test_a_non_integer_member_count_is_refused_for_a_standalone_closure(w):
    synced(w)
    messages = refused(lambda: submit(w, item_of(w.four), standalone(members="三")))
    assert messages == ["「正式党员数」应为非负整数，而不是“三”"]


def test_a_document_is_required(w):
    synced(w)
    assert refused(lambda: submit(w, item_of(w.four), standalone(), document=None)) == [
        "请上传批复文件（PDF或图片）"
    ]


@pytest.mark.parametrize(
    "document, message",
    [
        (
            ("批复.docx", b"PK\x03\x04"),
            "批复文件《批复.docx》类型不允许（可用：.jpeg、.jpg、.pdf、.png）",
        ),
        (
            ("批复.xlsx", b"PK\x03\x04"),
            "批复文件《批复.xlsx》类型不允许（可用：.jpeg、.jpg、.pdf、.png）",
        ),
        (("批复.pdf", b""), "批复文件《批复.pdf》是空文件"),
    ],
)
def test_the_document_must_be_a_pdf_or_an_image(w, document, message):
    synced(w)
    assert refused(lambda: submit(w, item_of(w.four), standalone(), document=document)) == [message]
    assert item_of(w.four).state == "todo"
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 0


KIND = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}


@pytest.mark.parametrize("name", ["批复.pdf", "照片.JPG", "扫描件.jpeg", "截图.png"])
def test_pdf_and_images_are_accepted_and_stored_with_their_hash(w, name):
    synced(w)
    suffix = Path(name).suffix.lower()
    data = documents.pdf(name) if suffix == ".pdf" else documents.image(KIND[suffix], name)
    closure = submit(w, item_of(w.four), standalone(), document=(name, data))
    assert closure.document_name == name
    # Kept relative to the storage root (so a restore elsewhere finds it), named by its hash.
    digest = hashlib.sha256(data).hexdigest()
    assert closure.document_path == f"closures/{item_of(w.four).id}-{digest[:16]}{suffix}"
    assert (w.storage / closure.document_path).read_bytes() == data
    assert closure.document_sha256 == digest


def test_a_joint_closure_names_covered_orgs_by_credit_code_and_an_unknown_one_is_refused(w):
    synced(w)
    unknown = creditcode.make(987654)
    raw = joint(covered=f"{w.small.credit_code}，{unknown}")
    assert refused(lambda: submit(w, item_of(w.big), raw)) == [f"本单位台账中没有：{unknown}"]
    assert item_of(w.big).state == "todo"


def test_a_joint_closure_cannot_cover_an_org_of_another_unit(w):
    synced(w)
    raw = joint(covered=w.other.credit_code)
    assert refused(lambda: submit(w, item_of(w.big), raw)) == [
        f"本单位台账中没有：{w.other.credit_code}"
    ]


def test_covered_codes_are_read_in_any_case_and_separator(w):
    synced(w)
    raw = joint(covered=f" {w.small.credit_code.lower()}\n， ")
    closure = submit(w, item_of(w.big), raw)
    assert closure.covered_org_ids == [w.small.id]


def test_a_joint_closure_needs_a_joint_form(w):
    synced(w)
    assert refused(lambda: submit(w, item_of(w.big), joint(form="自行组建"))) == [
        "「联合组建方式」应为：区域联建、同业共建、挂靠组建、派驻帮建、龙头带建"
    ]


def test_a_valid_submission_awaits_verification_and_is_recorded(w):
    synced(w)
    item = item_of(w.four)
    closure = submit(w, item, standalone(members=5))
    item = item_of(w.four)
    assert item.state == "awaiting"
    assert (closure.status, closure.method, closure.formal_members) == ("pending", "standalone", 5)
    assert (closure.established_on, closure.submitted_by_id) == (date(2026, 10, 8), w.operator.id)
    assert board.pending_closure(item).id == closure.id
    [entry] = entries("closure.submit")
    assert json.loads(entry.after) == {
        "closure": closure.id,
        "method": "standalone",
        # What the operator entered for this method, all of it, and the file he chose.
        "party_org_name": "四党员公司党支部",
        "established_on": "2026-10-08",
        "formal_members": 5,
        "secretary": "张书记",
        "document_name": "批复文件.pdf",
        "document_sha256": hashlib.sha256(PDF[1]).hexdigest(),
    }


def test_submitting_again_while_awaiting_is_refused(w):
    synced(w)
    submit(w, item_of(w.four), standalone())
    assert (
        conflicted(lambda: submit(w, item_of(w.four), standalone()))
        == "该组织当前为“待核验”，不能提交销号"
    )
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 1


def test_a_closed_item_cannot_be_submitted_again(w):
    synced(w)
    close(w, w.four, standalone())
    assert (
        conflicted(lambda: submit(w, item_of(w.four), standalone()))
        == "该组织当前为“已销号”，不能提交销号"
    )


# ---- only verified closures count ----------------------------------------------------


def test_a_standalone_closure_counts_only_once_verified(w):
    synced(w)
    item = item_of(w.four)
    submit(w, item, standalone(members=5))
    assert counts(w) == BASELINE

    closure = verify(w, item_of(w.four))
    c = counts(w)
    assert (c.with_party_org, c.standalone, c.work_covered, c.required_met) == (2, 1, 2, 1)
    assert c.base == 5

    org = db.session.get(type(w.four), w.four.id)
    assert (org.party_org_status, org.party_org_name, org.party_org_founded_on) == (
        "standalone",
        "四党员公司党支部",
        date(2026, 10, 8),
    )
    assert org.formal_members == 5  # the larger of the ledger (4) and the closure (5)
    assert org.target == "standalone"
    assert rules.meets(org, rules.evaluate(org, rules.Thresholds.of(w.campaign)))
    item = item_of(w.four)
    assert (item.state, item.work_coverage_only, closure.status) == ("closed", False, "verified")
    assert closure.decided_by_id == w.leader.id
    assert [json.loads(e.after)["party_org_status"] for e in entries("organization.closure")] == [
        "standalone"
    ]
    assert audit.verify_chain(db.session) is None


def test_the_ledger_keeps_its_member_count_when_the_closure_states_fewer(w):
    synced(w)
    close(w, w.four, standalone(members=3))
    assert db.session.get(type(w.four), w.four.id).formal_members == 4


def test_a_joint_closure_counts_its_org_and_every_covered_org_once_verified(w):
    synced(w)
    item = item_of(w.big)
    submit(w, item, joint(covered=w.small.credit_code, members=1))
    assert counts(w) == BASELINE
    assert item_of(w.small).state == "todo"

    verify(w, item_of(w.big))
    c = counts(w)
    # 大企业 and 小企业 now have the joint Party org: 1 + 2 = 3 of 5.
    assert (c.with_party_org, c.standalone, c.work_covered) == (3, 0, 3)
    assert (c.required_met, c.party_org_required_by_size_met, c.member_required_met) == (1, 1, 2)
    big, small = (db.session.get(type(w.big), o.id) for o in (w.big, w.small))
    for org in (big, small):
        assert (org.party_org_status, org.party_org_name, org.party_org_founded_on) == (
            "joint",
            "江岸联合党支部",
            date(2026, 10, 20),
        )
    assert (big.formal_members, small.formal_members) == (1, 0)
    assert item_of(w.big).state == "closed"
    assert item_of(w.small).state == "closed"  # covered: leaves the board with it
    [entry] = entries("closure.verify")
    assert json.loads(entry.after)["organizations"] == [w.big.id, w.small.id]


def test_verify_with_nothing_awaiting_is_refused(w):
    synced(w)
    assert conflicted(lambda: verify(w, item_of(w.four))) == "没有待核验的销号"


def test_return_needs_a_reason_and_puts_the_item_back_in_progress(w):
    synced(w)
    submit(w, item_of(w.four), standalone())
    assert refused(lambda: board.return_closure(db.session, item_of(w.four), "  ", w.leader)) == [
        "退回时必须填写理由"
    ]
    assert item_of(w.four).state == "awaiting"

    closure = board.return_closure(db.session, item_of(w.four), " 批复文件未盖章 ", w.leader)
    db.session.commit()
    item = item_of(w.four)
    assert (item.state, item.last_reason) == ("in_progress", "批复文件未盖章")
    assert (closure.status, closure.decision_reason) == ("returned", "批复文件未盖章")
    assert counts(w) == BASELINE
    assert conflicted(lambda: verify(w, item_of(w.four))) == "没有待核验的销号"
    assert (
        conflicted(lambda: board.return_closure(db.session, item_of(w.four), "再退", None))
        == "没有待核验的销号"
    )

    # Resubmitted with the stamped document, then verified: now it counts.
    submit(
        w, item_of(w.four), standalone(), document=("批复（盖章）.pdf", documents.pdf("stamped"))
    )
    assert item_of(w.four).state == "awaiting"
    assert counts(w) == BASELINE
    verify(w, item_of(w.four))
    item = item_of(w.four)
    assert (item.state, item.last_reason) == ("closed", "")
    assert [c.status for c in item.closures] == ["verified", "returned"]
    assert counts(w).with_party_org == 2


def test_a_work_coverage_closure_raises_work_coverage_only(w):
    synced(w)
    before = figures.overall(db.session, w.campaign)
    submit(w, item_of(w.small), coverage("王指导员", "工会"))
    verify(w, item_of(w.small))
    after = figures.overall(db.session, w.campaign)

    item = item_of(w.small)
    assert (item.state, item.work_coverage_only) == ("closed", True)
    small = db.session.get(type(w.small), w.small.id)
    assert (small.instructor, small.mass_organizations, small.party_org_status) == (
        "王指导员",
        "工会",
        "none",
    )
    # 党组织覆盖率 stays 1/5; 工作覆盖率 goes from 1/5 to 2/5.
    assert after.party_org_coverage == before.party_org_coverage == 1 / 5
    assert (before.work_coverage, after.work_coverage) == (1 / 5, 2 / 5)
    assert after.counts.with_party_org == BASELINE.with_party_org


# ---- revocation, directly -----------------------------------------------------------


def test_only_a_verified_closure_can_be_revoked_and_only_with_a_reason(w):
    synced(w)
    closure = submit(w, item_of(w.four), standalone())
    assert (
        conflicted(lambda: board.revoke_closure(db.session, closure, "不实", None))
        == "只能撤销已核验的销号"
    )
    closure = verify(w, item_of(w.four))
    assert refused(lambda: board.revoke_closure(db.session, closure, " ", None)) == [
        "撤销销号时必须填写理由"
    ]


def test_revoking_a_joint_closure_restores_every_covered_org_and_reopens_their_items(w):
    synced(w)
    snapshots = {o.id: audit.snapshot(o, LEDGER_FIELDS) for o in (w.big, w.small)}
    submit(w, item_of(w.big), joint(covered=w.small.credit_code, members=2))
    closure = verify(w, item_of(w.big))
    board.revoke_closure(db.session, closure, "联合组建未实际开展活动", w.coordinator)
    db.session.commit()

    for org in (w.big, w.small):
        fresh = db.session.get(type(org), org.id)
        assert audit.snapshot(fresh, LEDGER_FIELDS) == snapshots[org.id]
        item = item_of(org)
        assert (item.state, item.last_reason) == ("reopened", "联合组建未实际开展活动")
    assert counts(w) == BASELINE
    assert audit.verify_chain(db.session) is None


# ---- spot checks ----------------------------------------------------------------------


def five_verified(w) -> list[int]:
    """Five more orgs of 江岸区 with 4 formal members each, closed and verified."""
    orgs = [
        make_org(w.campaign, w.jiangan, name=f"抽查{n}", employees=20, formal=4) for n in range(5)
    ]
    db.session.commit()
    synced(w)
    return [close(w, org, standalone(name=f"抽查{n}党支部")).id for n, org in enumerate(orgs)]


def test_a_draw_is_reproducible_from_its_seed_and_population(w):
    population = five_verified(w)
    check = board.draw(db.session, w.campaign, None, "count", 2, w.coordinator, seed=42)
    db.session.commit()

    assert check.population_ids == sorted(population)
    drawn = check.drawn_ids
    assert drawn == sorted(random.Random(42).sample(sorted(population), 2))
    assert len(drawn) == 2 and set(drawn) <= set(population)
    assert board.reproduce(check) == drawn
    assert [r.closure_id for r in check.results] == drawn
    assert {r.result for r in check.results} == {"pending"}
    assert (check.seed, check.size_mode, check.size_value, check.kind) == (
        42,
        "count",
        2,
        "spot_check",
    )
    [entry] = entries("spot_check.draw")
    assert json.loads(entry.after) == {"seed": 42, "population": 5, "drawn": drawn}


def test_a_draw_without_a_seed_records_the_one_it_used(w):
    five_verified(w)
    check = board.draw(db.session, w.campaign, None, "count", 3, None)
    assert check.seed > 0
    assert board.reproduce(check) == check.drawn_ids


@pytest.mark.parametrize(
    "percent, size",
    [(40, 2), (30, 2), (20, 1), (21, 2), (1, 1), (100, 5)],  # ceil(5 × p / 100)
)
def test_a_percentage_draw_rounds_up(w, percent, size):
    population = five_verified(w)
    check = board.draw(db.session, w.campaign, None, "percent", percent, None, seed=7)
    drawn = check.drawn_ids
    assert len(drawn) == size
    assert drawn == sorted(random.Random(7).sample(sorted(population), size))
    assert board.reproduce(check) == drawn


def test_a_count_above_the_population_draws_everything(w):
    population = five_verified(w)
    check = board.draw(db.session, w.campaign, None, "count", 9, None, seed=1)
    assert check.drawn_ids == sorted(population)


def test_a_draw_scoped_to_a_unit_draws_only_its_closures(w):
    jiangan = five_verified(w)
    wuchang = [close(w, w.other, standalone(members=3, name="武昌党支部")).id]
    check = board.draw(db.session, w.campaign, [w.wuchang.id], "count", 3, None, seed=42)
    assert check.population_ids == wuchang
    assert check.drawn_ids == wuchang
    assert check.unit_ids == [w.wuchang.id]
    check = board.draw(db.session, w.campaign, [w.jiangan.id], "percent", 100, None, seed=42)
    assert check.drawn_ids == sorted(jiangan)


def test_only_verified_closures_are_drawn(w):
    synced(w)
    verified = close(w, w.four, standalone())
    submit(w, item_of(w.other), standalone(members=3))  # pending: not drawn
    check = board.draw(db.session, w.campaign, None, "count", 5, None, seed=3)
    assert check.population_ids == [verified.id]


def test_nothing_verified_means_nothing_to_draw(w):
    synced(w)
    submit(w, item_of(w.four), standalone())
    assert refused(lambda: board.draw(db.session, w.campaign, None, "count", 1, None)) == [
        "所选范围内没有已核验的销号"
    ]
    five_verified(w)
    assert refused(
        lambda: board.draw(db.session, w.campaign, [w.wuchang.id], "count", 1, None)
    ) == ["所选范围内没有已核验的销号"]


@pytest.mark.parametrize(
    "mode, value", [("count", 0), ("percent", 0), ("percent", 101), ("all", 5)]
)
def test_a_draw_size_must_make_sense(w, mode, value):
    five_verified(w)
    assert refused(lambda: board.draw(db.session, w.campaign, None, mode, value, None)) == [
        "抽查数量应为正整数，或1至100之间的百分比"
    ]


@pytest.fixture
def checked(w):
    """A draw of every verified closure: 四党员 (formal 4, closure says 5) and 武昌三党员."""
    synced(w)
    w.ledger_before = {o.id: audit.snapshot(o, LEDGER_FIELDS) for o in (w.four, w.other)}
    w.counts_before = counts(w)
    close(w, w.four, standalone(members=5))
    close(w, w.other, standalone(members=3, name="武昌党支部"))
    w.check = board.draw(db.session, w.campaign, None, "count", 2, w.coordinator, seed=42)
    db.session.commit()
    w.results = {r.closure.item.organization_id: r for r in w.check.results}
    return w


def test_a_failed_check_needs_notes(checked):
    w = checked
    result = w.results[w.four.id]
    assert refused(
        lambda: board.record_result(db.session, result, False, {}, "  ", w.coordinator)
    ) == ["不合格时必须填写问题说明"]
    assert db.session.get(SpotCheckResult, result.id).result == "pending"
    assert item_of(w.four).state == "closed"


def test_a_failed_check_revokes_the_closure_and_puts_the_ledger_back_exactly(w, checked):
    after_verification = counts(w)
    assert (after_verification.with_party_org, after_verification.standalone) == (3, 2)
    result = w.results[w.four.id]
    board.record_result(
        db.session,
        result,
        False,
        {"document": True, "members": False},
        "党员人数不实",
        w.coordinator,
    )
    db.session.commit()

    result = db.session.get(SpotCheckResult, result.id)
    assert (result.result, result.notes, result.checked_by_id) == (
        "fail",
        "党员人数不实",
        w.coordinator.id,
    )
    assert result.checklist == {
        "document": True,
        "members": False,
        "secretary": False,
        "activities": False,
    }
    closure = result.closure
    assert (closure.status, closure.decision_reason) == ("revoked", "抽查不合格：党员人数不实")
    item = item_of(w.four)
    assert (item.state, item.last_reason) == ("reopened", "抽查不合格：党员人数不实")

    four = db.session.get(type(w.four), w.four.id)
    assert audit.snapshot(four, LEDGER_FIELDS) == w.ledger_before[w.four.id]
    assert (four.party_org_status, four.party_org_name, four.party_org_founded_on) == (
        "none",
        "",
        None,
    )
    assert four.formal_members == 4  # back from the closure's 5

    # 武昌三党员 untouched; figures back down by exactly one.
    c = counts(w)
    assert (c.with_party_org, c.standalone, c.required_met) == (2, 1, 1)
    assert item_of(w.other).state == "closed"
    assert [e.action for e in entries("organization.closure_revoked")] == [
        "organization.closure_revoked"
    ]
    assert audit.verify_chain(db.session) is None

    # The reopened item can be closed again.
    submit(w, item_of(w.four), standalone(members=4))
    verify(w, item_of(w.four))
    assert counts(w) == after_verification


def test_a_passed_check_leaves_everything(w, checked):
    before = counts(w)
    snapshot = audit.snapshot(db.session.get(type(w.four), w.four.id), LEDGER_FIELDS)
    result = w.results[w.four.id]
    board.record_result(
        db.session, result, True, {k: True for k in board.CHECKLIST}, "", w.coordinator
    )
    db.session.commit()
    assert db.session.get(SpotCheckResult, result.id).result == "pass"
    assert result.closure.status == "verified"
    assert item_of(w.four).state == "closed"
    assert counts(w) == before
    assert audit.snapshot(db.session.get(type(w.four), w.four.id), LEDGER_FIELDS) == snapshot
    assert (
        conflicted(
            lambda: board.record_result(db.session, result, False, {}, "改判", w.coordinator)
        )
        == "该项已有检查结论"
    )


# ---- unit_counts ----------------------------------------------------------------------


def test_unit_counts_by_state_and_overdue(w):
    synced(w)
    plan = {"path": "grow_members"}
    board.update_plan(
        db.session, item_of(w.big), Plan.from_form({**plan, "planned_on": "2026-11-14"}), None
    )
    board.update_plan(
        db.session, item_of(w.small), Plan.from_form({**plan, "planned_on": "2026-11-15"}), None
    )
    board.update_plan(
        db.session,
        item_of(w.four),
        Plan.from_form({"path": "standalone", "planned_on": "2026-10-01"}),
        None,
    )
    db.session.commit()
    close(w, w.four, standalone())  # past its date, but closed: not overdue
    assert board.unit_counts(db.session, w.campaign) == {
        w.jiangan.id: {"in_progress": 2, "closed": 1, "overdue": 1},  # 大企业 (11-14 < 11-15)
        w.wuchang.id: {"todo": 1},
    }
    assert board.unit_counts(db.session, w.campaign, [w.wuchang.id]) == {w.wuchang.id: {"todo": 1}}


# ---- a unit's board: columns and their counts -------------------------------------------


def test_a_column_lists_items_by_planned_date_undated_last_then_by_id(w):
    synced(w)
    social = make_org(w.campaign, w.jiangan, kind="social", name="社会组织", level="district")
    board.sync_items(db.session, w.campaign)
    for org, on in ((w.big, "2026-11-20"), (w.small, ""), (w.four, "2026-11-01")):
        board.update_plan(
            db.session,
            item_of(org),
            Plan.from_form({"path": "grow_members", "planned_on": on}),
            None,
        )
    board.update_plan(
        db.session,
        item_of(social),
        Plan.from_form({"path": "grow_members", "planned_on": ""}),
        None,
    )
    db.session.commit()
    column = board.list_items(db.session, w.campaign, w.jiangan.id, {}, "in_progress")
    assert [i.organization.name for i in column] == ["四党员", "大企业", "小企业", "社会组织"]
    second = board.list_items(db.session, w.campaign, w.jiangan.id, {}, "in_progress", 2, 3)
    assert [i.organization.name for i in second] == ["社会组织"]
    assert board.column_counts(db.session, w.campaign, w.jiangan.id, {}) == {"in_progress": 4}


def test_column_counts_follow_the_filters(w):
    synced(w)
    social = make_org(w.campaign, w.jiangan, kind="social", name="社会组织", level="district")
    board.sync_items(db.session, w.campaign)
    board.update_plan(
        db.session,
        item_of(w.big),
        Plan.from_form({"path": "grow_members", "planned_on": "2026-11-01"}),
        None,
    )
    board.update_plan(
        db.session,
        item_of(w.four),
        Plan.from_form({"path": "standalone", "planned_on": "2026-10-01"}),
        None,
    )
    db.session.commit()
    close(w, w.four, standalone())  # past its date, but closed: not overdue

    def column_counts(**filters):
        return board.column_counts(db.session, w.campaign, w.jiangan.id, filters)

    assert column_counts() == {"todo": 2, "in_progress": 1, "closed": 1}
    assert column_counts(overdue="1") == {"in_progress": 1}
    assert column_counts(kind="social") == {"todo": 1}
    assert column_counts(kind="enterprise", path="standalone") == {"closed": 1}
    assert column_counts(q="社会") == {"todo": 1}
    assert column_counts(q=w.small.credit_code.lower()) == {"todo": 1}
    todo = board.list_items(db.session, w.campaign, w.jiangan.id, {"kind": "social"}, "todo")
    assert [i.organization_id for i in todo] == [social.id]
    open_ = board.list_items(db.session, w.campaign, w.jiangan.id, {}, "open")
    assert {i.organization_id for i in open_} == {w.big.id, w.small.id, social.id}


# ---- 功能型 Party orgs (seed 004: 以机关事业单位人员为主体组成的社会组织等，可以建立功能型党组织) ----


def functional(members=4, name="协会功能型党支部") -> dict:
    return {
        "method": "functional",
        "party_org_name": name,
        "secretary": "赵书记",
        "formal_members": str(members),
        "established_on": "2026-10-12",
    }


def association(w, formal=4, elsewhere=3):
    """A district-level social organization with 3+ formal members (应单独组建), most of whom
    keep their Party relationship in their 机关事业单位 when ``elsewhere`` is more than half."""
    org = make_org(
        w.campaign,
        w.jiangan,
        kind="social",
        level="district",
        name="研究会",
        employees=40,
        formal=formal,
        elsewhere=elsewhere,
    )
    db.session.commit()
    synced(w)
    return org


def test_a_social_org_whose_members_belong_elsewhere_closes_with_a_functional_org(w):
    org = association(w, formal=4, elsewhere=3)
    item = item_of(org)
    assert (item.target, item.path) == ("standalone", "standalone")
    close(w, org, functional(members=4))
    assert item_of(org).state == "closed"
    row = db.session.get(type(org), org.id)
    assert (row.party_org_status, row.formal_members, row.members_elsewhere) == ("functional", 4, 3)
    # Counted as met where the board closed it: 应建尽建 3 + 1 required, 0 + 1 met.
    c = counts(w)
    assert (c.required, c.required_met) == (4, 1)
    assert (c.due_standalone, c.met_standalone) == (3, 1)
    assert c.with_party_org == 2 and c.standalone == 0


def test_the_item_page_shows_how_many_members_belong_elsewhere(w):
    org = association(w, formal=4, elsewhere=3)
    client = w.app.test_client()
    assert login(client, "jiangan-op").status_code == 302
    page = client.get(f"/campaigns/{w.campaign.id}/items/{item_of(org).id}")
    assert page.status_code == 200
    assert "正式党员4（组织关系在外3）" in page.get_data(as_text=True)


def test_an_enterprise_cannot_close_with_a_functional_org(w):
    synced(w)
    assert refused(lambda: submit(w, item_of(w.four), functional())) == [
        "功能型党组织适用于以机关事业单位人员为主体组成的社会组织，非公企业不能建立功能型党组织"
    ]
    assert refused(lambda: submit(w, item_of(w.big), functional(members=1))) == [
        "功能型党组织适用于以机关事业单位人员为主体组成的社会组织，非公企业不能建立功能型党组织"
    ]
    assert item_of(w.four).state == item_of(w.big).state == "todo"


def test_a_social_org_whose_members_are_its_own_cannot_close_with_a_functional_org(w):
    org = association(w, formal=4, elsewhere=2)  # exactly half: not "mainly" elsewhere
    assert refused(lambda: submit(w, item_of(org), functional())) == [
        "功能型党组织适用于以机关事业单位人员为主体组成的社会组织：组织关系在外的正式党员"
        "（2名）须超过正式党员（4名）的一半"
    ]


def test_a_functional_closure_is_judged_with_the_members_it_states(w):
    # 3 of 4 are elsewhere; a closure stating 8 formal members writes 8 into the row, of
    # whom 3 elsewhere are no longer most.
    org = association(w, formal=4, elsewhere=3)
    assert refused(lambda: submit(w, item_of(org), functional(members=8))) == [
        "功能型党组织适用于以机关事业单位人员为主体组成的社会组织：组织关系在外的正式党员"
        "（3名）须超过正式党员（8名）的一半"
    ]


def test_a_functional_closure_is_judged_again_on_the_ledger_at_verification(w):
    org = association(w, formal=4, elsewhere=3)
    submit(w, item_of(org), functional())
    # Meanwhile the ledger learns that only one of them keeps his relationship elsewhere.
    ledger.update_organization(
        db.session, w.campaign, db.session.get(type(org), org.id), {"members_elsewhere": 1}, None
    )
    db.session.commit()
    assert refused(lambda: verify(w, item_of(org))) == [
        "功能型党组织适用于以机关事业单位人员为主体组成的社会组织：组织关系在外的正式党员"
        "（1名）须超过正式党员（4名）的一半（按核验时的台账），请退回后重新提交"
    ]
    assert item_of(org).state == "awaiting"
    assert db.session.get(type(org), org.id).party_org_status == "none"


def test_a_covered_org_still_without_a_member_stays_on_the_board(w):
    # 60 staff and no member: 应有党员. A joint Party org covering it gives it the Party's
    # work, not a member, so its item stays open, as the figures count it short.
    no_member = make_org(w.campaign, w.jiangan, name="无党员", employees=60)
    db.session.commit()
    synced(w)
    close(w, w.big, joint(covered=f"{w.small.credit_code},{no_member.credit_code}"))
    assert item_of(w.small).state == "closed"
    assert item_of(no_member).state == "todo"
    c = counts(w)
    assert (c.due_member, c.met_member) == (2, 1)  # 已联建 met, 无党员 short
    assert c.with_party_org == 4  # 已联建, 大企业, 小企业, 无党员


# ---- bugs found (strict xfail: each one fails today) ---------------------------------


def test_a_valid_joint_submission_raises_no_sqlalchemy_warning(w):
    synced(w)
    closure = submit(w, item_of(w.big), joint(covered=w.small.credit_code))
    assert closure.status == "pending"


def test_a_joint_closure_stating_three_formal_members_is_refused(w):
    synced(w)
    item = item_of(w.big)
    try:
        submit(w, item, joint(members=3))
    except ValidationFailed:
        return
    verify(w, item_of(w.big))
    big = db.session.get(type(w.big), w.big.id)
    assert rules.meets(big, rules.evaluate(big, rules.Thresholds.of(w.campaign)))


def test_a_joint_closure_does_not_downgrade_a_covered_standalone_party_org(w):
    has_own = make_org(
        w.campaign,
        w.jiangan,
        name="已单建",
        employees=30,
        formal=3,
        party_org="standalone",
        founded_on=date(2026, 9, 5),
    )
    db.session.commit()
    synced(w)
    try:
        submit(w, item_of(w.big), joint(covered=has_own.credit_code))
    except ValidationFailed:
        return
    verify(w, item_of(w.big))
    assert db.session.get(type(has_own), has_own.id).party_org_status == "standalone"
    assert counts(w).standalone == 1


def test_revoking_a_joint_closure_keeps_a_covered_orgs_own_verified_closure(w):
    synced(w)
    # 小企业 claims work coverage; before it is verified, 大企业's joint org covers it too.
    submit(w, item_of(w.small), coverage())
    submit(w, item_of(w.big), joint(covered=w.small.credit_code))
    joint_closure = verify(w, item_of(w.big))
    own = verify(w, item_of(w.small))
    board.revoke_closure(db.session, joint_closure, "联建不实", None)
    db.session.commit()
    small = db.session.get(type(w.small), w.small.id)
    assert own.status == "verified"
    assert item_of(w.small).state == "closed"
    assert small.instructor == "王指导员"


def test_revoking_a_work_coverage_closure_clears_work_coverage_only(w):
    synced(w)
    submit(w, item_of(w.small), coverage())
    closure = verify(w, item_of(w.small))
    board.revoke_closure(db.session, closure, "指导员未到岗", None)
    db.session.commit()
    item = item_of(w.small)
    assert item.state == "reopened"
    assert item.work_coverage_only is False
