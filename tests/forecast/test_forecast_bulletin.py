"""The bulletin's 预计 paragraph, on tests/forecast/test_forecast.py's ledger at the 09-25 cut-off.

As of 09-25 the pace is taken over 4 weeks, (08-28, 09-04], (09-04, 09-11], (09-11, 09-18],
(09-18, 09-25], with 6 days (0.857 weeks) to the 10-01 deadline:
甲区 4, 4, 4, 0: pace 3, 2.57 → 3: 23/26 = 88.5 %, reaches 80 %.
乙区 1, 3, 5, 0: pace 2.25, 1.93 → 2: 12/40 = 30.0 %, at risk.
丙区 0, 1, 1, 0: pace 0.5, 0.43 → 0: 3/5 = 60.0 %, at risk.
The city: 33 + 5 of 71 = 53.5 %. Worst first: 乙区, then 丙区.
"""

import re

from campaign.core.extensions import db
from campaign.half_monthly import services as half_monthly
from reports import render, snapshot
from tests.forecast.test_forecast import ledger  # noqa: F401  (a fixture, used by name)
from tests.timeutil import at, shanghai

CUTOFF = shanghai(2026, 9, 25, 18, 0)


def _snapshot(campaign):
    period = half_monthly.period_for(campaign, CUTOFF.date())
    with at(2026, 9, 25, 18, 5):
        return snapshot.build(db.session, campaign, period, 3, CUTOFF, [])


def test_the_bulletin_names_the_units_at_risk_worst_first(ledger):  # noqa: F811
    data = _snapshot(ledger)
    forecast = data["forecast"]
    assert [u["name"] for u in forecast["at_risk"]] == ["乙区", "丙区"]
    assert [u["projected"] for u in forecast["at_risk"]] == [0.3, 0.6]
    assert forecast["city"]["party_org_coverage"]["projected"] == 38 / 71
    text = re.sub(r"<[^>]+>|\s+", "", render.html(data))
    assert "预计：按各单位最近几周的组建进度，预计到10月1日全市党组织覆盖率达到53.5%" in text
    assert "按当前进度，乙区（预计30.0%）、丙区（预计60.0%）预计到期党组织覆盖率低于目标" in text


def test_after_the_deadline_the_bulletin_projects_nothing(ledger):  # noqa: F811
    build = next(p for p in ledger.phases if p.code == "build")
    build.ends_on = CUTOFF.date()
    db.session.commit()
    data = _snapshot(ledger)
    assert data["forecast"] is None
    assert "预计：" not in render.html(data)


def test_beyond_the_units_a_bulletin_names_the_rest_are_counted(ledger):  # noqa: F811
    ledger.bulletin_named_units = 1
    db.session.commit()
    text = re.sub(r"<[^>]+>|\s+", "", render.html(_snapshot(ledger)))
    assert "按当前进度，乙区（预计30.0%）等2个单位预计到期党组织覆盖率低于目标" in text
