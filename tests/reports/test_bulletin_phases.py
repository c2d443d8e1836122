"""The bulletin's 理顺率 and 新建党组织选派率 (seed 004 phases 5 and 6): a sentence in 一、总体进展
and two columns of the attachment's 各单位情况, as of the cut-off (2026-11-10 18:00), on a
ledger worked out by hand (the campaign begins 2026-08-14), the bulletin made on 11-13:

江岸区: 1 单独组建 (09-10), put right 11-02, 第一书记 sent 09-20
        2 联合组建 (10-01), put right 11-01, nobody sent
        3 单独组建 (2015), put right (no day)
        4 单独组建 (2015), put right on 11-12: after the cut-off, not yet
        -> put right 3 of 4 (75.0 %); new {1,2}, sent {1}: 1 of 2 (50.0 %)
武昌区: 5 联合组建 (09-15), not put right, 指导员 sent 10-08
        -> 0 of 1 (0.0 %); 1 of 1 (100.0 %)
全市: 3 of 5 (60.0 %); 2 of 3 (66.7 %).
"""

import io
from datetime import date

import openpyxl

from campaign.core.extensions import db
from campaign.half_monthly import services as half_monthly
from reports import attachment, render, snapshot
from tests.conftest import make_campaign, make_org, make_unit
from tests.timeutil import at, shanghai


def test_the_bulletin_says_and_lists_the_settled_and_liaison_rates(app):
    jiangan, wuchang = make_unit("jiangan", "江岸区"), make_unit("wuchang", "武昌区")
    jiangan.position, wuchang.position = 1, 2
    campaign = make_campaign(2026)

    def org(holder, party_org, founded_on, settled_on=None, settled=False, **liaison):
        made = make_org(campaign, holder, formal=3, party_org=party_org, founded_on=founded_on)
        made.affiliation = "territorial" if settled or settled_on else None
        made.affiliation_settled = settled or settled_on is not None
        made.affiliation_settled_on = settled_on
        for key, value in liaison.items():
            setattr(made, f"liaison_{key}", value)

    org(
        jiangan,
        "standalone",
        date(2026, 9, 10),
        date(2026, 11, 2),
        role="first_secretary",
        name="王五",
        unit="江岸区商务局",
        assigned_on=date(2026, 9, 20),
    )
    org(jiangan, "joint", date(2026, 10, 1), date(2026, 11, 1))
    org(jiangan, "standalone", date(2015, 6, 1), settled=True)
    org(jiangan, "standalone", date(2015, 6, 1), date(2026, 11, 12))
    org(
        wuchang,
        "joint",
        date(2026, 9, 15),
        role="instructor",
        name="赵六",
        assigned_on=date(2026, 10, 8),
    )
    db.session.commit()

    # Made three days late (补发, 11-13): what was put right on 11-12 is after its cut-off.
    with at(2026, 11, 13, 9, 0):
        period = half_monthly.period_for(campaign, date(2026, 11, 10))
        data = snapshot.build(db.session, campaign, period, 6, shanghai(2026, 11, 10, 18, 0), [])
        html = render.html(data)
    assert (
        "已建立的党组织中，隶属关系已理顺3个，理顺率60.0%；行动开展以来新建党组织3个，"
        "已选派第一书记或党建工作指导员2个，选派率66.7%。"
    ) in html

    units = openpyxl.load_workbook(io.BytesIO(attachment.write(data, {})))["各单位情况"]
    header = [c.value for c in units[2]]
    assert header[-2:] == ["理顺率", "新建党组织选派率"]
    rows = {r[1].value: (r[-2].value, r[-1].value) for r in units.iter_rows(min_row=3)}
    assert rows == {"江岸区": (0.75, 0.5), "武昌区": (0.0, 1.0)}
    assert units["L3"].number_format == "0.0%"
