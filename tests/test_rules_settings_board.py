"""A threshold changed on the settings page moves the board exactly as a change of the rule set
does (issue 16): the ledger is judged again, and the items follow (opened, closed, their
target changed), so the figures and the board still agree.

Hand-made ledger under seed 004 (one district, every organization an enterprise):

  T1 45 staff, nothing                      short of 实现工作覆盖 (no member rule below 50)
  T2 42 staff, 1 formal, 工会               meets 实现工作覆盖 (the 工会)
  T3 41 staff, 党建指导员 李四               meets 实现工作覆盖 (the 指导员)
  T4 38 staff, nothing                      short of 实现工作覆盖
  T5 55 staff, 1 formal, nothing            short of 应有党员 (a member, no Party work)

So once the base is approved the open items are T1, T4 (工作覆盖) and T5 (应有党员).

应有党员的职工人数 50 -> 40: T1 (45), T2 (42), T3 (41) now must have a member (T4 has 38):
  T1: no member -> short of 应有党员: its item stays open, its target becomes 应有党员;
  T2: a member and the 工会 -> meets it: still no item;
  T3: no member -> short: a new item (opened);
  T4, T5: as before.
  Open items: T1, T3, T5 (应有党员), T4 (工作覆盖); opened T3, closed none.
And back 40 -> 50: T3 meets 实现工作覆盖 again by its 指导员: its item is closed; T1 back to
工作覆盖, still open. Open items: T1, T4 (工作覆盖), T5 (应有党员).
"""

from collections import Counter

from sqlalchemy import select

from campaign import figures
from campaign.board.models import BoardItem, ItemState
from campaign.core.campaigns import settings_from, update_settings
from campaign.core.extensions import db
from tests.conftest import approve_base, make_campaign, make_org, make_unit, open_items

LEDGER = {
    "T1": dict(employees=45),
    "T2": dict(employees=42, formal=1, mass="工会"),
    "T3": dict(employees=41, instructor="李四"),
    "T4": dict(employees=38),
    "T5": dict(employees=55, formal=1),
}


def _agree(campaign, open_items: dict[str, str]) -> None:
    counts = figures.overall(db.session, campaign).counts
    by_target = Counter(open_items.values())
    for target in ("standalone", "party_org", "member", "work_coverage"):
        assert counts.short(target) == by_target[target], target  # type: ignore[arg-type]


def _set(campaign, value: str, user) -> None:
    update_settings(
        db.session, campaign, settings_from({"member_required_employees": value}), user=user
    )
    db.session.commit()


def test_a_threshold_changed_moves_the_board_as_a_rule_change_does(app):
    unit = make_unit("jiangan", "江岸区")
    campaign = make_campaign(2026)
    orgs = {name: make_org(campaign, unit, name=name, **facts) for name, facts in LEDGER.items()}
    coordinator, operator = approve_base(campaign, unit)
    before = {"T1": "work_coverage", "T4": "work_coverage", "T5": "member"}
    assert open_items(campaign) == before
    _agree(campaign, before)

    _set(campaign, "40", coordinator)
    after = {"T1": "member", "T3": "member", "T4": "work_coverage", "T5": "member"}
    assert open_items(campaign) == after
    _agree(campaign, after)
    items = {i.organization_id: i for i in db.session.scalars(select(BoardItem))}
    assert items[orgs["T1"].id].state == ItemState.TODO  # followed, not reopened
    assert orgs["T2"].id not in items

    _set(campaign, "50", coordinator)
    assert open_items(campaign) == before
    _agree(campaign, before)
    t3 = db.session.get(BoardItem, items[orgs["T3"].id].id)
    assert t3.state == ItemState.CLOSED and "规则修改后已达要求" in t3.last_reason
