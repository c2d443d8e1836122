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
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
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
from reports.models import Bulletin, BulletinRun
from tests import documents
from tests.conftest import loaded, make_org, make_two_districts, make_user, refs
from tests.ledger.conftest import soffice
from tests.timeutil import at, machine_zone, shanghai

DAY_6, DAY_7 = date(2026, 11, 10), date(2026, 11, 25)
PDF_UPLOAD = ("批复文件.pdf", documents.pdf("closure evidence"))


@pytest.fixture(autouse=True)
def utc_machine_zone():
    with machine_zone("UTC"):
        yield


# The attachment's sheets, in the order a reader finds them.
SHEETS = ["各单位情况", "本期销号", "逾期事项", "数据质量线索", "未解决的协调事项"]


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
def w(app, built_once):
    built = loaded(built_once("tests.reports.attachment.w", lambda: _build(app)))
    return SimpleNamespace(
        app=app,
        campaign=built.campaign,
        storage=Path(app.config["STORAGE_PATH"]),
        settings=services.settings_from(app.config),
        orgs=built.orgs,
    )


def _build(app) -> SimpleNamespace:
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
    return refs(SimpleNamespace(campaign=w.campaign, orgs=w.orgs))


def publish(w, day: date, moment):
    with at(*moment):
        return services.generate(db.session, w.campaign, day, w.settings, "cli")


@pytest.fixture
def sixth(w, built_once) -> Bulletin:
    """第6期 as published on 11-12 at 09:00, after its cut-off: made once per process (its PDF
    and attachment drawn once), copied back for each test."""

    def build() -> int:
        return publish(w, DAY_6, (2026, 11, 12, 9, 0)).id

    return db.session.get_one(Bulletin, built_once("tests.reports.attachment.sixth", build))


