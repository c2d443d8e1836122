"""Half-monthly unit reports (半月报): periods, on time or late, frozen figures, versions.

Campaign 2026 from the wuhan-2016 template runs 08-14 to 12-30 with reports due on the
10th and the 25th (DOMAIN.md §2). Worked out by hand, the due days inside the campaign
are 08-25, 09-10, 09-25, 10-10, 10-25, 11-10, 11-25, 12-10, 12-25 (nine; none after
12-25 although the campaign runs to 12-30), and each period starts the day after the
previous due day (the first one on the campaign's first day, 08-14).

A report is on time until 23:59:59 Beijing time on the due day, i.e. 15:59:59 UTC. The
process zone is UTC for these tests; time_machine is given UTC instants (a ZoneInfo
destination would switch the process zone too).
"""

import io
import re
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import csrf_token, loaded, login, make_campaign, make_org, make_unit, make_user, refs
from sqlalchemy import func, select

from campaign import figures
from campaign.core.campaigns import report_due_days
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.storage import resolve
from campaign.core.vocab import UnitKind
from campaign.half_monthly import services
from campaign.half_monthly.inputs import ReportText
from campaign.half_monthly.models import UnitReport
from campaign.ledger.services import update_organization
from tests import documents
from tests.timeutil import at, machine_zone, shanghai

PDF = documents.pdf("江岸区半月报")

PERIODS_2026 = [
    (date(2026, 8, 14), date(2026, 8, 25)),
    (date(2026, 8, 26), date(2026, 9, 10)),
    (date(2026, 9, 11), date(2026, 9, 25)),
    (date(2026, 9, 26), date(2026, 10, 10)),  # across the month end
    (date(2026, 10, 11), date(2026, 10, 25)),
    (date(2026, 10, 26), date(2026, 11, 10)),
    (date(2026, 11, 11), date(2026, 11, 25)),
    (date(2026, 11, 26), date(2026, 12, 10)),
    (date(2026, 12, 11), date(2026, 12, 25)),
]


@pytest.fixture(autouse=True)
def utc_machine_zone():
    with machine_zone("UTC"):
        yield


@pytest.fixture
def world(app, built_once):
    built = loaded(built_once("tests.half_monthly.reports.world", _build_world))
    return SimpleNamespace(app=app, **vars(built), storage=Path(app.config["STORAGE_PATH"]))


def _build_world() -> SimpleNamespace:
    jiangan = make_unit("jiangan", "江岸区")
    wuchang = make_unit("wuchang", "武昌区")
    mzj = make_unit("mzj", "市民政局", kind=UnitKind.DEPARTMENT)
    jiangan.position, wuchang.position, mzj.position = 1, 2, 3
    users = {
        "coord": make_user("coord", "coordinator"),
        "op_jiangan": make_user("op_jiangan", "operator", jiangan),
        "op_wuchang": make_user("op_wuchang", "operator", wuchang),
        "op_mzj": make_user("op_mzj", "operator", mzj),
    }
    campaign = make_campaign(2026)
    db.session.commit()
    return refs(
        SimpleNamespace(campaign=campaign, jiangan=jiangan, wuchang=wuchang, mzj=mzj, **users)
    )


def submit(world, unit, due: date, progress="本期完成排查摸底，新建党组织1个。", attachment=None):
    user = getattr(world, f"op_{unit.code}")
    report = services.submit_report(
        db.session,
        world.campaign,
        unit,
        due,
        ReportText.from_form({"progress": progress, "problems": "", "next_steps": "继续推进"}),
        attachment,
        user,
        world.storage,
    )
    db.session.commit()
    return report


def overview(world, due: date) -> dict[str, str]:
    rows = services.period_overview(db.session, world.campaign, due, None, datetime.now(UTC))
    return {unit.code: state for unit, _, state in rows}


def reports(world) -> int:
    return db.session.scalar(select(func.count()).select_from(UnitReport))


