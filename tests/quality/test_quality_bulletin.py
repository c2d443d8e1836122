"""The bulletin's 数据质量提示: counts per unit in the PDF (no rows, no names of organizations),
the rows in the attachment's 数据质量线索 sheet.

The ledger is tests.conftest.make_two_districts plus 江岸戊 and 江岸己 (10 staff, 3 formal,
no Party org: board items). Both closures are verified on 11-08 with the same file (one
evidence_reused signal for 江岸区, 2 rows), and 武昌区 has "空支部" (单独组建, no formal
member: one party_org_without_members signal, 1 row), judged 需整改. Detection runs on 11-09;
第6期 (cut-off 11-10 18:00) is produced on 11-12.
"""

import json
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest
from sqlalchemy import select

from campaign.board import services as board
from campaign.board.inputs import ClosureClaim
from campaign.board.models import BoardItem
from campaign.core.extensions import db
from campaign.core.storage import resolve
from campaign.ledger.models import Organization
from campaign.quality import services as quality
from campaign.quality.models import QualitySignal, SignalCode, SignalStatus
from reports import render, services
from tests import documents
from tests.conftest import make_org, make_two_districts, make_user
from tests.timeutil import at

PDF_UPLOAD = ("批复文件.pdf", documents.pdf("one file for two"))


@pytest.fixture
def w(app):
    storage = Path(app.config["STORAGE_PATH"])
    with at(2026, 10, 20, 9, 0):
        built = make_two_districts()
        campaign = built.campaign
        for name in ("江岸戊", "江岸己"):
            make_org(campaign, built.jiangan, name=name, employees=10, formal=3)
        make_org(campaign, built.wuchang, name="空支部", employees=30, party_org="standalone")
        leader = make_user("jiangan_leader", "leader", built.jiangan)
        coordinator = make_user("coord", "coordinator")
        board.sync_items(db.session, campaign)
        db.session.commit()
    for name in ("江岸戊", "江岸己"):
        with at(2026, 11, 8, 9, 0):
            item = db.session.scalar(
                select(BoardItem)
                .join(Organization, Organization.id == BoardItem.organization_id)
                .where(Organization.name == name)
            )
            claim = ClosureClaim.from_form(
                {
                    "method": "standalone",
                    "party_org_name": f"{name}党支部",
                    "secretary": "王书记",
                    "formal_members": "3",
                    "established_on": "2026-11-07",
                }
            )
            board.submit_closure(db.session, item, claim, PDF_UPLOAD, leader, storage)
            board.verify_closure(db.session, item, leader)
            db.session.commit()
    with at(2026, 11, 9, 9, 0):
        quality.refresh(db.session, campaign)
        empty = db.session.scalar(
            select(QualitySignal).where(QualitySignal.code == SignalCode.PARTY_ORG_WITHOUT_MEMBERS)
        )
        quality.review(db.session, empty, SignalStatus.NEEDS_FIX, "请武昌区更正党员数", coordinator)
        db.session.commit()
    return SimpleNamespace(campaign=campaign, settings=services.settings_from(app.config))


def test_the_bulletin_counts_signals_per_unit_and_the_attachment_lists_their_rows(w):
    with at(2026, 11, 12, 9, 0):
        bulletin = services.generate(db.session, w.campaign, date(2026, 11, 10), w.settings, "cli")
    data = json.loads(bulletin.snapshot)
    assert data["quality"]["computed_at"] == "2026-11-09T09:00+08:00"
    assert data["quality"]["units"] == [
        {
            "code": "jiangan",
            "name": "江岸区",
            "open": 1,
            "needs_fix": 0,
            "kinds": "同一佐证材料用于不同组织的销号1条",
        },
        {
            "code": "wuchang",
            "name": "武昌区",
            "open": 0,
            "needs_fix": 1,
            "kinds": "建有党组织但无正式党员1条",
        },
    ]
    assert (data["quality"]["open"], data["quality"]["needs_fix"]) == (1, 1)

    html = render.html(data)
    assert "<h3>（二）数据质量提示</h3>" in html
    assert "发现待核实线索1条、需整改线索1条，涉及2个单位" in html
    # Counts, not accusations: no organization is named in the PDF.
    assert "江岸戊" not in html and "空支部" not in html
    # A kind with none is not written as "0条".
    data["quality"].update(needs_fix=0, units=data["quality"]["units"][:1])
    assert "发现待核实线索1条，涉及1个单位" in render.html(data)
    data["quality"].update(open=0, needs_fix=2)
    assert "发现需整改线索2条，涉及1个单位" in render.html(data)

    book = openpyxl.load_workbook(resolve(bulletin.xlsx_path), read_only=True)
    try:
        rows = list(book["数据质量线索"].iter_rows(values_only=True))
    finally:
        book.close()
    assert rows[1] == (
        "单位",
        "线索代码",
        "线索",
        "核实状态",
        "组织名称",
        "统一社会信用代码",
        "情况",
    )
    listed = [(r[0], r[1], r[3], r[4]) for r in rows[2:]]
    assert listed == [
        ("江岸区", "evidence_reused", "待核实", "江岸戊"),
        ("江岸区", "evidence_reused", "待核实", "江岸己"),
        ("武昌区", "party_org_without_members", "需整改", "空支部"),
    ]


def test_a_bulletin_before_any_detection_says_so_and_an_old_snapshot_shows_nothing(w):
    db.session.execute(db.delete(QualitySignal))
    db.session.execute(db.text("DELETE FROM quality_run"))
    db.session.commit()
    section = quality.bulletin_section(db.session, w.campaign)
    assert section == {"computed_at": None, "units": [], "open": 0, "needs_fix": 0}
    partial = render.environment().get_template("reports/_quality.html")
    assert "本期尚未开展数据质量检查。" in partial.render(s={"quality": section})
    assert partial.render(s={}).strip() == ""  # a bulletin published before the signals
