"""Hostile text (Hardening, point 4): control characters, oversized values, decomposed
characters, through every way text comes in (xlsx, page forms, API), and exports that must
not fail on text stored before the checks existed.

The probe's attacks, kept: an organization name with `_x0001_` in the xlsx imported and then
broke every ledger export and bulletin (IllegalCharacterError, 500); a 32,767-character name
went into String(200); 8 MB report texts were stored three times and grew the database by
50 MB.

江岸区 (jiangan) with streets 二七街道 and 后湖街道, its operator, a coordinator; campaign
2026 (wuhan-2016 template). Rows of a ledger file start on line 3 (line 1 the title, line 2
the headers); column A is 企业名称 (附表1), R 推进措施. Limits chosen (campaign/text.py):
String columns keep their length (企业名称 200), report sections 5,000 characters, plans'
measures 2,000.
"""

import csv
import io
import json
import os
import re
import zipfile
from datetime import date
from types import SimpleNamespace

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select, text
from werkzeug.test import encode_multipart

from campaign.board import services as board
from campaign.board.models import BoardItem
from campaign.core import storage
from campaign.core.accounts import issue_token
from campaign.core.db import Base
from campaign.core.extensions import db
from campaign.core.models import Unit
from campaign.core.vocab import UnitKind
from campaign.half_monthly.models import UnitReport
from campaign.ledger import excel, importing
from campaign.ledger.models import ChangeRequest, ImportBatch, Organization
from reports import services as bulletins
from tests.conftest import csrf_token, login, make_campaign, make_org, make_unit, make_user
from tests.ledger.conftest import (
    CODE_A,
    CODE_B,
    ENTERPRISE_HEADERS,
    ENTERPRISE_SHEET,
    enterprise,
    ledger_xlsx,
    soffice,
)
from tests.timeutil import at, machine_zone

E = f"「{ENTERPRISE_SHEET}」"
CTX = excel.UnitContext("江岸区", True, ("二七街道", "后湖街道"))
MB8 = 8 * 1024 * 1024
REPORT_DAY = "2026-08-25"  # the first period runs 08-14 to 08-25


@pytest.fixture(autouse=True)
def utc_machine_zone():
    with machine_zone("UTC"):
        yield


@pytest.fixture
def w(app, tmp_path):
    app.config["JOBS_IN_BACKGROUND"] = False
    jiangan = make_unit("jiangan", "江岸区")
    make_unit("erqi", "二七街道", kind=UnitKind.STREET, parent=jiangan, responsible=False)
    make_unit("houhu", "后湖街道", kind=UnitKind.STREET, parent=jiangan, responsible=False)
    campaign = make_campaign(2026)
    op = make_user("jiangan_op", "operator", jiangan)
    coord = make_user("coord", "coordinator")
    token = issue_token(db.session, op)
    db.session.commit()
    return SimpleNamespace(
        app=app,
        campaign=campaign,
        cid=campaign.id,
        jiangan=jiangan,
        op=op,
        coord=coord,
        api={"Authorization": f"Bearer {token}"},
        storage=tmp_path / "storage",
    )


def logged_in(w, username: str = "jiangan_op"):
    """A client logged in now (a test that travels in time logs in where it travels: a
    session signed later than the request is refused)."""
    client = w.app.test_client()
    assert login(client, username).status_code == 302
    return client