def user_client(world, username: str):
    """A logged-in client and its CSRF token (log in at the earliest moment a test travels
    to: Flask refuses a session cookie signed "in the future")."""
    client = world.app.test_client()
    login(client, username)
    path = (
        f"/campaigns/{world.campaign.id}/timeline"
        if username == "coord"
        else f"/campaigns/{world.campaign.id}/units/{username[3:]}/reports/2026-08-25"
    )
    return client, csrf_token(client, path)


def status_rows(html: str) -> dict[str, tuple[str, str]]:
    """Unit name -> (state class, label) on the /reports page."""
    return {
        name: (state, label)
        for name, state, label in re.findall(
            r'<tr><td class="text">([^<]+)</td><td class="r-(\w+)">([^<]+)</td>', html
        )
    }


# ---- periods -------------------------------------------------------------------------------


def test_the_2026_campaign_has_nine_periods(world):
    got = [(p.starts_on, p.due_on) for p in services.periods(world.campaign)]
    assert got == PERIODS_2026
    assert report_due_days(world.campaign) == [due for _, due in PERIODS_2026]
    assert services.periods(world.campaign)[3].label == "10月10日报送（9月26日—10月10日）"


@pytest.mark.parametrize(
    "today, due",
    [
        (date(2026, 8, 14), date(2026, 8, 25)),
        (date(2026, 8, 25), date(2026, 8, 25)),
        (date(2026, 8, 26), date(2026, 9, 10)),
        (date(2026, 9, 30), date(2026, 10, 10)),
        (date(2026, 12, 25), date(2026, 12, 25)),
        (date(2026, 12, 26), None),  # the campaign runs to 12-30, with no period after 12-25
    ],
)
def test_current_period(world, today, due):
    period = services.current_period(world.campaign, today)
    assert (period.due_on if period else None) == due


def test_only_due_days_are_periods(world):
    assert services.period_for(world.campaign, date(2026, 9, 25)).starts_on == date(2026, 9, 11)
    with pytest.raises(ValidationFailed, match="2026-09-11 不是本行动的半月报送日"):
        services.period_for(world.campaign, date(2026, 9, 11))
    with pytest.raises(ValidationFailed, match="不是本行动的半月报送日"):
        services.period_for(world.campaign, date(2026, 12, 30))


# ---- on time or late ------------------------------------------------------------------------


def test_the_last_second_of_the_due_day_is_on_time_and_midnight_is_late(world):
    due = date(2026, 11, 10)
    with at(2026, 11, 10, 23, 59, 59):  # 15:59:59 UTC
        on_time = submit(world, world.jiangan, due)
        assert overview(world, due) == {
            "jiangan": "on_time",
            "wuchang": "waiting",
            "mzj": "waiting",
        }
    with at(2026, 11, 11, 0, 0, 0):  # 16:00:00 UTC
        late = submit(world, world.wuchang, due)
        states = overview(world, due)
    assert (on_time.is_late, late.is_late) == (False, True)
    assert on_time.submitted_at == datetime(2026, 11, 10, 15, 59, 59, tzinfo=UTC)
    assert late.submitted_at == shanghai(2026, 11, 11, 0, 0, 0)
    assert states == {"jiangan": "on_time", "wuchang": "late", "mzj": "missing"}
    labels = {code: services.REPORT_STATE_LABELS[s] for code, s in states.items()}
    assert labels == {"jiangan": "按时报送", "wuchang": "迟报", "mzj": "未报送"}
    # The figures were taken on the Beijing day of submission.
    assert late.figures["taken_at"].startswith("2026-11-11T00:00:00")


