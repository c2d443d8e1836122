"""The forecast the pages read is kept (forecast_run), not computed per view: the scheduler
computes it again when something was recorded or the day changed, a verified closure
refreshes its unit at once. On tests/forecast/test_forecast.py's ledger (B: 10 of 40 with a
Party org, weeks 1, 3, 5: 40.0 % (32.5 %–47.5 %) at the 10-01 deadline, at risk)."""

from datetime import date
from pathlib import Path

import pytest

from campaign import scheduler
from campaign.board import services as board
from campaign.board.inputs import ClosureClaim
from campaign.board.models import BoardItem
from campaign.core.extensions import db
from campaign.core.models import Unit
from campaign.forecast import services as forecast
from campaign.forecast.models import ForecastRun
from tests import documents
from tests.conftest import login, make_org, make_user
from tests.forecast.test_forecast import ledger  # noqa: F401  (a fixture, used by name)
from tests.timeutil import at

B_KEPT = "乙区</a>：按当前进度，预计10月1日达到 40.0%（32.5%–47.5%），低于目标"


def _unit(code):
    return db.session.scalar(db.select(Unit).where(Unit.code == code))


@pytest.fixture
def kept(ledger):  # noqa: F811
    make_user("coord", "coordinator")
    with at(2026, 9, 17, 10, 0):
        forecast.refresh(db.session, ledger)
    db.session.commit()
    return ledger


def _overview(client, campaign, *moment):
    with at(*moment):
        html = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    return html[html.index('id="forecast"') :]


def test_the_overview_reads_the_kept_forecast_until_the_scheduler_computes_it_again(
    app, client, kept
):
    # 5 more Party orgs in B, founded 09-15 (in its last week), recorded in the ledger:
    # B 15 of 45, weeks 1, 3, 10: pace 14/3, deviation 3.859; 2 weeks to go:
    # gain 9.33 → 9: 24/45 = 53.3 %; low 0.808 × 2 → 2: 17/45 = 37.8 %;
    # high 8.526 × 2 → 17: 32/45 = 71.1 %.
    with at(2026, 9, 17, 10, 20):
        for _ in range(5):
            make_org(kept, _unit("b"), formal=1, party_org="joint", founded_on=date(2026, 9, 15))
        db.session.commit()
    with at(2026, 9, 17, 10, 25):
        login(client, "coord")
    block = _overview(client, kept, 2026, 9, 17, 10, 30)
    assert B_KEPT in block  # as kept at 10:00, not computed for the view
    assert "预测计算于2026-09-17 10:00" in block

    with at(2026, 9, 17, 10, 35):
        assert forecast.is_stale(db.session, kept)  # the new rows are in the change record
        assert scheduler.refresh_forecasts(app) == 1
        assert scheduler.refresh_forecasts(app) == 0  # nothing recorded since
    block = _overview(client, kept, 2026, 9, 17, 10, 40)
    assert "乙区</a>：按当前进度，预计10月1日达到 53.3%（37.8%–71.1%），低于目标" in block
    assert "预测计算于2026-09-17 10:35" in block

    with at(2026, 9, 18, 8, 0):  # a new day: every unit again, from the new day
        assert forecast.is_stale(db.session, kept)
        assert scheduler.refresh_forecasts(app) == 1
        assert db.session.get(ForecastRun, kept.id).as_of == date(2026, 9, 18)


def test_a_verified_closure_refreshes_its_unit_at_once(app, kept):
    b = _unit("b")
    leader, operator = make_user("b-leader", "leader", b), make_user("b-op", "operator", b)
    with at(2026, 9, 17, 11, 0):
        board.sync_items(db.session, kept, [b.id])
        item = db.session.scalars(db.select(BoardItem).where(BoardItem.unit_id == b.id)).first()
        claim = ClosureClaim.from_form(
            {
                "method": "standalone",
                "party_org_name": "中共测试支部委员会",
                "established_on": "2026-09-16",
                "formal_members": "3",
                "secretary": "张书记",
            }
        )
        pdf = ("批复文件.pdf", documents.pdf("kept forecast"))
        storage = Path(app.config["STORAGE_PATH"])
        board.submit_closure(db.session, item, claim, pdf, operator, storage)
        db.session.commit()
        board.verify_closure(db.session, item, leader)
        db.session.commit()
    run = db.session.get(ForecastRun, kept.id)
    coverage = run.data["units"][str(b.id)]["party_org_coverage"]
    # B: 11 of 40, the new one in its last week: weeks 1, 3, 6.
    assert (coverage["part"], coverage["whole"], coverage["weekly"]) == (11, 40, [1, 3, 6])
    with at(2026, 9, 17, 11, 5):
        shown = forecast.stored(db.session, kept, [(b, None)])
    assert shown.by_unit_id[b.id].coverage.part == 11


def test_the_leadership_view_names_the_units_at_risk_with_value_band_and_method(client, kept):
    make_user("lingdao", "leadership")
    db.session.commit()
    with at(2026, 9, 17, 10, 30):
        login(client, "lingdao")
        html = client.get(f"/campaigns/{kept.id}/leadership").get_data(as_text=True)
    block = html[html.index('id="lead-forecast"') :]
    block = block[: block.index("</div>")]
    # Only B is projected below 80 %; the city 46 of 71 = 64.8 %.
    assert "全市党组织覆盖率按当前进度，预计10月1日达到 64.8%" in block
    assert "<strong>预计低于目标的单位1个</strong>" in block
    assert '<strong>乙区</strong><span class="small">预计 40.0%（32.5%–47.5%），今天 25.0%' in block
    assert "甲区" not in block and "丙区" not in block
    assert "取最近3周每周新建党组织数" in block and "2026-09-17 10:00计算" in block
