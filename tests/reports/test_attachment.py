"""The bulletin's attachment (xlsx) and what the stored snapshot keeps (counts, not lists).

The ledger is make_two_districts() (tests/conftest.py) plus five enterprises of 10 staff
with 3 formal members and no Party org (应单独组建: each a board item), put on the board on
2026-10-20. 第6期 covers closures verified after 第5期's cut-off (10-25 18:00) up to its
own (11-10 18:00), and lists the items still open whose planned date is before 11-10:

  武昌丙  verified 10-25 17:59        -> 第5期's, not listed
  武昌丁  verified 10-25 18:30        -> listed (the evening after 第5期's cut-off)
  江岸戊  verified 11-08 09:00        -> listed, first: units in their order (江岸区 first)
  武昌戊  verified 11-10 18:01        -> after the cut-off, not listed
  武昌甲  (150 staff, nothing) open, planned 11-09          -> overdue, 待攻坚
  江岸己  plan made (推进中), planned 11-01, 李四 responsible -> overdue, 推进中
  江岸庚  open, planned 11-10 (the cut-off day itself)      -> not overdue
Produced on 11-12 at 09:00. Counts in the PDF: 2 closures (江岸区 1, 武昌区 1), 2 overdue.
"""

import copy
import json
import subprocess
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest
from sqlalchemy import select

from campaign import figures
from campaign.board import services as board
from campaign.board.inputs import ClosureClaim, Plan
from campaign.board.models import BoardItem
from campaign.core.extensions import db
from campaign.core.storage import resolve
from campaign.ledger.models import Organization
from campaign.ledger.services import update_organization
from reports import attachment, render, services
from reports.models import BulletinRun
from tests import documents
from tests.conftest import make_org, make_two_districts, make_user
from tests.timeutil import at, machine_zone, shanghai

DAY_6, DAY_7 = date(2026, 11, 10), date(2026, 11, 25)
PDF_UPLOAD = ("批复文件.pdf", documents.pdf("closure evidence"))


@pytest.fixture(autouse=True)
def utc_machine_zone():
    with machine_zone("UTC"):
        yield


def item_of(campaign, name: str) -> BoardItem:
    return db.session.scalar(
        select(BoardItem)
        .join(Organization, Organization.id == BoardItem.organization_id)
        .where(BoardItem.campaign_id == campaign.id, Organization.name == name)
    )


def close(w, name: str, leader, established_on: str, *moment) -> None:
    """Submit and verify a 单独组建 closure at ``moment`` (Beijing time)."""
    with at(*moment):
        item = item_of(w.campaign, name)
        form = {
            "method": "standalone",
            "party_org_name": f"{name}党支部",
            "secretary": "王书记",
            "formal_members": "3",
            "established_on": established_on,
        }
        board.submit_closure(
            db.session, item, ClosureClaim.from_form(form), PDF_UPLOAD, leader, w.storage
        )
        board.verify_closure(db.session, item, leader)
        db.session.commit()


@pytest.fixture
def w(app):
    storage = Path(app.config["STORAGE_PATH"])
    with at(2026, 10, 20, 9, 0):
        built = make_two_districts()
        campaign = built.campaign
        for unit, name in [
            (built.wuchang, "武昌丙"),
            (built.wuchang, "武昌丁"),
            (built.wuchang, "武昌戊"),
            (built.jiangan, "江岸戊"),
            (built.jiangan, "江岸己"),
            (built.jiangan, "江岸庚"),
        ]:
            make_org(campaign, unit, name=name, employees=10, formal=3)
        leaders = {
            "wuchang": make_user("wuchang_leader", "leader", built.wuchang),
            "jiangan": make_user("jiangan_leader", "leader", built.jiangan),
        }
        board.sync_items(db.session, campaign)
        item_of(campaign, "武昌甲").planned_on = date(2026, 11, 9)
        item_of(campaign, "江岸庚").planned_on = date(2026, 11, 10)
        board.update_plan(
            db.session,
            item_of(campaign, "江岸己"),
            Plan.from_form(
                {"planned_on": "2026-11-01", "responsible_person": "李四", "measures": "联系党员"}
            ),
            leaders["jiangan"],
        )
        db.session.commit()
    w = SimpleNamespace(
        app=app,
        campaign=campaign,
        storage=storage,
        settings=services.settings_from(app.config),
        orgs={o.name: o for o in db.session.scalars(select(Organization))},
    )
    close(w, "武昌丙", leaders["wuchang"], "2026-10-24", 2026, 10, 25, 17, 59)
    close(w, "武昌丁", leaders["wuchang"], "2026-10-25", 2026, 10, 25, 18, 30)
    close(w, "江岸戊", leaders["jiangan"], "2026-11-07", 2026, 11, 8, 9, 0)
    close(w, "武昌戊", leaders["wuchang"], "2026-11-10", 2026, 11, 10, 18, 1)
    return w


def publish(w, day: date, moment):
    with at(*moment):
        return services.generate(db.session, w.campaign, day, w.settings, "cli")


def sheet_rows(path: str, title: str) -> list[tuple]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(book[title].iter_rows(values_only=True))
    finally:
        book.close()