def sheet_rows(path: str, title: str) -> list[tuple]:
    """The sheet's rows as Excel shows them, each without its blank cells at the end."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [_trimmed(row) for row in book[title].iter_rows(values_only=True)]
    finally:
        book.close()


def _trimmed(row: tuple) -> tuple:
    end = len(row)
    while end and row[end - 1] is None:
        end -= 1
    return row[:end]


def test_the_attachment_lists_what_the_pdf_counts(w, sixth):
    bulletin = sixth
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
            datetime(2026, 11, 7),  # dates and times as Excel dates, Beijing time
            datetime(2026, 11, 8, 9, 0),
        ),
        (
            "武昌区",
            "武昌丁",
            code["武昌丁"],
            "单独组建",
            "武昌丁党支部",
            datetime(2026, 10, 25),
            datetime(2026, 10, 25, 18, 30),
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
        ("江岸区", "江岸己", code["江岸己"], "应单独组建", "推进中", datetime(2026, 11, 1), "李四"),
        (
            "武昌区",
            "武昌甲",
            code["武昌甲"],
            "应建党组织",
            "待攻坚",
            datetime(2026, 11, 9),
        ),  # no 责任人
    ]
    units = sheet_rows(resolve(bulletin.xlsx_path), "各单位情况")
    assert {r[1]: r[9] for r in units[2:]} == {"江岸区": 1, "武昌区": 1}  # 逾期事项

    # The snapshot holds the counts the PDF prints, not the lists.
    data = json.loads(bulletin.snapshot)
    assert data["version"] == 4
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


def test_a_version_1_snapshot_renders_as_it_did(sixth):
    # Bulletins stored before version 2 carry the closures (and overdue items) as lists and
    # no count: the PDF they re-render to (flask bulletin verify) must not change.
    bulletin = sixth
    data = json.loads(bulletin.snapshot)
    old = copy.deepcopy(data)
    old["version"] = 1
    del old["overall"]["closures_verified"]
    old["closures"] = [{"unit_code": "jiangan"}, {"unit_code": "wuchang"}]
    old["overdue_items"] = [{}, {}]

    assert render.html(old) == render.html(data)


def test_the_trend_takes_published_points_and_the_ledger_for_the_others(w, sixth):
    first = sixth
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


def test_the_attachment_opens_as_an_office_worker_expects(w, sixth):
    # Read back as Excel reads it (openpyxl, full mode): every sheet keeps its caption and
    # header in view and on every printed page, filters them, prints landscape A4 one page
    # wide, and holds dates, times and rates as values with their formats, not text.
    bulletin = sixth
    book = openpyxl.load_workbook(resolve(bulletin.xlsx_path))
    assert book.sheetnames == SHEETS
    # Two units; two closures; two overdue items: header in row 2, rows 3 and 4; no
    # data-quality leads nor 协调事项 in this city: the header alone.
    last_column = {
        "各单位情况": "M",
        "本期销号": "G",
        "逾期事项": "G",
        "数据质量线索": "G",
        "未解决的协调事项": "G",
    }
    last_row = {"数据质量线索": 2, "未解决的协调事项": 2}  # none in this city
    for ws in book:
        rows = last_row.get(ws.title, 4)
        assert ws.freeze_panes == "A3", ws.title
        assert ws.auto_filter.ref == f"A2:{last_column[ws.title]}{rows}", ws.title
        assert ws.print_title_rows == "$1:$2", ws.title
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.page_setup.paperSize == 9, ws.title  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True, ws.title
        # One page wide (OOXML's fitToWidth is 1 when the file leaves it out), as long as it runs.
        assert (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight) == (1, 0), ws.title
        assert ws.max_row == rows, ws.title

    closures = book["本期销号"]
    # Widths in characters as Excel shows them (it stores 36 as 36.71: the cell's padding).
    assert int(closures.column_dimensions["B"].width) == 36  # 组织名称
    assert closures.column_dimensions["G"].width >= 16  # 核验时间 with its minutes
    established, verified = closures["F3"], closures["G3"]  # 江岸戊, verified 11-08 09:00
    assert established.is_date and established.value == datetime(2026, 11, 7)
    assert established.number_format == "yyyy-mm-dd"
    # Beijing time, although the machine runs on UTC (01:00 there).
    assert verified.is_date and verified.value == datetime(2026, 11, 8, 9, 0)
    assert verified.number_format == "yyyy-mm-dd hh:mm"
    planned = book["逾期事项"]["F3"]  # 江岸己, planned 11-01
    assert planned.is_date and planned.value == datetime(2026, 11, 1)
    assert planned.number_format == "yyyy-mm-dd"

    units = book["各单位情况"]
    (jiangan,) = [row for row in units.iter_rows(min_row=3) if row[1].value == "江岸区"]
    # 江岸: 甲, 乙, 丙, 戊, 己, 庚 in the base (丁 is a shell); 甲, 乙 and 戊 (closed 11-08)
    # have a Party org: 3 of 6.
    assert (jiangan[2].value, jiangan[3].value) == (6, 3)
    assert jiangan[5].value == 0.5 and jiangan[5].number_format == "0.0%"


def test_libreoffice_reads_and_prints_the_attachment(tmp_path):
    # Made from a hand-made snapshot and lists (no database): 70 closures, enough for more
    # than one landscape page. LibreOffice opens it, shows the values as formatted, and
    # prints every sheet on landscape A4 with all columns and the header on every page.
    zone = ZoneInfo("Asia/Shanghai")
    snapshot = {
        "title": "关于测试的通报（第6期）",
        "overall": {"closures_verified": 70, "overdue_items": 0},
        "units": [
            {
                "rank": 1,
                "name": "江岸区",
                "counts": {"base": 40, "with_party_org": 28},
                "new_party_orgs": 3,
                "party_org_coverage": 0.7,
                "previous_coverage": 0.625,
                "work_coverage": 0.8,
                "required_coverage": None,
                "overdue_items": 0,
                "gap": 4,
                "phases": {"settled_rate": 0.75, "liaison_rate": 0.5},
            }
        ],
    }
    closures = [
        (
            "江岸区",
            f"江岸测试{n:02d}有限公司",
            f"91420100MA4K{n:06d}",
            "单独组建",
            f"中共江岸测试{n:02d}有限公司支部委员会",
            date(2026, 11, 7),
            datetime(2026, 11, 8, 9, n % 60, tzinfo=zone),
        )
        for n in range(70)
    ]
    source = tmp_path / "附件.xlsx"
    source.write_bytes(attachment.write(snapshot, {"closures": closures, "overdue_items": []}))

    # The first sheet as LibreOffice shows it ("as shown": percentages formatted).
    (csv_file,) = soffice(
        [source], "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true", tmp_path
    )
    lines = csv_file.read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("排名,单位,党建基数")
    assert lines[2] == "1,江岸区,40,28,3,70.0%,62.5%,80.0%,,0,4,75.0%,50.0%"

    (pdf,) = soffice([source], "pdf", tmp_path)
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+841\.\d+ x 595\.\d+ pts \(A4\)", info), info  # landscape
    text = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", pdf, "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pages = [page for page in text.split("\f") if page.strip()]
    listing = [page for page in pages if "本期销号" in page]
    assert len(listing) >= 2  # 70 rows run onto a second page
    for page in listing:
        # The caption and the whole header on each page: one page wide, titles repeated.
        assert "关于测试的通报（第6期）——本期销号" in page
        assert re.search(r"单位\s+组织名称\s+统一社会信用代码.*核验时间", page)
    assert "2026-11-07" in text and "2026-11-08 09:05" in text  # dates shown as dates
    assert "江岸测试69有限公司" in listing[-1]


def small_snapshot(closures: int) -> dict:
    return {
        "title": "关于测试的通报（第6期）",
        "overall": {"closures_verified": closures, "overdue_items": 1},
        "units": [],
    }


def spooled_lists(n: int) -> dict:
    return {
        "closures": (
            ("江岸区", f"江岸{i}", "91420100MA4K000000", "单独组建", f"江岸{i}党支部", None, None)
            for i in range(n)
        ),
        "overdue_items": iter(
            [
                (
                    "武昌区",
                    "武昌甲",
                    "91420100MA4K000001",
                    "应建党组织",
                    "待攻坚",
                    date(2026, 11, 9),
                    None,
                )
            ]  # fmt: skip
        ),
    }


def read_back(data: bytes) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        return {
            ws.title: [_trimmed(row) for row in ws.iter_rows(min_row=3, values_only=True)]
            for ws in book
        }
    finally:
        book.close()


def test_stored_text_reaches_the_attachment_as_text():
    # What a name may hold once stored (or held before the checks on input): text like a
    # formula, OOXML's own escape written literally, a control character, more than a cell
    # holds. Each is read back as the text a reader should see: never a live formula, the
    # escape as typed, the control character dropped, the text cut at 32,767 characters, the
    # markup as typed (and the sheet still a sheet).
    names = [
        '=HYPERLINK("http://evil.example","点此")',
        "江岸_x0041_乙",
        "武昌\x01甲",
        "长" * 40_000,
        "<r>A&B<t>公司</t></r>",  # what XlsxWriter would take for rich-text XML of its own
    ]
    rows = [("江岸区", name, "91420100MA4K000000", "单独组建", "", None, None) for name in names]
    data = attachment.write(small_snapshot(len(rows)), {"closures": rows, "overdue_items": []})
    sheet = openpyxl.load_workbook(io.BytesIO(data))["本期销号"]
    assert [sheet.cell(row=r, column=2).data_type for r in range(3, 8)] == ["s"] * 5  # no formula
    assert sheet.cell(row=3, column=5).value is None  # no 党组织名称: a blank cell
    # The text as Excel and LibreOffice decode it (calamine does; openpyxl leaves _x005F_).
    shown = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("本期销号")
    texts = [row[1] for row in shown.to_python()[2:]]
    assert texts == [names[0], "江岸_x0041_乙", "武昌甲", "长" * 32_767, names[4]]


def test_rows_beyond_what_a_sheet_holds_are_counted_not_dropped(monkeypatch):
    # Excel holds 1,048,576 rows a sheet (a city's data-quality leads could run past it at a
    # million organizations). A sheet made to hold 6 here: caption, header, 3 rows, and its
    # last row says how many were left out; the filters cover the rows listed.
    monkeypatch.setattr(attachment, "EXCEL_ROWS", 6)
    rows = [
        ("江岸区", f"江岸{i}", "91420100MA4K000000", "单独组建", "", None, None) for i in range(10)
    ]
    data = attachment.write(small_snapshot(10), {"closures": rows, "overdue_items": []})
    shown = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("本期销号")
    cells = shown.to_python()
    assert [row[1] for row in cells[2:5]] == ["江岸0", "江岸1", "江岸2"]
    assert cells[5][0] == "另有7行未列出：超过Excel每张表6行的上限"
    assert openpyxl.load_workbook(io.BytesIO(data))["本期销号"].auto_filter.ref == "A2:G5"


def test_an_attachment_that_fails_leaves_no_temporary_files(monkeypatch, tmp_path):
    # Each sheet streams into a temporary file until the workbook is closed: a list that
    # fails half-way (its database went away) leaves none of them behind.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def failing():
        yield ("江岸区", "江岸0", "91420100MA4K000000", "单独组建", "", None, None)
        raise RuntimeError("the list's query failed")

    with pytest.raises(RuntimeError):
        attachment.write(small_snapshot(2), {"closures": failing(), "overdue_items": []})
    assert list(tmp_path.iterdir()) == []


def test_the_attachment_is_written_by_another_process_from_the_spooled_rows():
    # The worker is started before the data exists (as a bulletin starts it before the
    # gather); 4,500 closures (more than two spool batches) and one overdue item are then
    # spooled as a bulletin's transaction reads them, and the worker writes them.
    heard = []
    with attachment.start(worker=True) as writing:
        assert writing.process is not None and writing.process.pid != os.getpid()
        rows = writing.feed(
            small_snapshot(4500),
            spooled_lists(4500),
            progress=lambda done, total: heard.append((done, total)),
        )
        assert rows == 4501 and heard == []  # progress every 5,000 rows: none yet
        sheets = read_back(writing.result())
    assert writing.process.returncode == 0  # it wrote the file, not this process
    assert not writing.folder.exists()  # the spool is removed once written
    assert len(sheets["本期销号"]) == 4500
    assert sheets["本期销号"][0][:2] == ("江岸区", "江岸0")
    assert sheets["本期销号"][-1][:2] == ("江岸区", "江岸4499")
    assert sheets["逾期事项"] == [
        (
            "武昌区",
            "武昌甲",
            "91420100MA4K000001",
            "应建党组织",
            "待攻坚",
            datetime(2026, 11, 9),  # read-only mode drops the empty 责任人 at the end
        )
    ]


# What the worker may import to read the spool: the standard library and the attachment's own
# modules, nothing of the app. Unpickling a class of the app imports its module, and with it
# SQLAlchemy and the models: the worker then took 1.0 s instead of 0.45 s of CPU for the
# city's 10,353 rows, finishing after the PDF (BENCHMARKS.md, issue 18).
_SPOOL_READER = """
import sys
from reports import attachment
before = set(sys.modules)
with open(sys.argv[1], "rb") as spool:
    try:
        for _ in attachment._records(spool, attachment._complete):
            pass
    except EOFError:
        pass
