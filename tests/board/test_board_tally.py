"""The board's tally (board_counts) stays equal to the board items through every kind of write.

The board is tests/board/test_board_services.py's ``w``: once synced, 江岸区 has the items of
大企业, 小企业 and 四党员 and 武昌区 the item of 武昌三党员, all 待攻坚 without a planned date.
"Today" is 2026-11-15 (Beijing).
"""

import json
from datetime import date

from flask_migrate import downgrade, stamp, upgrade
from sqlalchemy import case, event, func, inspect, select, update

from campaign import demo
from campaign.audit import AuditEntry
from campaign.board import services as board
from campaign.board.inputs import ClosureClaim, Plan
from campaign.board.models import BOARD_TALLY, NO_PLANNED_DATE, BoardCounts, BoardItem
from campaign.core.extensions import db
from campaign.core.models import Campaign, Unit
from campaign.figures import LEDGER_TALLY
from campaign.ledger.services import update_organization
from tests import documents
from tests.board.test_board_services import (  # noqa: F401  (the fixtures)
    close,
    item_of,
    standalone,
    synced,
    today,
    w,
)
from tests.conftest import login
from tests.timeutil import at

NONE = NO_PLANNED_DATE


def kept(w) -> dict:  # noqa: F811
    """The tally's rows as {(unit code, state, planned date or None): items}."""
    codes = {w.jiangan.id: "jiangan", w.wuchang.id: "wuchang"}
    rows = db.session.scalars(select(BoardCounts).where(BoardCounts.campaign_id == w.campaign.id))
    return {
        (codes[r.unit_id], r.state, None if r.planned_key == NONE else r.planned_key): r.items
        for r in rows
    }


def plan(w, org, on: str, path="grow_members") -> None:  # noqa: F811
    board.update_plan(
        db.session, item_of(org), Plan.from_form({"path": path, "planned_on": on}), None
    )


def test_new_items_a_plan_and_a_new_date_move_the_counts(w):  # noqa: F811
    synced(w)
    assert kept(w) == {("jiangan", "todo", None): 3, ("wuchang", "todo", None): 1}
    plan(w, w.big, "2026-11-14")  # 待攻坚 -> 推进中, with a date
    db.session.commit()
    assert kept(w) == {
        ("jiangan", "todo", None): 2,
        ("jiangan", "in_progress", date(2026, 11, 14)): 1,
        ("wuchang", "todo", None): 1,
    }
    plan(w, w.big, "2026-11-20")
    plan(w, w.small, "2026-11-20")
    db.session.commit()
    assert kept(w) == {
        ("jiangan", "todo", None): 1,
        ("jiangan", "in_progress", date(2026, 11, 20)): 2,
        ("wuchang", "todo", None): 1,
    }
    assert BOARD_TALLY.matches(db.session, w.campaign)


def test_closure_states_are_counted_as_they_move(w):  # noqa: F811
    synced(w)
    item = item_of(w.four)
    board.submit_closure(
        db.session,
        item,
        ClosureClaim.from_form(standalone()),
        ("批复.pdf", documents.pdf("x")),
        w.operator,
        w.storage,
    )
    db.session.commit()
    assert board.unit_counts(db.session, w.campaign)[w.jiangan.id] == {"todo": 2, "awaiting": 1}
    board.verify_closure(db.session, item, w.leader)
    db.session.commit()
    assert board.unit_counts(db.session, w.campaign)[w.jiangan.id] == {"todo": 2, "closed": 1}
    assert BOARD_TALLY.matches(db.session, w.campaign)


def test_an_item_moved_to_another_unit_and_a_deleted_item(w):  # noqa: F811
    synced(w)
    plan(w, w.small, "2026-11-01")
    db.session.commit()
    item_of(w.small).unit_id = w.wuchang.id
    db.session.commit()
    assert kept(w) == {
        ("jiangan", "todo", None): 2,
        ("wuchang", "todo", None): 1,
        ("wuchang", "in_progress", date(2026, 11, 1)): 1,
    }
    assert board.unit_counts(db.session, w.campaign)[w.wuchang.id] == {
        "todo": 1,
        "in_progress": 1,
        "overdue": 1,  # 11-01 < 11-15
    }
    db.session.delete(item_of(w.big))
    db.session.commit()
    assert kept(w)[("jiangan", "todo", None)] == 1
    assert BOARD_TALLY.matches(db.session, w.campaign)


def test_a_rolled_back_change_leaves_the_counts(w):  # noqa: F811
    synced(w)
    plan(w, w.big, "2026-11-01")
    # Read in the same transaction: the counts see the change not yet committed.
    assert board.unit_counts(db.session, w.campaign)[w.jiangan.id] == {
        "todo": 2,
        "in_progress": 1,
        "overdue": 1,
    }
    db.session.rollback()
    assert board.unit_counts(db.session, w.campaign)[w.jiangan.id] == {"todo": 3}
    assert BOARD_TALLY.matches(db.session, w.campaign)