def test_overview_waits_until_the_due_day_is_over(world):
    due = date(2026, 9, 10)
    with at(2026, 9, 10, 23, 59, 59):
        assert set(overview(world, due).values()) == {"waiting"}
    with at(2026, 9, 11, 0, 0, 0):
        assert set(overview(world, due).values()) == {"missing"}
    # An earlier period is long over, a later one not yet due.
    with at(2026, 9, 11, 0, 0, 0):
        assert set(overview(world, date(2026, 8, 25)).values()) == {"missing"}
        assert set(overview(world, date(2026, 9, 25)).values()) == {"waiting"}


# ---- frozen figures, versions, returns ------------------------------------------------------


def test_frozen_figures_versions_and_return(world):
    """江岸区: 2 enterprises of 10 employees (nothing required of them); one with a joint
    Party org founded 09-01 -> base 2, 1 Party org, coverage 0.5, 1 new Party org in the
    period 08-26..09-10. Later the other gets a Party org too -> 2/2, coverage 1.0."""
    due = date(2026, 9, 10)
    make_org(
        world.campaign,
        world.jiangan,
        name="江岸甲",
        formal=1,
        party_org="joint",
        founded_on=date(2026, 9, 1),
    )
    other = make_org(world.campaign, world.jiangan, name="江岸乙")
    db.session.commit()

    with at(2026, 9, 5, 10, 0):
        coord, token = user_client(world, "coord")
        v1 = submit(world, world.jiangan, due)
    snap = v1.figures
    assert snap["unit"] == {"code": "jiangan", "name": "江岸区"}
    assert snap["period"] == {"starts_on": "2026-08-26", "due_on": "2026-09-10"}
    assert snap["figures"]["counts"]["base"] == 2
    assert snap["figures"]["counts"]["with_party_org"] == 1
    assert snap["figures"]["party_org_coverage"] == 0.5
    assert snap["new_party_orgs_in_period"] == 1
    assert snap["required_unmet"] == 0
    assert snap["pending_change_requests"] == 0
    assert (v1.version, v1.status, v1.is_late) == (1, "submitted", False)

    with at(2026, 9, 6, 10, 0):
        update_organization(
            db.session,
            world.campaign,
            other,
            {"party_org_status": "joint", "formal_members": 1},
            world.op_jiangan,
        )
        db.session.commit()
        now_figures = figures.overall(db.session, world.campaign, [world.jiangan.id])
        assert now_figures.counts.with_party_org == 2
        assert now_figures.party_org_coverage == 1.0
        db.session.expire_all()
        stored = db.session.get(UnitReport, v1.id).figures
        assert stored == snap  # the report did not move with the ledger
        html = coord.get(f"/campaigns/{world.campaign.id}/units/jiangan/reports/2026-09-10")
        v1_html = html.get_data(as_text=True).split('id="report-v1"')[1]
        assert "50.0%" in v1_html and "100.0%" not in v1_html.split("工作进展")[0]

    with at(2026, 9, 7, 10, 0):  # a correction: version 2, version 1 kept
        v2 = submit(world, world.jiangan, due, progress="更正：江岸乙已联合组建党组织。")
    db.session.expire_all()
    v1 = db.session.get(UnitReport, v1.id)
    assert (v2.version, v2.status) == (2, "submitted")
    assert v1.status == "superseded"
    assert v1.figures == snap
    assert v2.figures["figures"]["counts"]["with_party_org"] == 2
    assert v2.figures["figures"]["party_org_coverage"] == 1.0
    assert v1.progress == "本期完成排查摸底，新建党组织1个。"

    with at(2026, 9, 8, 9, 0):
        return_url = f"/campaigns/{world.campaign.id}/reports/{v2.id}/return"
        response = coord.post(
            return_url, data={"csrf_token": token, "comment": "  "}, follow_redirects=True
        )
        assert "退回时必须填写退回意见" in response.get_data(as_text=True)
        assert db.session.get(UnitReport, v2.id).status == "submitted"
        # Only the newest version can be returned.
        response = coord.post(
            f"/campaigns/{world.campaign.id}/reports/{v1.id}/return",
            data={"csrf_token": token, "comment": "请更正"},
            follow_redirects=True,
        )
        assert "只能退回最新一版已报送的报告" in response.get_data(as_text=True)
        coord.post(return_url, data={"csrf_token": token, "comment": "请补充江岸乙组建时间"})
        db.session.expire_all()
        v2 = db.session.get(UnitReport, v2.id)
        assert (v2.status, v2.return_comment) == ("returned", "请补充江岸乙组建时间")
        assert v2.returned_by_id == world.coord.id
        assert overview(world, due)["jiangan"] == "returned"
        html = coord.get(f"/campaigns/{world.campaign.id}/reports?due=2026-09-10")
        assert status_rows(html.get_data(as_text=True))["江岸区"] == ("returned", "已退回")

    with at(2026, 9, 9, 9, 0):  # the unit files version 3; version 2 stays returned
        v3 = submit(world, world.jiangan, due, progress="补充：江岸乙9月6日联合组建。")
        db.session.expire_all()
        assert [
            (r.version, r.status)
            for r in db.session.scalars(select(UnitReport).order_by(UnitReport.version))
        ] == [(1, "superseded"), (2, "returned"), (3, "submitted")]
        assert v3.version == 3
        assert overview(world, due)["jiangan"] == "on_time"