print(" ".join(sorted(m for m in set(sys.modules) - before if not m.startswith("_"))))
"""


def test_a_bulletin_s_spool_is_read_without_importing_the_app(w, monkeypatch, tmp_path):
    kept = tmp_path / "rows.pickle"
    result = attachment.Writing.result

    def keeping(self):  # the spool as the worker reads it, kept before it is removed
        kept.write_bytes(self.spool.read_bytes())
        return result(self)

    monkeypatch.setattr(attachment.Writing, "result", keeping)
    publish(w, date(2026, 11, 10), (2026, 11, 11, 10, 0))
    read = subprocess.run(
        [sys.executable, "-c", _SPOOL_READER, str(kept)],
        cwd=attachment.ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    imported = set(read.stdout.split())
    assert not {m for m in imported if m.split(".")[0] in ("sqlalchemy", "flask", "campaign")}, (
        imported
    )
    assert kept.stat().st_size > 0


def test_the_run_s_row_says_it_waits_for_the_attachment_only_when_it_does(w, monkeypatch):
    # Pages poll the run's row. Once the PDF is drawn, the row says 保存文件 only when the
    # attachment's worker is still writing (a city's rows can outlast the render); otherwise
    # the bundle is published a moment later, and the row goes from 绘制图表、排版 to 完成.
    shown = []

    def progress(step: str, percent: int) -> None:
        if step == "保存文件":
            with db.engine.connect() as other:  # as a page sees it
                latest = select(BulletinRun.step).order_by(BulletinRun.id.desc()).limit(1)
                shown.append(other.execute(latest).scalar())

    for day, moment, busy in [
        (date(2026, 11, 10), (2026, 11, 11, 10, 0), False),
        (date(2026, 11, 25), (2026, 11, 26, 10, 0), True),
    ]:
        monkeypatch.setattr(attachment.Writing, "busy", lambda self, busy=busy: busy)
        with at(*moment):
            services.generate(db.session, w.campaign, day, w.settings, "cli", progress=progress)
    assert shown == ["绘制图表、排版", "保存文件"]


def test_the_worker_waits_for_rows_spooled_after_it_started():
    # The worker reaches the end of the spool before the rows are there (a gather takes
    # seconds): it waits for them rather than writing an attachment without them.
    with attachment.start(worker=True) as writing:
        time.sleep(1.5)  # its imports done, the spool still empty
        assert writing.process.poll() is None  # still waiting, not finished nor failed
        writing.feed(small_snapshot(3), spooled_lists(3))
        sheets = read_back(writing.result())
    assert writing.process.returncode == 0
    assert [r[1] for r in sheets["本期销号"]] == ["江岸0", "江岸1", "江岸2"]
    assert [r[1] for r in sheets["逾期事项"]] == ["武昌甲"]


def test_a_bulletin_that_fails_leaves_no_worker_and_no_spool():
    with pytest.raises(RuntimeError):
        with attachment.start(worker=True) as writing:
            raise RuntimeError("the gather failed")
    assert writing.process.returncode is not None  # stopped, not left waiting
    assert not writing.folder.exists()


@pytest.mark.parametrize("interpreter", ["/nonexistent/python3", "/bin/false"])
def test_an_attachment_whose_worker_fails_is_written_in_the_producing_process(
    monkeypatch, interpreter
):
    # The worker cannot start (no interpreter) or fails (exit 1): the bulletin still gets
    # its attachment, written here from the spool, and the spool is removed.
    monkeypatch.setattr(sys, "executable", interpreter)
    with attachment.start(worker=True) as writing:
        writing.feed(small_snapshot(3), spooled_lists(3))
        sheets = read_back(writing.result())
    assert [r[1] for r in sheets["本期销号"]] == ["江岸0", "江岸1", "江岸2"]
    assert not writing.folder.exists()


def test_short_lists_are_written_in_the_producing_process_without_a_worker():
    # A campaign below WORKER_ORGS: a fresh interpreter would cost more than its rows do.
    with attachment.start(worker=False) as writing:
        assert writing.process is None
        assert writing.feed(small_snapshot(3), spooled_lists(3)) == 4  # 3 closures, 1 item
        sheets = read_back(writing.result())
    assert [r[1] for r in sheets["本期销号"]] == ["江岸0", "江岸1", "江岸2"]
    assert [r[1] for r in sheets["逾期事项"]] == ["武昌甲"]
    assert not writing.folder.exists()


def test_the_demo_and_a_city_get_a_worker_and_a_small_ledger_does_not():
    # The demo's 3,300 organizations give 629-767 listed rows and a city's 50,000 about ten
    # thousand: written by a worker. A campaign of a few hundred lists a few dozen.
    assert 500 < attachment.WORKER_ORGS <= 3_300


def test_the_lists_are_spooled_before_the_figures_and_the_units_sheet_stays_first():
    # A bulletin spools the lists before it gathers its figures: the worker writes their rows
    # meanwhile, waits for the snapshot, and the 各单位情况 sheet is still the first.
    unit = {
        "rank": 1,
        "name": "江岸区",
        "counts": {"base": 40, "with_party_org": 30},
        "new_party_orgs": 2,
        "party_org_coverage": 0.75,
        "previous_coverage": 0.7,
        "work_coverage": 0.8,
        "required_coverage": 0.5,
        "overdue_items": 1,
        "gap": 2,
    }
    with attachment.start(worker=True) as writing:
        assert writing.feed_lists("关于测试的通报（第6期）", spooled_lists(3), 4) == 4
        assert writing.process.poll() is None  # waiting for the snapshot
        writing.feed_snapshot({**small_snapshot(3), "units": [unit]})
        data = writing.result()
    assert writing.process.returncode == 0
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    assert book.sheetnames == SHEETS
    book.close()
    sheets = read_back(data)
    assert sheets["各单位情况"] == [(1, "江岸区", 40, 30, 2, 0.75, 0.7, 0.8, 0.5, 1, 2)]
    assert [r[1] for r in sheets["本期销号"]] == ["江岸0", "江岸1", "江岸2"]
