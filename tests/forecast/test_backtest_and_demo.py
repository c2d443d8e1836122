"""`flask forecast backtest` on the demo, and where `demo load` places the campaign."""

import re
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from campaign import demo
from campaign.board.models import BoardItem, ItemState
from campaign.core.campaigns import build_deadline
from campaign.core.extensions import db
from campaign.core.models import Campaign
from campaign.forecast.models import ForecastRun
from campaign.quality.models import QualityRun
from campaign.timeline.models import Task
from tests.forecast.test_forecast import ledger  # noqa: F401  (a fixture, used by name)
from tests.timeutil import at

SHANGHAI = ZoneInfo("Asia/Shanghai")

LINE = re.compile(
    r"forecast backtest: MAE (\d+\.\d) points over (\d+) forecasts, "
    r"at-risk precision (\d+|—) %, recall (\d+|—) %"
)


def test_the_backtest_replays_each_past_report_day_of_the_demo(app, runner):
    with at(2026, 11, 22, 10, 0):
        campaign = demo.load(db.session, today=date(2026, 11, 22), size=0.05)
        db.session.commit()
        result = runner.invoke(args=["forecast", "backtest", "--campaign", str(campaign.id)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    match = LINE.fullmatch(lines[-1])
    assert match, lines[-1]
    # The report days of the build phase before the 11-20 deadline, from its second week on;
    # compared with the figures at the deadline (it has passed).
    days = ["2026-09-10", "2026-09-25", "2026-10-10", "2026-10-25", "2026-11-10"]
    replayed = [line for line in lines if re.match(r"\s+2026-\d\d-\d\d：", line)]
    assert [line.split("：")[0].strip() for line in replayed] == days
    per_day = [int(re.search(r"：(\d+)个预测", line).group(1)) for line in replayed]
    assert int(match.group(2)) == sum(per_day) > 0
    assert any("对照2026-11-20的实际值" in line for line in lines)
    # Forecasts made closer to the deadline miss by less than those made in September.
    maes = [float(re.search(r"误差([\d.]+)个", line).group(1)) for line in replayed]
    assert maes[-1] < maes[0]


def test_the_backtest_of_a_campaign_that_does_not_exist_is_refused(app, runner):
    result = runner.invoke(args=["forecast", "backtest", "--campaign", "7"])
    assert result.exit_code != 0
    assert "行动编号“7”不存在" in result.output


def _build(campaign):
    return next(p for p in campaign.phases if p.code == "build")


def test_without_a_day_the_demo_puts_today_in_the_build_phase(app):
    with at(2026, 12, 6, 10, 0):
        campaign = demo.load(db.session, size=0.02)
        db.session.commit()
    build = _build(campaign)
    # 12-06 is past 11-20: the template's dates move 50 days, today 51 of the phase's 85 days in.
    assert (build.starts_on, build.ends_on) == (date(2026, 10, 16), date(2027, 1, 9))
    assert (campaign.starts_on, campaign.ends_on) == (date(2026, 10, 3), date(2027, 2, 18))
    assert build_deadline(campaign) == date(2027, 1, 9)
    open_items = db.session.scalar(
        select(func.count()).select_from(BoardItem).where(BoardItem.state != ItemState.CLOSED)
    )
    assert open_items > 0
    # The tasks follow the phases: some are still ahead.
    assert db.session.scalar(select(func.max(Task.due_on))) > date(2026, 12, 6)
    # What the scheduler would find first is there from the start: the overview's forecast
    # is of today, and the data-quality check has run (the bulletins made up read both).
    assert db.session.get(ForecastRun, campaign.id).as_of == date(2026, 12, 6)
    assert db.session.scalar(select(func.count()).select_from(QualityRun)) == 1


def test_a_demo_placed_to_start_just_before_a_report_day_files_no_report_before_it_opens(app):
    # 11-26: the template's build phase (08-27 to 11-20, 85 days) moves 40 days, so that
    # today is 51 days (three fifths) into it; the campaign then starts on 09-23, two days
    # before its first report day (09-25). That first period's reports are filed within it.
    from campaign.half_monthly.models import UnitReport

    with at(2026, 11, 26, 10, 0):
        campaign = demo.load(db.session, size=0.02)
        db.session.commit()
    assert campaign.starts_on == date(2026, 9, 23)
    first = db.session.scalars(select(UnitReport).where(UnitReport.due_on == date(2026, 9, 25)))
    filed = [r.submitted_at.astimezone(SHANGHAI).date() for r in first]
    assert filed and min(filed) >= date(2026, 9, 23)


def test_in_the_build_phase_already_the_demo_keeps_the_template_dates(app):
    with at(2026, 9, 15, 10, 0):
        campaign = demo.load(db.session, size=0.02)
    assert (campaign.starts_on, _build(campaign).ends_on) == (date(2026, 8, 14), date(2026, 11, 20))


def test_demo_load_as_of_a_day_builds_that_years_campaign_on_the_template_dates(app, runner):
    with at(2026, 12, 6, 10, 0):
        result = runner.invoke(args=["demo", "load", "--as-of", "2026-11-22", "--size", "0.02"])
    assert result.exit_code == 0, result.output
    campaign = db.session.scalar(select(Campaign))
    assert (campaign.starts_on, campaign.ends_on) == (date(2026, 8, 14), date(2026, 12, 30))
    assert _build(campaign).ends_on == date(2026, 11, 20)


def test_before_the_deadline_the_backtest_forecasts_to_today(ledger, runner):  # noqa: F811
    """tests/forecast/test_forecast.py's ledger on 09-26 (deadline 10-01): the report days
    09-10 and 09-25 are replayed, each forecasting to 09-26 and compared with 09-26's figures
    (甲 20/26, 乙 10/40, 丙 3/5 and 应建尽建 2/5; 甲 and 乙 have no organization required to
    have a Party org: 8 forecasts).

    09-10 (2 weeks behind, 16 days = 2.29 weeks ahead): 甲 16 + 4 × 2.29 = 9 → 25/26, off by
    5/26 = 19.23 points; 乙 5 + 2 × 2.29 → 5 → 10/40, right; 丙 2 + 0.5 × 2.29 → 1 → 3/5 right,
    and 应建尽建 3/5 against 2/5: 20 points. 09-25 (1 day ahead): nothing added, all right.
    MAE (19.23 + 20) / 8 = 4.9. At risk: on 09-10 乙, 丙 and 丙's 应建尽建 (甲 at 96 %), on
    09-25 all four: 7 calls, all below target on 09-26 (甲 76.9 %); of the 8 below, 7 called.
    """
    with at(2026, 9, 26, 10, 0):
        result = runner.invoke(args=["forecast", "backtest"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert "对照2026-09-26的实际值" in result.output
    assert lines[-1] == (
        "forecast backtest: MAE 4.9 points over 8 forecasts, at-risk precision 100 %, recall 88 %"
    )
