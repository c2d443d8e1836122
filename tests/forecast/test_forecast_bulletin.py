"""The bulletin's 预计 paragraph, on tests/forecast/test_forecast.py's ledger at the 09-25 cut-off.

As of 09-25 the pace is taken over 4 weeks, (08-28, 09-04], (09-04, 09-11], (09-11, 09-18],
(09-18, 09-25], with 6 days (0.857 weeks) to the 10-01 deadline:
甲区 4, 4, 4, 0: pace 3, 2.57 → 3: 23/26 = 88.5 %, reaches 80 %.
乙区 1, 3, 5, 0: pace 2.25, 1.93 → 2: 12/40 = 30.0 %, at risk.
丙区 0, 1, 1, 0: pace 0.5, 0.43 → 0: 3/5 = 60.0 %, at risk.
The city: 33 + 5 of 71 = 53.5 %. Worst first: 乙区, then 丙区.
"""

import re
from datetime import date

from sqlalchemy import event, select

from campaign import audit
from campaign.core.extensions import db
from campaign.core.models import Unit
from campaign.forecast import services as forecast
from campaign.half_monthly import services as half_monthly
from reports import render, snapshot
from tests.forecast.test_forecast import _orgs, ledger  # noqa: F401  (a fixture, used by name)
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


def test_on_time_the_bulletin_reads_the_kept_forecast_and_after_a_change_counts_again(ledger):  # noqa: F811
    computed = _snapshot(ledger)["forecast"]
    # The scheduler kept the forecast at 18:02 on the cut-off day: the bulletin at 18:05 reads
    # it (the weeks' Party orgs are not counted again) and says exactly the same.
    with at(2026, 9, 25, 18, 2):
        forecast.refresh(db.session, ledger)
        db.session.commit()
    statements = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        assert _snapshot(ledger)["forecast"] == computed
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    per_day = "GROUP BY organization.unit_id, organization.party_org_founded_on"
    assert not any(per_day in s for s in statements)

    # Something recorded after it (乙区 reports 2 more organizations, each with a Party org
    # set up today): the kept forecast is stale and the bulletin counts again. 乙区 has 10 + 2
    # = 12 of 42; its weeks 1, 3, 5, 2: pace 2.75 × 6/7 = 2.36 → 2, so 14 of 42; the city
    # 23 + 14 + 3 of 26 + 42 + 5 = 40 of 73 (was 38 of 71).
    b = db.session.scalar(select(Unit).where(Unit.code == "b"))
    with at(2026, 9, 25, 18, 3):
        _orgs(ledger, b, 2, date(2026, 9, 25))
        audit.record(db.session, user="test", action="org.create", obj_type="campaign", obj_id=1)
        db.session.commit()
    again = _snapshot(ledger)["forecast"]
    assert again["city"]["party_org_coverage"]["projected"] == 40 / 73


def test_on_its_cut_off_day_a_bulletin_counts_what_it_would_count_the_next_morning(ledger):  # noqa: F811
    # On the cut-off day the figures are the tallies' (nothing can be dated after today);
    # the next morning they are read as of the cut-off from the ledger: the same counts.
    on_time = _snapshot(ledger)
    period = half_monthly.period_for(ledger, CUTOFF.date())
    with at(2026, 9, 26, 9, 0):
        late = snapshot.build(db.session, ledger, period, 3, CUTOFF, [])
    for part in ("overall", "units", "by_kind", "rule_figures", "forecast"):
        assert late[part] == on_time[part], part
