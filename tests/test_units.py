"""Units as a tree: add, rename, move, reorder, retire and reactivate; the refusals (a code
that exists, a cycle, a parent of the wrong kind, a unit still in use, control characters);
the change record; a unit added to a running campaign gets its tasks at once."""

import json
from datetime import date

import pytest
from sqlalchemy import select

from campaign.audit import AuditEntry
from campaign.core import units
from campaign.core.errors import Conflict, ValidationFailed
from campaign.core.extensions import db
from campaign.core.models import Unit
from campaign.core.unit_inputs import NewUnit, UnitChanges
from campaign.core.vocab import UnitKind
from campaign.timeline.models import Task
from tests.conftest import make_campaign, make_org, make_unit, make_user
from tests.timeutil import at


@pytest.fixture
def tree(app):
    city = make_unit("city", "市委组织部", kind=UnitKind.CITY, responsible=False)
    jiangan = make_unit("jiangan", "江岸区", parent=city)
    make_unit("erqi", "二七街道", kind=UnitKind.STREET, parent=jiangan, responsible=False)
    make_unit("mzj", "市民政局", kind=UnitKind.DEPARTMENT, parent=city)
    db.session.commit()
    return city


def _add(**fields) -> Unit:
    return units.add_unit(db.session, NewUnit(**fields), "test")


def _refused(action) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as e:
        action()
    db.session.rollback()
    return e.value.problems


def _unit(code: str) -> Unit:
    return db.session.scalar(select(Unit).where(Unit.code == code))


def test_add_a_district_and_a_street_under_it(tree):
    qiaokou = _add(code="qiaokou", name="硚口区", kind=UnitKind.DISTRICT, parent="city")
    street = _add(code="qiaokou-01", name=" 汉中街道 ", kind=UnitKind.STREET, parent="qiaokou")
    db.session.commit()
    assert (qiaokou.parent.code, qiaokou.is_responsible) == ("city", True)
    # The city had jiangan (0, the builder's default) and mzj (0): the next is 1.
    assert qiaokou.position == 1
    assert (street.name, street.parent.code, street.is_responsible, street.position) == (
        "汉中街道",
        "qiaokou",
        False,
        1,
    )
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "unit.create").order_by(AuditEntry.id)
    )
    assert json.loads(entry.after) == {
        "code": "qiaokou",
        "kind": "district",
        "name": "硚口区",
        "parent_code": "city",
        "position": 1,
        "is_responsible": True,
        "active": True,
    }


def test_a_code_that_exists_is_refused_naming_the_unit(tree):
    problems = _refused(lambda: _add(code="jiangan", name="新区", kind="district", parent="city"))
    assert problems == [("code", "「单位代码」“jiangan”已被“江岸区”（jiangan）使用")]
    # The same form posted twice: the second is told it was done.
    _add(code="qiaokou", name="硚口区", kind=UnitKind.DISTRICT, parent="city")
    db.session.commit()
    with pytest.raises(Conflict):
        _add(code="qiaokou", name="硚口区", kind=UnitKind.DISTRICT, parent="city")
    db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(Unit)) == 5


def test_a_parent_of_the_wrong_kind_is_refused(tree):
    problems = _refused(lambda: _add(code="x1", name="某街道", kind=UnitKind.STREET, parent="mzj"))
    assert problems == [("parent", "「上级单位」“市民政局”（mzj）是市直部门：街道只能在区之下")]
    problems = _refused(lambda: _add(code="x2", name="某区", kind=UnitKind.DISTRICT, parent=""))
    assert problems == [("parent", "「上级单位」必填：区须在市委组织部之下")]
    problems = _refused(lambda: _add(code="x3", name="某区", kind=UnitKind.DISTRICT, parent="nope"))
    assert problems == [("parent", "「上级单位」代码“nope”不存在")]
    # Moving the street under a department is refused the same way.
    problems = _refused(
        lambda: units.update_unit(db.session, _unit("erqi"), UnitChanges(parent="mzj"), "test")
    )
    assert problems == [("parent", "「上级单位」“市民政局”（mzj）是市直部门：街道只能在区之下")]


def test_every_problem_at_once_and_bad_codes_and_control_characters(tree):
    problems = _refused(
        lambda: _add(
            code="a b", name="坏\x07名", kind=UnitKind.STREET, parent="jiangan", is_responsible=True
        )
    )
    fields = [f for f, _ in problems]
    assert fields == ["code", "name", "is_responsible"]
    assert "「单位代码」“a b”不可用" in problems[0][1]
    assert "控制字符（U+0007，第2个字）" in problems[1][1]
    assert problems[2][1] == "「责任单位」街道不能是责任单位：只有区和市直部门报送台账"
    assert _unit("a b") is None


def test_moving_a_unit_under_its_own_descendant_is_refused(tree):
    problems = _refused(
        lambda: units.update_unit(db.session, _unit("jiangan"), UnitChanges(parent="erqi"), "t")
    )
    assert problems == [
        (
            "parent",
            "「上级单位」“二七街道”（erqi）是“江岸区”（jiangan）本身或其下级单位：不能把单位移到自己之下",
        )
    ]
    assert _unit("jiangan").parent.code == "city"


