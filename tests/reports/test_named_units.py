"""点名 in 下步工作要求: which units the bulletin names, chosen by rule.

On hand-made snapshots the test chooses who is worst. Eight responsible units, ranked best
first as the bulletin's table shows them (target 80 %):

  武昌区 95.0 %, 江岸区 90.0 %, 市民政局 85.0 %   reach the target
  蔡甸区 79.0 %, 江夏区 65.0 %, 新洲区 60.0 %,
  青山区 58.3 %, 汉阳区 56.9 %                   below it: five units

Named worst first, three of them (the default): 汉阳区、青山区、新洲区, "等5个单位".
Overdue items: 武昌区 2, 青山区 30, 新洲区 29, 江夏区 24, 蔡甸区 1: the three with most are
青山区 (30), 新洲区 (29), 江夏区 (24), among 5 units and 86 items.
"""

from datetime import date

from campaign.core.extensions import db
from campaign.half_monthly import services as half_monthly
from reports import snapshot
from tests.timeutil import shanghai

TABLE = [
    # name, coverage, overdue items
    ("武昌区", 0.95, 2),
    ("江岸区", 0.90, 0),
    ("市民政局", 0.85, 0),
    ("蔡甸区", 0.79, 1),
    ("江夏区", 0.65, 24),
    ("新洲区", 0.60, 29),
    ("青山区", 0.583, 30),
    ("汉阳区", 0.569, 0),
]


def made(named: int | None = 3, streaks: dict[str, int] | None = None) -> dict:
    units = [
        {
            "code": f"u{i}",
            "name": name,
            "position": i,
            "rank": i + 1,
            "party_org_coverage": coverage,
            "required_coverage": 1.0,
            "reaches": coverage >= 0.80,
            "overdue_items": overdue,
            "bottom_streak": (streaks or {}).get(name, 0),
        }
        for i, (name, coverage, overdue) in enumerate(TABLE)
    ]
    campaign = {"target_party_org_coverage": "80"}
    if named is not None:
        campaign["named_units"] = named
    return {
        "campaign": campaign,
        "build_deadline": "2026-10-31",
        "days_left": 6,
        "units": units,
        "overall": {
            "reaches": False,
            "party_org_coverage": 0.712,
            "gap": 383,
            "counts": {"required": 10, "required_met": 10},
            "overdue_items": 86,
            "awaiting_items": 0,
        },
        "deliverables": {"overdue": []},
        "reports": {"due_on": "2026-10-25", "missing": [], "returned": [], "waiting": []},
        "next_phase": None,
    }


def test_the_units_below_target_are_named_worst_first():
    text = snapshot.requirements(made())[0]
    assert text == (
        "距集中组建截止（10月31日）还有6天。全市党组织覆盖率为71.2%，距80%的目标还需组建383个"
        "党组织。汉阳区、青山区、新洲区等5个单位未达到80%，要倒排工期、挂图推进，确保按期达标。"
    )
    for best in ("武昌区", "江岸区", "市民政局"):
        assert best not in text


def test_how_many_are_named_is_the_campaigns_setting():
    five = snapshot.requirements(made(named=5))[0]
    assert "汉阳区、青山区、新洲区、江夏区、蔡甸区未达到80%" in five  # all five: no "等"
    one = snapshot.requirements(made(named=1))[0]
    assert "汉阳区等5个单位未达到80%" in one
    # A bulletin made before the setting existed names three.
    assert "汉阳区、青山区、新洲区等5个单位" in snapshot.requirements(made(named=None))[0]


def test_the_units_with_most_overdue_items_are_named_with_their_counts():
    text = next(t for t in snapshot.requirements(made()) if "逾期" in t or "超过计划" in t)
    assert text == (
        "全市有86个攻坚事项超过计划完成时间仍未销号，涉及5个单位，其中青山区（30个）、"
        "新洲区（29个）、江夏区（24个）最多，要逐项明确责任人和完成时限（清单见附件）。"
    )


def test_units_long_at_the_bottom_are_named_for_it():
    texts = snapshot.requirements(made(streaks={"汉阳区": 3, "青山区": 2, "新洲区": 2}))
    stuck = [t for t in texts if "连续" in t]
    assert stuck == [
        "汉阳区连续3期排名后三位，要深入分析原因，拿出过硬措施，限期扭转落后局面。",
        "青山区、新洲区连续2期排名后三位，要深入分析原因，拿出过硬措施，限期扭转落后局面。",
    ]
    assert not any("连续" in t for t in snapshot.requirements(made(streaks={"汉阳区": 1})))