def test_a_bulk_write_is_recounted_for_the_units_it_names(w):  # noqa: F811
    synced(w)
    db.session.execute(
        update(BoardItem)
        .where(BoardItem.unit_id == w.jiangan.id)
        .values(state="in_progress", planned_on=date(2026, 11, 10))
    )
    BOARD_TALLY.stale(db.session, w.campaign, [w.jiangan.id])
    db.session.commit()
    assert board.unit_counts(db.session, w.campaign) == {
        w.jiangan.id: {"in_progress": 3, "overdue": 3},
        w.wuchang.id: {"todo": 1},
    }
    assert BOARD_TALLY.matches(db.session, w.campaign)


def test_recount_command_repairs_a_board_tally_changed_behind_its_back(w, runner):  # noqa: F811
    synced(w)
    db.session.execute(update(BoardCounts).values(items=0))
    db.session.commit()
    assert board.totals(db.session, w.campaign) == {"todo": 0}
    result = runner.invoke(args=["campaign", "recount"])
    assert result.exit_code == 0
    assert "挂图计数与挂图事项不一致，已重算" in result.output
    assert "指标计数与台账一致" in result.output
    assert board.totals(db.session, w.campaign) == {"todo": 4}
    again = runner.invoke(args=["campaign", "recount"])
    assert "挂图计数与挂图事项一致" in again.output and "已重算" not in again.output


def test_the_migration_fills_the_tally_of_an_existing_board(w):  # noqa: F811
    synced(w)
    plan(w, w.big, "2026-11-14")
    db.session.commit()
    campaign_id, jiangan_id, wuchang_id = w.campaign.id, w.jiangan.id, w.wuchang.id
    db.session.remove()
    stamp()  # the schema was made by create_all: it is at the head revision
    downgrade(revision="c233cb4f8612")  # before the board's tally existed
    assert "board_counts" not in inspect(db.engine).get_table_names()
    upgrade()
    campaign = db.session.get(Campaign, campaign_id)
    assert board.unit_counts(db.session, campaign) == {
        jiangan_id: {"todo": 2, "in_progress": 1, "overdue": 1},
        wuchang_id: {"todo": 1},
    }
    assert BOARD_TALLY.matches(db.session, campaign)
    # The kind of each item is filled from its organization (all of jiangan's are enterprises).
    filtered = board.column_counts(db.session, campaign, jiangan_id, {"kind": "enterprise"})
    assert filtered == {"todo": 2, "in_progress": 1}
    assert board.column_counts(db.session, campaign, jiangan_id, {"kind": "social"}) == {}


def test_overdue_items_as_of_a_day(w):  # noqa: F811
    synced(w)
    plan(w, w.big, "2026-11-14")
    plan(w, w.small, "2026-11-15")
    plan(w, w.four, "2026-10-01", path="standalone")
    plan(w, w.other, "2026-11-01", path="standalone")
    db.session.commit()
    closure = close(w, w.four, standalone())  # closed: past its date but not overdue
    # Open with a planned date: 大企业 11-14, 小企业 11-15 (江岸), 武昌三党员 11-01 (武昌).
    # Overdue on a day: open and planned strictly before it.
    expected = {
        date(2026, 10, 31): (0, 0),
        date(2026, 11, 1): (0, 0),
        date(2026, 11, 2): (0, 1),
        date(2026, 11, 14): (0, 1),
        date(2026, 11, 15): (1, 1),  # 大企业
        date(2026, 11, 16): (2, 1),  # and 小企业
    }
    for day, want in expected.items():
        counts = board.unit_counts(db.session, w.campaign, on=day)
        got = tuple(counts[u.id].get("overdue", 0) for u in (w.jiangan, w.wuchang))
        assert got == want, day
    # A look-back reopens 四党员: open again, and overdue since 10-02.
    board.revoke_closure(db.session, closure, "回头看：组织生活未开展", w.coordinator)
    db.session.commit()
    counts = board.unit_counts(db.session, w.campaign, on=date(2026, 10, 2))
    assert counts[w.jiangan.id] == {"in_progress": 2, "reopened": 1, "overdue": 1}
    counts = board.unit_counts(db.session, w.campaign, on=date(2026, 11, 16))
    assert counts[w.jiangan.id]["overdue"] == 3
    # Today (11-15): the unit board's overdue filter counts from the tally too.
    assert board.column_counts(db.session, w.campaign, w.jiangan.id, {"overdue": "1"}) == {
        "in_progress": 1,
        "reopened": 1,
    }