def upload(w, data: bytes) -> ImportBatch:
    """The operator's upload through the page; the batch it made, as stored."""
    client = logged_in(w)
    token = csrf_token(client, f"/campaigns/{w.cid}/exclusions")
    response = client.post(
        f"/campaigns/{w.cid}/units/jiangan/ledger/imports",
        data={"csrf_token": token, "file": (io.BytesIO(data), "台账.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.status_code
    batch_id = int(re.search(r"/imports/(\d+)$", response.headers["Location"]).group(1))
    db.session.expire_all()
    return db.session.get(ImportBatch, batch_id)


def api_import(w, data: bytes):
    return w.app.test_client().post(
        f"/api/v1/units/jiangan/ledger?campaign_id={w.cid}",
        data={"file": (io.BytesIO(data), "台账.xlsx")},
        content_type="multipart/form-data",
        headers=w.api,
    )


def organizations() -> list[Organization]:
    db.session.expire_all()
    return list(db.session.scalars(select(Organization).order_by(Organization.id)))


# ---- the xlsx: `_x0001_` in a cell -------------------------------------------------------

CONTROL_MESSAGE = (
    f"{E}第3行A列「企业名称」：含有不可见的控制字符（U+0001，第3个字），请删除后重新填写"
)


def test_an_escaped_control_character_in_an_openpyxl_file_is_refused_with_its_cell_named(w):
    # openpyxl writes the text as it is; Excel and calamine (the importer's reader) read
    # `_x0001_` back as the character U+0001.
    data = ledger_xlsx([enterprise("江岸_x0001_甲制造有限公司", CODE_A)])
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(ENTERPRISE_SHEET)
    assert sheet.to_python()[2][0] == "江岸\x01甲制造有限公司"

    batch = upload(w, data)
    assert batch.status == "refused"
    assert batch.problems == [CONTROL_MESSAGE]
    page = logged_in(w).get(f"/campaigns/{w.cid}/imports/{batch.id}").get_data(as_text=True)
    assert "含有不可见的控制字符（U+0001，第3个字）" in page
    assert organizations() == []


def test_a_control_character_saved_by_libreoffice_is_refused_through_the_api(w, tmp_path):
    # A CSV with a raw U+0001 in the name, converted by LibreOffice (the code column read as
    # text): LibreOffice stores the character as `_x0001_` in its shared strings, as Excel
    # does, and names the sheet after the file.
    row = enterprise("江岸\x01甲制造有限公司", CODE_A)
    source = tmp_path / f"{ENTERPRISE_SHEET}.csv"
    with source.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(
            [[f"{ENTERPRISE_SHEET}  调查摸底表"], ENTERPRISE_HEADERS]
            + [[row.get(h, "") for h in ENTERPRISE_HEADERS]]
        )
    (converted,) = soffice([source], "xlsx", tmp_path / "out", infilter="CSV:44,34,76,1,2/2")
    data = converted.read_bytes()
    with io.BytesIO(data) as f, zipfile.ZipFile(f) as z:
        assert "江岸_x0001_甲制造有限公司" in z.read("xl/sharedStrings.xml").decode()

    response = api_import(w, data)
    assert response.status_code == 422
    assert response.json["message"] == "文件未通过校验，台账未作任何修改"
    assert response.json["errors"]["file"] == [CONTROL_MESSAGE]
    assert organizations() == []


def test_an_escaped_control_character_is_refused_where_a_reader_left_it_as_text():
    # A cell whose text is the escape itself (`_x005F_` keeps the underscore literal).
    data = ledger_xlsx([enterprise("江岸_x005F_x0001_甲制造有限公司", CODE_A)])
    result = excel.read_workbook(data, CTX)
    assert [str(p) for p in result.problems] == [
        f"{E}第3行A列「企业名称」：含有控制字符的转义“_x0001_”（U+0001，第3个字），请删除后重新填写"
    ]


# ---- the xlsx: lengths against the column ---------------------------------------------------


def test_a_32767_character_name_is_refused_by_the_columns_length(w):
    name = "江" * 32767  # the most a cell holds
    response = api_import(w, ledger_xlsx([enterprise(name, CODE_A)]))
    assert response.status_code == 422
    assert response.json["errors"]["file"] == [
        f"{E}第3行A列「企业名称」：超过200个字（现有32767个字）"
    ]
    assert organizations() == []


def test_each_text_column_of_the_file_is_held_to_its_own_length():
    fine = enterprise(
        "甲" * 200, CODE_A, **{"出资人（负责人）": "张" * 80, "推进措施": "措" * 2000}
    )
    long = enterprise(
        "乙" * 201, CODE_B, **{"出资人（负责人）": "张" * 81, "推进措施": "措" * 2001}
    )
    result = excel.read_workbook(ledger_xlsx([fine, long]), CTX)
    assert [r["credit_code"] for r in result.rows] == [CODE_A]
    assert [str(p) for p in result.problems] == [
        f"{E}第4行A列「企业名称」：超过200个字（现有201个字）",
        f"{E}第4行J列「出资人（负责人）」：超过80个字（现有81个字）",
        f"{E}第4行R列「推进措施」：超过2000个字（现有2001个字）",
    ]


# ---- NFC -------------------------------------------------------------------------------


def test_decomposed_characters_in_a_file_are_stored_composed(w):
    # "Café" typed on a Mac: e + U+0301 COMBINING ACUTE ACCENT; and 가 as two Hangul jamo.
    name = "Cafe\u0301\u1100\u1161科技有限公司"
    assert len(name) == 13
    batch = upload(w, ledger_xlsx([enterprise(name, CODE_A)]))
    assert batch.status == "previewed", batch.problems
    client, page = logged_in(w), f"/campaigns/{w.cid}/imports/{batch.id}"
    client.post(f"{page}/apply", data={"csrf_token": csrf_token(client, page)})
    (org,) = organizations()
    assert org.name == "Caf\u00e9\uac00科技有限公司"
    assert len(org.name) == 11


def test_decomposed_characters_in_a_report_are_stored_composed(w):
    with at(2026, 8, 21, 10, 0):
        response = w.app.test_client().post(
            f"/api/v1/campaigns/{w.cid}/units/jiangan/reports/{REPORT_DAY}",
            json={"progress": "走访Cafe\u0301科技有限公司"},
            headers=w.api,
        )
    assert response.status_code == 201, response.json
    assert response.json["progress"] == "走访Caf\u00e9科技有限公司"
    db.session.expire_all()
    assert db.session.scalar(select(UnitReport.progress)) == "走访Caf\u00e9科技有限公司"


# ---- 8 MB through the page form and the API ---------------------------------------------------


def database_bytes() -> int:
    """What the database occupies on disk."""
    if db.engine.dialect.name == "sqlite":
        return os.path.getsize(db.engine.url.database)
    return db.session.scalar(text("SELECT pg_database_size(current_database())"))


def reports() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(UnitReport))


TOO_LONG = "「工作进展」超过5000个字（现有{}个字）"


@pytest.mark.parametrize("encoding", ["multipart", "urlencoded"])
def test_an_8_mb_report_through_the_page_is_refused_naming_the_field(w, encoding):
    # The browser posts the form as multipart (it has a file field); a script may post it
    # url-encoded. "进" is three bytes in UTF-8 (nine url-encoded, over the 25 MB a request
    # may carry), so the url-encoded one is 8 MB of ASCII.
    progress = "进" * (MB8 // 3) if encoding == "multipart" else "a" * MB8
    path = f"/campaigns/{w.cid}/units/jiangan/reports/{REPORT_DAY}"
    before = database_bytes()
    with at(2026, 8, 21, 10, 0):
        client = logged_in(w)
        form = {"csrf_token": csrf_token(client, path), "progress": progress, "next_steps": ""}
        if encoding == "multipart":
            # Encoded here: the test client would spool so large a body to a file it leaves open.
            boundary, body = encode_multipart({**form, "attachment": (io.BytesIO(b""), "")})
            response = client.post(
                path, data=body, content_type=f"multipart/form-data; boundary={boundary}"
            )
        else:
            response = client.post(path, data=form)
    assert response.status_code == 422
    assert TOO_LONG.format(len(progress)) in response.get_data(as_text=True)
    assert reports() == 0
    assert database_bytes() - before < 1024 * 1024


def test_an_8_mb_report_through_the_api_is_refused_naming_the_field(w):
    before = database_bytes()
    with at(2026, 8, 21, 10, 0):
        response = w.app.test_client().post(
            f"/api/v1/campaigns/{w.cid}/units/jiangan/reports/{REPORT_DAY}",
            data=json.dumps({"progress": "进" * (MB8 // 3)}, ensure_ascii=False).encode(),
            content_type="application/json",
            headers=w.api,
        )
    assert response.status_code == 422
    assert response.json["errors"] == {"progress": TOO_LONG.format(MB8 // 3)}
    assert TOO_LONG.format(MB8 // 3) in response.json["message"]
    assert reports() == 0
    assert database_bytes() - before < 1024 * 1024


def test_a_report_within_its_limits_keeps_its_lines(w):
    progress = "一、排查摸底完成。\r\n二、新建党组织1个。\r\n" + "推" * 4979
    with at(2026, 8, 21, 10, 0):
        response = w.app.test_client().post(
            f"/api/v1/campaigns/{w.cid}/units/jiangan/reports/{REPORT_DAY}",
            json={"progress": progress, "problems": "无"},
            headers=w.api,
        )
    assert response.status_code == 201, response.json
    stored = db.session.scalar(select(UnitReport.progress))
    assert stored == "一、排查摸底完成。\n二、新建党组织1个。\n" + "推" * 4979
    assert len(stored) == 5000


def test_a_control_character_in_a_plan_through_the_api_is_refused_naming_the_field(w):
    with at(2026, 8, 21, 10, 0):
        org = make_org(w.campaign, w.jiangan, name="江岸甲", employees=120)
        board.sync_items(db.session, w.campaign, [w.jiangan.id])
        db.session.commit()
        item = db.session.scalar(select(BoardItem).where(BoardItem.organization_id == org.id))
        path = f"/api/v1/campaigns/{w.cid}/items/{item.id}/plan"
        client = w.app.test_client()
        refused = client.patch(
            path, json={"measures": "联系\x1b[31m党员", "responsible_person": "李四"}, headers=w.api
        )
        too_long = client.patch(path, json={"measures": "措" * (MB8 // 3)}, headers=w.api)
        # A line break in a one-line field is folded into a space: unambiguous, not refused.
        folded = client.patch(path, json={"responsible_person": "李四\r\n王五"}, headers=w.api)
    assert refused.status_code == 422
    assert refused.json["errors"] == {
        "measures": "「推进措施」含有不可见的控制字符（U+001B，第3个字），请删除后重新填写"
    }
    assert too_long.status_code == 422
    assert too_long.json["errors"] == {"measures": "「推进措施」超过2000个字（现有2796202个字）"}
    assert folded.status_code == 200, folded.json
    db.session.expire_all()
    item = db.session.get(BoardItem, item.id)
    assert (item.measures, item.responsible_person) == ("", "李四 王五")


def test_a_change_request_stored_before_the_checks_cannot_bring_a_control_character_in(w):
    """The probe's road into the base: a change request filed (before these checks) from a
    file with `_x0001_`, then accepted. Accepting it now is refused, naming the field."""
    values = (
        {f: None for f in importing.COMPARED}
        | {
            "kind": "enterprise",
            "name": "江岸\x01甲制造有限公司",
            "credit_code": CODE_A,
            "district_name": "江岸区",
            "area_name": "二七街道",
            "category": "other",
            "operating_status": "normal",
            "employees": 20,
            "formal_members": 0,
            "probationary_members": 0,
            "investor_is_member": False,
            "party_org_status": "none",
        }
        | {f: "" for f in ("investor", "party_org_name", "no_party_org_reason", "instructor")}
    )
    values |= {f: "" for f in ("mass_organizations", "measures", "responsible_person")}
    request = ChangeRequest(
        campaign_id=w.cid,
        unit_id=w.jiangan.id,
        action="add",
        credit_code=CODE_A,
        payload=values,
        reason="导入文件《台账.xlsx》",
    )
    db.session.add(request)
    db.session.commit()
    client = logged_in(w, "coord")
    page = f"/campaigns/{w.cid}/change-requests"
    client.post(f"{page}/{request.id}/accept", data={"csrf_token": csrf_token(client, page)})
    shown = client.get(page).get_data(as_text=True)
    assert "「组织名称」含有不可见的控制字符（U+0001，第3个字），请删除后重新填写" in shown
    db.session.expire_all()
    assert db.session.get(ChangeRequest, request.id).status == "pending"
    assert organizations() == []


# ---- every column a user types into is checked -----------------------------------------------

# Text columns the guard leaves alone: values chosen from a list or made by the system
# (codes, states, hashes, paths, JSON, generated messages), never typed by a user.
SYSTEM_TEXT = {
    "api_token.token_hash",
    "rate_limit_counter.key",
    "user.session_key",
    "audit_entry.actor",
    "audit_entry.action",
    "audit_entry.object_type",
    "audit_entry.object_id",
    "audit_entry.before",
    "audit_entry.after",
    "audit_entry.prev_hash",
    "audit_entry.hash",
    "audit_head.last_hash",
    "audit_head.signature",
    "audit_anchor.ref",
    "audit_anchor.label",
    "audit_anchor.last_hash",
    "audit_anchor.signature",
    "board_counts.state",
    "board_item.kind",
    "board_item.target",
    "board_item.state",
    "board_item.path",
    "board_item.joint_form",
    "bulletin.title",
    "bulletin.snapshot",
    "bulletin.snapshot_sha256",
    "bulletin.html_path",
    "bulletin.html_sha256",
    "bulletin.pdf_path",
    "bulletin.pdf_sha256",
    "bulletin.xlsx_path",
    "bulletin.xlsx_sha256",
    "bulletin.trigger",
    "coordination_issue.kind",
    "coordination_issue.status",
    "unit.remit",  # a department's 核查职责, one of vocab's remits, set by units.set_remit
    "quality_signal.code",  # a signal's stable code (campaign/quality), set by the detectors
    "quality_signal.key",  # what the signal is about (a file hash, a name, a unit), detectors
    "quality_signal.status",  # open | checked | to_fix, set by the judgement service
    "quality_signal.reason",  # the detector's plain-Chinese why, written by the detectors
    "bulletin.status",  # draft | published, set by the services
    "bulletin.document_number",  # 发文字号, composed by reports.services.document_number
    "bulletin_run.trigger",
    "bulletin_run.status",
    "bulletin_run.step",
    "bulletin_run.error",
    "bulletin_run.worker",
    "campaign.template",
    "campaign.timezone",
    "change_request.action",
    "change_request.credit_code",
    "change_request.status",
    "closure.method",
    "closure.joint_form",
    "closure.document_path",
    "closure.document_sha256",
    "closure.status",
    "deliverable.code",
    "deliverable.audience",
    "deliverable.fulfilled_by",
    "exclusion_proposal.state",
    "exclusion_proposal.status",
    "import_batch.filename",
    "import_batch.sha256",
    "import_batch.status",
    "ledger_conflict.credit_code",
    "ledger_conflict.name",
    "ledger_counts.kind",
    "ledger_counts.category",
    "rule_counts.kind",
    "rule_counts.category",
    "rule_counts.rule",
    "notification.kind",
    "notification.title",
    "notification.body",
    "notification.link",
    "notification_delivery.key",
    "notification_delivery.channel",
    "notification_delivery.address",
    "notification_delivery.subject",
    "notification_delivery.status",
    "notification_delivery.last_error",
    "notification_event.kind",
    "notification_event.dedupe_key",
    "notification_preference.kind",
    "notification_preference.channel",
    "organization.kind",
    "organization.category",
    "organization.operating_status",
    "organization.registration_level",
    "organization.party_org_status",
    "organization.affiliation",
    "organization.liaison_role",
    "organization.target",
    "organization.path",
    "organization.rule_codes",
    "organization.coverage_means",
    "phase.code",
    "rate_target.kind",
    "rate_target.rate",
    "spot_check.kind",
    "spot_check.size_mode",
    "spot_check_result.result",
    "task.status",
    "task_submission.file_path",
    "task_submission.sha256",
    "task_submission.review",
    "unit.kind",
    "unit_ledger.status",
    "unit_report.status",
    "unit_report.attachment_path",
    "unit_report.attachment_sha256",
    "unit_webhook.flavour",
    "user.password_hash",
    "user.role",
}


def test_every_text_column_is_either_labelled_for_users_or_known_as_the_systems(app):
    from sqlalchemy import String

    unlabelled, labelled = set(), set()
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String):  # Text is a String too
                name = f"{table.name}.{column.name}"
                (labelled if "label" in column.info else unlabelled).add(name)
    assert unlabelled == SYSTEM_TEXT, (
        "label the new column (campaign.core.text.text_field) or list it"
    )
    assert "unit_report.progress" in labelled and "organization.name" in labelled


# ---- exports of text stored before the checks --------------------------------------------------

STORED = "江岸\x01甲\x0b制造\ufffe有限公司_x0001_"
SHOWN = "江岸甲制造有限公司_x0001_"  # the invisible characters dropped, the escape kept as text


@pytest.fixture
def stored_before(w):
    """江岸甲 (120 staff, nothing: must have a Party org; in 二七街道) on the board, overdue
    since 10-31, its name and measures, and its street's name, given control characters by
    SQL, as a database written before the checks may hold them."""
    erqi = db.session.scalar(select(Unit).where(Unit.code == "erqi"))
    with at(2026, 10, 20, 9, 0):
        org = make_org(w.campaign, w.jiangan, name="江岸甲", employees=120, area=erqi)
        board.sync_items(db.session, w.campaign, [w.jiangan.id])
        item = db.session.scalar(select(BoardItem).where(BoardItem.organization_id == org.id))
        item.planned_on = date(2026, 10, 31)
        db.session.commit()
    db.session.execute(
        text("UPDATE organization SET name = :name, measures = :measures WHERE id = :id"),
        {"name": STORED, "measures": "第一步\x07\n第二步", "id": org.id},
    )
    db.session.execute(
        text("UPDATE unit SET name = '二七\x1f街道' WHERE id = :id"), {"id": erqi.id}
    )
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Organization, org.id).name == STORED
    return org


def exported_rows(data: bytes) -> list[list]:
    """附表1's rows as Excel shows them (calamine reads escapes as Excel does)."""
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(ENTERPRISE_SHEET)
    return rows.to_python()[2:]


def test_the_unit_and_city_ledger_export_text_stored_with_control_characters(w, stored_before):
    unit = logged_in(w).get(f"/campaigns/{w.cid}/units/jiangan/ledger.xlsx")
    city = logged_in(w, "coord").get(f"/campaigns/{w.cid}/ledger.xlsx")
    api = w.app.test_client().get(
        f"/api/v1/units/jiangan/ledger?campaign_id={w.cid}", headers=w.api
    )
    for response in (unit, city, api):
        assert response.status_code == 200
        ((name, _code, _district, area, *rest),) = exported_rows(response.data)
        # 推进措施 comes before 计划完成时间 and 责任人, then the seven columns of phases 5 and 6.
        measures = rest[-10]
        assert (name, area, measures) == (SHOWN, "二七街道", "第一步\n第二步")
        # Imported again, the row is refused for the escape, not silently changed.
        (problem,) = excel.read_workbook(response.data, CTX).problems
        assert str(problem) == (
            f"{E}第3行A列「企业名称」：含有控制字符的转义“_x0001_”（U+0001，第10个字），"
            "请删除后重新填写"
        )


def test_a_bulletin_lists_an_organization_stored_with_control_characters(w, stored_before):
    settings = bulletins.settings_from(w.app.config)
    with at(2026, 11, 12, 9, 0):
        bulletin = bulletins.generate(db.session, w.campaign, date(2026, 11, 10), settings, "cli")
    book = CalamineWorkbook.from_filelike(
        io.BytesIO(storage.resolve(bulletin.xlsx_path).read_bytes())
    )
    overdue = book.get_sheet_by_name("逾期事项").to_python()[2:]
    assert [r[:2] for r in overdue] == [["江岸区", SHOWN]]
    client = logged_in(w, "coord")
    assert client.get(f"/campaigns/{w.cid}/bulletins").status_code == 200
    for suffix in (".pdf", ".xlsx"):
        got = client.get(f"/campaigns/{w.cid}/bulletins/{bulletin.number}{suffix}")
        assert got.status_code == 200
        got.close()


def test_control_characters_in_an_uploads_name_are_dropped_not_refused(w):
    batch = importing.start_import(
        db.session, w.campaign, w.jiangan, b"PK", "台账\x01\x1b.xlsx", w.op, w.storage
    )
    db.session.commit()
    assert batch.filename == "台账.xlsx"