def test_the_attachment_lists_what_the_pdf_counts(w):
    bulletin = publish(w, DAY_6, (2026, 11, 12, 9, 0))
    title = bulletin.title
    code = {name: org.credit_code for name, org in w.orgs.items()}

    closures = sheet_rows(resolve(bulletin.xlsx_path), "本期销号")
    assert closures[:2] == [
        (f"{title}——本期销号",),
        ("单位", "组织名称", "统一社会信用代码", "销号方式", "党组织名称", "成立日期", "核验时间"),
    ]
    assert closures[2:] == [
        (
            "江岸区",
            "江岸戊",
            code["江岸戊"],
            "单独组建",
            "江岸戊党支部",
            "2026-11-07",
            "2026-11-08T09:00+08:00",
        ),
        (
            "武昌区",
            "武昌丁",
            code["武昌丁"],
            "单独组建",
            "武昌丁党支部",
            "2026-10-25",
            "2026-10-25T18:30+08:00",
        ),
    ]
    overdue = sheet_rows(resolve(bulletin.xlsx_path), "逾期事项")
    assert overdue[1] == (
        "单位",
        "组织名称",
        "统一社会信用代码",
        "攻坚目标",
        "状态",
        "计划完成时间",
        "责任人",
    )
    assert overdue[2:] == [
        ("江岸区", "江岸己", code["江岸己"], "应单独组建", "推进中", "2026-11-01", "李四"),
        ("武昌区", "武昌甲", code["武昌甲"], "应建党组织", "待攻坚", "2026-11-09", None),
    ]
    units = sheet_rows(resolve(bulletin.xlsx_path), "各单位情况")
    assert {r[1]: r[9] for r in units[2:]} == {"江岸区": 1, "武昌区": 1}  # 逾期事项

    # The snapshot holds the counts the PDF prints, not the lists.
    data = json.loads(bulletin.snapshot)
    assert data["version"] == 3
    assert "closures" not in data and "overdue_items" not in data
    assert (data["overall"]["closures_verified"], data["overall"]["overdue_items"]) == (2, 2)
    assert {u["name"]: u["closures_verified"] for u in data["units"]} == {
        "江岸区": 1,
        "武昌区": 1,
    }
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", resolve(bulletin.pdf_path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    whole = "".join(text.split())
    assert "本期新建党组织" in whole and "核验销号2个。" in whole
    assert "全市核验销号2个，其中江岸区1个、武昌区1个。" in whole
    assert "其中2个超过计划完成时间仍未销号（清单见附件）" in whole


def test_writing_the_lists_reports_progress_and_keeps_the_run_alive(w, monkeypatch):
    # 第6期 lists 2 closures and 2 overdue items: with progress every row, the steps say
    # 1/4 .. 4/4 and move the percent from 5 (gathering) towards 25 (rendering).
    monkeypatch.setattr(attachment, "PROGRESS_EVERY", 1)
    heard, seen_by_others = [], []
    postgresql = db.session.get_bind().dialect.name == "postgresql"

    def progress(step, percent):
        heard.append((step, percent))
        if postgresql and step.startswith("写入附件"):
            # What the archive page and another scheduler process read meanwhile.
            with db.engine.connect() as other:
                seen_by_others.append(
                    other.execute(
                        select(BulletinRun.step, BulletinRun.progress).order_by(
                            BulletinRun.id.desc()
                        )
                    ).first()
                )

    with at(2026, 11, 12, 9, 0):
        services.generate(db.session, w.campaign, DAY_6, w.settings, "cli", progress=progress)
    lists = [(step, percent) for step, percent in heard if step.startswith("写入附件")]
    assert lists == [
        ("写入附件（1/4 行）", 10),
        ("写入附件（2/4 行）", 15),
        ("写入附件（3/4 行）", 20),
        ("写入附件（4/4 行）", 25),
    ]
    assert heard[0][1] == 5 and heard[-1] == ("完成", 100)
    if postgresql:
        assert seen_by_others == [tuple(p) for p in lists]


def test_a_version_1_snapshot_renders_as_it_did(w):
    # Bulletins stored before version 2 carry the closures (and overdue items) as lists and
    # no count: the PDF they re-render to (flask bulletin verify) must not change.
    bulletin = publish(w, DAY_6, (2026, 11, 12, 9, 0))
    data = json.loads(bulletin.snapshot)
    old = copy.deepcopy(data)
    old["version"] = 1
    del old["overall"]["closures_verified"]
    old["closures"] = [{"unit_code": "jiangan"}, {"unit_code": "wuchang"}]
    old["overdue_items"] = [{}, {}]

    assert render.html(old) == render.html(data)


def test_the_trend_takes_published_points_and_the_ledger_for_the_others(w):
    first = publish(w, DAY_6, (2026, 11, 12, 9, 0))
    trend = json.loads(first.snapshot)["trend"]
    # No bulletin before 第6期: every earlier point is the ledger as of its report day.
    assert [p["number"] for p in trend] == [1, 2, 3, 4, 5, 6]
    for point in trend:
        day = date.fromisoformat(point["due_on"])
        assert (
            point["coverage"]
            == figures.overall(db.session, w.campaign, as_of=day).party_org_coverage
        )
    assert trend[-1]["coverage"] == json.loads(first.snapshot)["overall"]["party_org_coverage"]

    # Later a Party org is entered with a founding day inside 第6期's period: the ledger as of
    # 11-10 changes, the published 第6期 does not, and 第7期 shows 第6期 as published.
    with at(2026, 11, 20, 9, 0):
        update_organization(
            db.session,
            w.campaign,
            w.orgs["江岸庚"],
            {
                "party_org_status": "standalone",
                "party_org_name": "江岸庚党支部",
                "party_org_founded_on": date(2026, 11, 2),
            },
            user=None,
        )
        db.session.commit()
    second = publish(w, DAY_7, (2026, 11, 25, 18, 1))
    points = {p["number"]: p["coverage"] for p in json.loads(second.snapshot)["trend"]}
    assert points[6] == trend[-1]["coverage"]
    assert points[6] != figures.overall(db.session, w.campaign, as_of=DAY_6).party_org_coverage
    assert points[5] == trend[4]["coverage"]
    assert second.cutoff_at == shanghai(2026, 11, 25, 18, 0)