def scanned_unit_counts(campaign, on: date) -> dict:
    """unit_counts as it was before the tally: one GROUP BY over the items."""
    rows = db.session.execute(
        select(
            BoardItem.unit_id,
            BoardItem.state,
            func.count(),
            func.sum(case((board.overdue(on), 1), else_=0)),
        )
        .where(BoardItem.campaign_id == campaign.id)
        .group_by(BoardItem.unit_id, BoardItem.state)
    )
    counts: dict = {}
    for unit_id, state, n, late in rows:
        unit = counts.setdefault(unit_id, {})
        unit[state] = n
        if late:
            unit["overdue"] = unit.get("overdue", 0) + late
    return counts


def test_the_board_pages_count_as_a_scan_of_the_demo_items(app, demo_city):
    campaign = demo_city
    with at(2026, 11, 22, 10):
        for day in (date(2026, 9, 20), date(2026, 11, 1), date(2026, 11, 22), date(2026, 12, 31)):
            assert board.unit_counts(db.session, campaign, on=day) == scanned_unit_counts(
                campaign, day
            ), day
        now = scanned_unit_counts(campaign, date(2026, 11, 22))
        assert any(c.get("overdue") for c in now.values())  # the demo has overdue items
        jiangan = db.session.scalar(select(Unit).where(Unit.code == "jiangan"))
        for filters in ({}, {"overdue": "1"}):
            stmt = board._filtered(
                campaign, jiangan.id, filters, select(BoardItem.state, func.count())
            )
            scanned = dict(db.session.execute(stmt.group_by(BoardItem.state)).all())
            assert board.column_counts(db.session, campaign, jiangan.id, filters) == scanned
        client = app.test_client()
        login(client, "zhuanban", demo.DEMO_PASSWORD)
        tiles = client.get(f"/campaigns/{campaign.id}/board").get_data(as_text=True)
        c = now[jiangan.id]
        open_ = c.get("todo", 0) + c.get("in_progress", 0) + c.get("reopened", 0)
        tile = f"待攻坚{open_} · 待核验{c.get('awaiting', 0)} · 已销号{c.get('closed', 0)}"
        assert tile in tiles and f"逾期{c['overdue']}个" in tiles
        unit_page = client.get(f"/campaigns/{campaign.id}/units/jiangan/board").get_data(
            as_text=True
        )
        assert f"已销号（{c['closed']}）" in unit_page
        assert BOARD_TALLY.matches(db.session, campaign)


def test_the_counts_are_one_statement_each(w):  # noqa: F811
    synced(w)
    assert w.campaign.timezone and w.jiangan.id  # loaded before counting
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        board.unit_counts(db.session, w.campaign)
        board.column_counts(db.session, w.campaign, w.jiangan.id, {"overdue": "1"})
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 2 and all("board_counts" in s for s in statements)


def test_an_item_follows_its_organization_to_another_unit(w):  # noqa: F811
    synced(w)
    plan(w, w.small, "2026-11-01")
    db.session.commit()
    changed = update_organization(
        db.session, w.campaign, w.small, {"unit_id": w.wuchang.id}, user=w.coordinator
    )
    db.session.commit()
    assert changed == {"unit_id": w.wuchang.id}
    assert item_of(w.small).unit_id == w.wuchang.id
    (moved,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "item.follow"))
    assert (moved.object_type, moved.object_id) == ("board_item", str(item_of(w.small).id))
    assert json.loads(moved.before) == {"unit_id": w.jiangan.id}
    assert json.loads(moved.after) == {"unit_id": w.wuchang.id, "source": "台账变更"}
    # Each unit's board shows the items of its own ledger, and both tallies follow.
    assert board.unit_counts(db.session, w.campaign) == {
        w.jiangan.id: {"todo": 2},
        w.wuchang.id: {"todo": 1, "in_progress": 1, "overdue": 1},
    }
    assert board.column_counts(db.session, w.campaign, w.wuchang.id, {"kind": "enterprise"}) == {
        "todo": 1,
        "in_progress": 1,
    }
    assert BOARD_TALLY.matches(db.session, w.campaign)
    assert LEDGER_TALLY.matches(db.session, w.campaign)
    # A new kind follows too: the item is on the social organizations' view of the board.
    social = {"kind": "social", "category": "other", "registration_level": "district"}
    update_organization(db.session, w.campaign, w.small, social, user=None)
    db.session.commit()
    assert item_of(w.small).kind == "social"
    assert board.column_counts(db.session, w.campaign, w.wuchang.id, {"kind": "social"}) == {
        "in_progress": 1
    }
    follows = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "item.follow").order_by(AuditEntry.id)
    ).all()
    assert json.loads(follows[-1].after) == {"kind": "social", "source": "台账变更"}
    # An edit that leaves the unit and the kind moves nothing.
    update_organization(db.session, w.campaign, w.small, {"employees": 12}, user=None)
    db.session.commit()
    assert (
        len(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "item.follow")).all())
        == 2
    )