# ---- refusals --------------------------------------------------------------------------------


def test_a_period_that_has_not_started_is_refused(world):
    due = date(2026, 9, 25)  # period 09-11..09-25
    with at(2026, 9, 10, 23, 59, 59):
        with pytest.raises(ValidationFailed, match="尚未开始，不能提前报送"):
            submit(world, world.jiangan, due)
    db.session.rollback()
    assert reports(world) == 0
    with at(2026, 9, 11, 0, 0, 0):  # 09-10 16:00 UTC: already 09-11 in Beijing
        assert submit(world, world.jiangan, due).version == 1


@pytest.mark.parametrize("progress", ["", "   \n "])
def test_empty_progress_is_refused(world, progress):
    with at(2026, 9, 5, 10, 0):
        with pytest.raises(ValidationFailed, match="「工作进展」不能为空"):
            submit(world, world.jiangan, date(2026, 9, 10), progress=progress)
    db.session.rollback()
    assert reports(world) == 0


# ---- through the web -----------------------------------------------------------------------


def test_unit_operator_reports_through_the_page(world):
    url = f"/campaigns/{world.campaign.id}/units/jiangan/reports/2026-09-10"
    with at(2026, 9, 5, 10, 0):
        op, token = user_client(world, "op_jiangan")
        response = op.post(
            url,
            data={
                "csrf_token": token,
                "progress": "完成9月上半月排查",
                "problems": "个别企业联系不上",
                "next_steps": "继续走访",
                "attachment": (io.BytesIO(PDF), "江岸区半月报.pdf"),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 302
        report = db.session.scalars(select(UnitReport)).one()
        assert (report.unit_id, report.due_on, report.version) == (
            world.jiangan.id,
            date(2026, 9, 10),
            1,
        )
        assert (report.progress, report.problems, report.next_steps) == (
            "完成9月上半月排查",
            "个别企业联系不上",
            "继续走访",
        )
        assert report.submitted_by_id == world.op_jiangan.id and not report.is_late
        assert report.attachment_path.startswith("reports/")  # relative to STORAGE_PATH
        assert resolve(report.attachment_path).is_relative_to(world.storage)
        assert resolve(report.attachment_path).read_bytes() == PDF
        html = op.get(url).get_data(as_text=True)
        assert "已报送第1版。" in html and 'id="report-v1"' in html

        # Refusals on the page: 422 with the reason, nothing stored.
        response = op.post(url, data={"csrf_token": token, "progress": " "})
        assert response.status_code == 422
        assert "「工作进展」不能为空" in response.get_data(as_text=True)
        response = op.post(
            url,
            data={
                "csrf_token": token,
                "progress": "x",
                "attachment": (io.BytesIO(b"MZ\x90"), "tool.exe"),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 422
        assert "《tool.exe》类型不允许" in response.get_data(as_text=True)
        assert reports(world) == 1
        assert not list(world.storage.rglob("*.exe"))


def test_who_may_see_and_file_a_units_report(world):
    url = f"/campaigns/{world.campaign.id}/units/jiangan/reports/2026-09-10"
    with at(2026, 9, 5, 10, 0):
        other, other_token = user_client(world, "op_wuchang")
        coord, coord_token = user_client(world, "coord")
        assert other.get(url).status_code == 404
        response = other.post(url, data={"csrf_token": other_token, "progress": "代报"})
        assert response.status_code == 404
        assert coord.get(url).status_code == 200
        response = coord.post(url, data={"csrf_token": coord_token, "progress": "代报"})
        assert response.status_code == 403  # coordinators read, units file
        assert "只有本单位的填报员可以报送" in response.get_data(as_text=True)
        assert reports(world) == 0
        base = f"/campaigns/{world.campaign.id}/units/jiangan/reports"
        assert coord.get(f"{base}/2026-09-11").status_code == 404  # not a due day
        assert coord.get(f"{base}/9月10日").status_code == 404

        report = submit(world, world.jiangan, date(2026, 9, 10))
        response = other.post(
            f"/campaigns/{world.campaign.id}/reports/{report.id}/return",
            data={"csrf_token": other_token, "comment": "退回"},
        )
        assert response.status_code == 404
        own, own_token = user_client(world, "op_jiangan")
        response = own.post(
            f"/campaigns/{world.campaign.id}/reports/{report.id}/return",
            data={"csrf_token": own_token, "comment": "退回"},
        )
        assert response.status_code == 403  # his own unit's report: seen, not his to return
        assert db.session.get(UnitReport, report.id).status == "submitted"


def test_coordinator_sees_every_units_state_for_a_period(world):
    url = f"/campaigns/{world.campaign.id}/reports?due=2026-09-10"
    with at(2026, 9, 5, 10, 0):
        coord, _ = user_client(world, "coord")
        op, _ = user_client(world, "op_wuchang")
        submit(world, world.jiangan, date(2026, 9, 10))
        assert status_rows(coord.get(url).get_data(as_text=True)) == {
            "江岸区": ("on_time", "按时报送"),
            "武昌区": ("waiting", "待报送"),
            "市民政局": ("waiting", "待报送"),
        }
        # An operator sees the own unit only.
        assert status_rows(op.get(url).get_data(as_text=True)) == {"武昌区": ("waiting", "待报送")}
    with at(2026, 9, 11, 8, 0):
        submit(world, world.wuchang, date(2026, 9, 10))
        assert status_rows(coord.get(url).get_data(as_text=True)) == {
            "江岸区": ("on_time", "按时报送"),
            "武昌区": ("late", "迟报"),
            "市民政局": ("missing", "未报送"),
        }
        # Without ?due= the page shows the current period (09-11..09-25): nobody yet.
        html = coord.get(f"/campaigns/{world.campaign.id}/reports").get_data(as_text=True)
        assert 'value="2026-09-25" selected' in html
        assert set(status_rows(html).values()) == {("waiting", "待报送")}
        assert (
            coord.get(f"/campaigns/{world.campaign.id}/reports?due=2026-09-11").status_code == 404
        )


def test_a_correction_after_the_due_day_does_not_make_an_on_time_report_late(world):
    due = date(2026, 11, 10)
    with at(2026, 11, 9, 16, 0):
        first = submit(world, world.jiangan, due)
    with at(2026, 11, 12, 9, 0):  # two days after the due day
        second = submit(world, world.jiangan, due, progress="更正：新建党组织2个。")
        states = overview(world, due)
    assert (first.is_late, second.is_late, second.version) == (False, True, 2)
    assert states["jiangan"] == "on_time"  # the unit did report by the 10th


# ---- the page before and after filing ----------------------------------------------------------


def frozen(html: str, element_id: str) -> dict[str, str]:
    """The figures of a .frozen block: label -> value."""
    block = html.split(f'id="{element_id}"', 1)[1].split("</div>\n</div>", 1)[0]
    return dict(re.findall(r"<span>([^<]+)</span><strong>([^<]+)</strong>", block))


def test_the_form_shows_what_a_filing_freezes_and_a_filed_report_comes_before_any_correction(
    world,
):
    """江岸区 as in the frozen-figures test: base 2, one joint Party org founded 09-01 in the
    period 08-26..09-10 -> 1 of 2, 50.0%, 1 new. On 09-06 the other gets one too -> 100.0%."""
    make_org(
        world.campaign,
        world.jiangan,
        name="江岸甲",
        formal=1,
        party_org="joint",
        founded_on=date(2026, 9, 1),
    )
    other = make_org(world.campaign, world.jiangan, name="江岸乙")
    db.session.commit()
    url = f"/campaigns/{world.campaign.id}/units/jiangan/reports/2026-09-10"
    half = {"党建基数": "2", "已建党组织": "1", "党组织覆盖率": "50.0%", "本期新建党组织": "1"}

    with at(2026, 9, 5, 10, 0):
        op, token = user_client(world, "op_jiangan")
        coord, _ = user_client(world, "coord")
        before = op.get(url).get_data(as_text=True)
        assert frozen(before, "report-preview").items() >= half.items()
        assert "报送新版本" not in before and "已报送版本" not in before
        # Who cannot file sees no form and no preview.
        assert "report-preview" not in coord.get(url).get_data(as_text=True)

        op.post(url, data={"csrf_token": token, "progress": "完成9月上半月排查"})
        after = op.get(url).get_data(as_text=True)
        # The filed version first; the correction below it, folded, its figures as of now.
        assert after.index('id="report-v1"') < after.index('id="new-version"')
        assert re.search(r'<details class="panel" id="new-version"\s*>', after)  # folded
        assert "<h2>报送</h2>" not in after
        assert frozen(after, "report-v1-figures").items() >= half.items()
        # A refused correction comes back unfolded, with its problem.
        refused = op.post(url, data={"csrf_token": token, "progress": " "})
        assert refused.status_code == 422
        assert re.search(
            r'<details class="panel" id="new-version"\s*open>', refused.get_data(as_text=True)
        )

    with at(2026, 9, 6, 10, 0):
        update_organization(
            db.session,
            world.campaign,
            other,
            {"party_org_status": "joint", "formal_members": 1},
            world.op_jiangan,
        )
        db.session.commit()
        later = op.get(url).get_data(as_text=True)
    assert frozen(later, "report-v1-figures")["党组织覆盖率"] == "50.0%"  # as filed
    assert frozen(later, "report-preview")["党组织覆盖率"] == "100.0%"  # what a correction freezes
    assert frozen(later, "report-preview")["已建党组织"] == "2"
    # A correction starts from what was filed.
    assert re.search(r'<textarea id="progress" name="progress">完成9月上半月排查</textarea>', later)


def test_a_returned_report_asks_for_the_new_version_above_it(world):
    url = f"/campaigns/{world.campaign.id}/units/jiangan/reports/2026-09-10"
    with at(2026, 9, 5, 10, 0):
        op, _ = user_client(world, "op_jiangan")
        report = submit(world, world.jiangan, date(2026, 9, 10))
        services.return_report(db.session, report, "请补充新建党组织名称", world.coord)
        db.session.commit()
        html = op.get(url).get_data(as_text=True)
    heading = html.index("<h2>按退回意见报送新版本</h2>")
    assert heading < html.index('id="report-form"') < html.index('id="report-v1"')
    assert "第1版已退回：请补充新建党组织名称" in html
    assert 'id="new-version"' not in html  # one form, not two