def test_late_reports_name_every_unit():
    data = made()
    data["reports"]["missing"] = ["青山区", "新洲区", "江夏区", "蔡甸区"]
    data["reports"]["returned"] = ["汉阳区"]
    text = next(t for t in snapshot.requirements(data) if "半月进展" in t)
    assert (
        text == "青山区、新洲区、江夏区、蔡甸区、汉阳区要按时报送半月进展情况，做到不漏报、不迟报。"
    )


def unit_row(code, rank, coverage, streak=None):
    row = {"code": code, "rank": rank, "party_org_coverage": coverage}
    if streak is not None:
        row["bottom_streak"] = streak
    return row


def test_the_streak_counts_bulletins_in_a_row_at_the_bottom():
    # Five units; the last three places are ranks 3, 4, 5. d and e were there last time
    # (e for the second time); a unit without a base (f) is not ranked among them.
    previous = {
        "units": [
            unit_row("a", 1, 0.9, 0),
            unit_row("b", 2, 0.8, 0),
            unit_row("c", 3, 0.7, 1),
            unit_row("d", 4, 0.6, 1),
            unit_row("e", 5, 0.5, 2),
        ]
    }
    now = [
        unit_row("c", 1, 0.95),
        unit_row("a", 2, 0.9),
        unit_row("d", 3, 0.7),
        unit_row("e", 4, 0.6),
        unit_row("b", 5, 0.5),
        unit_row("f", 6, None),
    ]
    snapshot._bottom_streaks(now, previous)
    assert {u["code"]: u["bottom_streak"] for u in now} == {
        "c": 0,  # left the bottom
        "a": 0,
        "d": 2,
        "e": 3,
        "b": 1,  # new at the bottom
        "f": 0,
    }
    # A bulletin published before streaks were kept: its ranks say who was at the bottom.
    old = {
        "units": [{k: v for k, v in u.items() if k != "bottom_streak"} for u in previous["units"]]
    }
    snapshot._bottom_streaks(now, old)
    assert {u["code"]: u["bottom_streak"] for u in now if u["bottom_streak"]} == {
        "d": 2,
        "e": 2,
        "b": 1,
    }


def test_on_the_demo_the_named_units_are_the_worst_of_the_table(demo_city):
    campaign = demo_city
    periods = {p.due_on: p for p in half_monthly.periods(campaign)}
    first = snapshot.build(
        db.session,
        campaign,
        periods[date(2026, 10, 25)],
        1,
        shanghai(2026, 10, 25, 18),
        [],
    )
    second = snapshot.build(
        db.session,
        campaign,
        periods[date(2026, 11, 10)],
        2,
        shanghai(2026, 11, 10, 18),
        [first],
    )
    for data in (first, second):
        ranked = [u for u in data["units"] if u["party_org_coverage"] is not None]
        # Worked out here from the table the bulletin prints: below 80 %, the worst (highest
        # rank number) first; units sharing a rank (并列) may be named in either order.
        below = sorted(
            (u for u in ranked if u["party_org_coverage"] < 0.80), key=lambda u: -u["rank"]
        )
        assert len(below) > 3, "the demo has more than three units below target"
        text = data["requirements"][0]
        said = text.split("个党组织。", 1)[1]
        assert said.endswith(f"等{len(below)}个单位未达到80%，要倒排工期、挂图推进，确保按期达标。")
        named = said.split("等")[0].split("、")
        assert len(named) == 3
        rank = {u["name"]: u["rank"] for u in below}
        unnamed = [u for u in below if u["name"] not in named]
        assert all(rank[n] >= u["rank"] for n in named for u in unnamed), (named, rank)
        assert [rank[n] for n in named] == sorted((rank[n] for n in named), reverse=True)
        overdue = sorted(
            (u for u in data["units"] if u["overdue_items"]), key=lambda u: -u["overdue_items"]
        )
        told = next(t for t in data["requirements"] if "超过计划完成时间" in t)
        most = overdue[min(2, len(overdue) - 1)]["overdue_items"]
        for u in overdue:
            if u["overdue_items"] > most:
                assert f"{u['name']}（{u['overdue_items']}个）" in told
            elif u["overdue_items"] < most:
                assert u["name"] not in told

    # Two bulletins: the units in the last three places of both are named for it.
    def bottom(data):
        ranked = sorted(
            (u for u in data["units"] if u["party_org_coverage"] is not None),
            key=lambda u: u["rank"],
        )
        # The last three places: ranks n-2, n-1 and n (a unit sharing a better rank is not).
        return {u["name"] for u in ranked if u["rank"] >= len(ranked) - 2}

    twice = bottom(first) & bottom(second)
    stuck = [t for t in second["requirements"] if "连续2期排名后三位" in t]
    if twice:
        assert len(stuck) == 1 and all(name in stuck[0] for name in twice)
    else:
        assert stuck == []