def test_rename_move_reorder_recorded_with_before_and_after(tree):
    _add(code="qiaokou", name="硚口区", kind=UnitKind.DISTRICT, parent="city")
    db.session.commit()
    erqi = _unit("erqi")
    done = units.update_unit(
        db.session, erqi, UnitChanges(name="二七新街道", parent="qiaokou", position=5), "test"
    )
    db.session.commit()
    assert done == {"name": "二七新街道", "parent_code": "qiaokou", "position": 5}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "unit.update"))
    assert json.loads(entry.before) == {"name": "二七街道", "parent_code": "jiangan", "position": 0}
    assert json.loads(entry.after) == {
        "name": "二七新街道",
        "parent_code": "qiaokou",
        "position": 5,
    }
    # The same change again records nothing.
    units.update_unit(
        db.session, erqi, UnitChanges(name="二七新街道", parent="qiaokou", position=5), "test"
    )
    db.session.commit()
    assert (
        db.session.scalar(
            select(db.func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "unit.update")
        )
        == 1
    )


def test_retiring_a_unit_in_use_is_refused(tree):
    jiangan = _unit("jiangan")
    problems = _refused(lambda: units.retire_unit(db.session, jiangan, "t"))
    assert problems == [
        ("active", "单位“江岸区”（jiangan）下还有1个在用的下级单位，不能撤销：请先撤销或移走它们")
    ]
    units.retire_unit(db.session, _unit("erqi"), "t")
    make_user("op", "operator", _unit("jiangan"))
    with at(2026, 9, 1, 10):
        campaign = make_campaign(2026)
        make_org(campaign, _unit("jiangan"))
        make_org(campaign, _unit("jiangan"))
        db.session.commit()
        problems = _refused(lambda: units.retire_unit(db.session, _unit("jiangan"), "t"))
    assert problems == [
        (
            "active",
            "单位“江岸区”（jiangan）还有1个启用的用户，不能撤销：请先停用这些用户或把他们改到其他单位",
        ),
        (
            "active",
            f"单位“江岸区”（jiangan）在进行中的行动“{campaign.name}”中有2条台账记录，不能撤销",
        ),
    ]
    assert _unit("jiangan").active and not _unit("erqi").active
    # Once the campaign has ended and the user is disabled, it may go (and come back).
    from campaign.core.accounts import disable_user

    disable_user(
        db.session, db.session.scalar(select(units.User).where(units.User.username == "op"))
    )
    with at(2027, 1, 5, 10):
        units.retire_unit(db.session, _unit("jiangan"), "t")
        db.session.commit()
        assert not _unit("jiangan").active
        units.reactivate_unit(db.session, _unit("jiangan"), "t")
        db.session.commit()
    assert _unit("jiangan").active


def test_reactivating_under_a_retired_parent_is_refused(tree):
    units.retire_unit(db.session, _unit("erqi"), "t")
    units.retire_unit(db.session, _unit("jiangan"), "t")
    db.session.commit()
    problems = _refused(lambda: units.reactivate_unit(db.session, _unit("erqi"), "t"))
    assert problems == [
        (
            "active",
            "上级单位“江岸区”（jiangan）已撤销：请先恢复上级单位，或把本单位移到在用的单位下",
        )
    ]
    problems = _refused(lambda: _add(code="x", name="某街道", kind="street", parent="jiangan"))
    assert problems == [("parent", "「上级单位」“江岸区”（jiangan）已撤销")]


def _tasks(code: str) -> int:
    unit = _unit(code)
    return db.session.scalar(
        select(db.func.count()).select_from(Task).where(Task.unit_id == unit.id)
    )


def test_a_unit_added_to_a_running_campaign_gets_its_tasks_at_once(tree):
    # wuhan-2016 asks 6 deliverables: 2 of districts, 2 of departments, 2 of every unit.
    with at(2026, 9, 1, 10):
        make_campaign(2026)
        db.session.commit()
        assert _tasks("jiangan") == 4 and _tasks("mzj") == 4
        _add(code="qiaokou", name="硚口区", kind=UnitKind.DISTRICT, parent="city")
        _add(
            code="jggw",
            name="市直机关工委",
            kind=UnitKind.DEPARTMENT,
            parent="city",
            is_responsible=True,
        )
        _add(code="gsj", name="市工商局", kind=UnitKind.DEPARTMENT, parent="city")
        db.session.commit()
        assert (_tasks("qiaokou"), _tasks("jggw"), _tasks("gsj")) == (4, 4, 0)
        # Made responsible later: its tasks come then.
        units.update_unit(db.session, _unit("gsj"), UnitChanges(is_responsible=True), "t")
        db.session.commit()
        assert _tasks("gsj") == 4


def test_a_campaign_that_has_ended_gives_a_new_unit_nothing(tree):
    with at(2026, 9, 1, 10):
        make_campaign(2026)
        db.session.commit()
    with at(2027, 1, 5, 10):
        _add(code="qiaokou", name="硚口区", kind=UnitKind.DISTRICT, parent="city")
        db.session.commit()
    assert _tasks("qiaokou") == 0


def test_a_unit_added_is_in_the_current_report_period_at_once(tree):
    from campaign.half_monthly.services import period_overview
    from tests.timeutil import shanghai

    with at(2026, 9, 1, 10):
        campaign = make_campaign(2026)
        _add(code="qiaokou", name="硚口区", kind=UnitKind.DISTRICT, parent="city")
        db.session.commit()
        # The period due on 09-10 (report days 10 and 25) lists it, not yet reported.
        rows = period_overview(
            db.session, campaign, date(2026, 9, 10), None, shanghai(2026, 9, 1, 10)
        )
    assert [u.code for u, report, _ in rows if report is None] == ["jiangan", "mzj", "qiaokou"]
