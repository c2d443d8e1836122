"""Evidence that is not what its name says is refused, through every page and API that takes it.

The probe uploaded an MZ executable, random bytes, HTML named .pdf and an SVG named .png
as closure documents and task deliveries, and all were stored. Each hostile file here
must answer 422 (API) or the form's error (pages, which redirect back with the message)
naming the file and what it really is, and leave nothing in the database or in storage.

A JPEG named .png is refused too: the name decides the Content-Type the file is served
with, so content and extension must be of the same kind.
"""

import io
import random
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from campaign.board.models import BoardItem, Closure
from campaign.board.services import sync_items
from campaign.core.extensions import db
from campaign.half_monthly.models import UnitReport
from campaign.timeline.models import Deliverable, Task, TaskSubmission
from tests import documents
from tests.conftest import csrf_token, loaded, login, make_two_districts, make_user, refs
from tests.timeutil import at

MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(48) + b"PE\x00\x00" + bytes(200)
RANDOM = random.Random(6).randbytes(4096)
HTML = '<!DOCTYPE html><html><body><script>alert("批复")</script></body></html>'.encode()
SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
)
GOOD_PDF = documents.pdf("江岸区批复")
TRUNCATED_PDF = GOOD_PDF[: len(GOOD_PDF) // 2]

# (file name, bytes, what the message says after the name)
EVIDENCE_ATTACKS = [
    pytest.param("批复.pdf", MZ, "不是有效的PDF文件（内容是Windows可执行程序）", id="exe-as-pdf"),
    pytest.param("批复.pdf", HTML, "不是有效的PDF文件（内容是网页HTML）", id="html-as-pdf"),
    pytest.param(
        "批复.pdf",
        TRUNCATED_PDF,
        "不是有效的PDF文件（文件已损坏或不完整，无法打开）",
        id="truncated-pdf",
    ),
    pytest.param(
        "照片.png", RANDOM, "不是有效的PNG图片（内容是无法识别的数据）", id="random-as-png"
    ),
    pytest.param("截图.png", SVG, "不是有效的PNG图片（内容是SVG矢量图）", id="svg-as-png"),
    pytest.param(
        "截图.png", documents.image("JPEG"), "不是有效的PNG图片（内容是JPEG图片）", id="jpeg-as-png"
    ),
    pytest.param(
        "照片.jpg", documents.image("PNG"), "不是有效的JPEG图片（内容是PNG图片）", id="png-as-jpg"
    ),
]


def _bomb() -> bytes:
    """A .docx of 150 MB of zeros packed into a few hundred kilobytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", documents.DOCX_TYPES)
        with package.open("word/document.xml", "w") as part:
            chunk = bytes(1024 * 1024)
            for _ in range(150):
                part.write(chunk)
    return out.getvalue()


# Task deliveries also take Office files.
OFFICE_ATTACKS = [
    pytest.param(
        "工作方案.docx",
        _bomb(),
        "不是有效的Word文档（解压后超过100 MB，疑似压缩炸弹）",
        id="zip-bomb-docx",
    ),
    pytest.param(
        "工作方案.docx",
        documents.xlsx(),
        "不是有效的Word文档（内容是Excel工作簿）",
        id="xlsx-as-docx",
    ),
    pytest.param(
        "工作方案.docx",
        b"PK\x03\x04" + bytes(60),
        "不是有效的Word文档（文件已损坏或不完整，无法打开）",
        id="broken-zip-docx",
    ),
    pytest.param(
        "台账.xlsx", documents.docx(), "不是有效的Excel工作簿（内容是Word文档）", id="docx-as-xlsx"
    ),
    pytest.param(
        "工作方案.doc", HTML, "不是有效的Word 97-2003文档（内容是网页HTML）", id="html-as-doc"
    ),
    pytest.param(
        "台账.xls",
        b"a,b,c\n1,2,3\n",
        "不是有效的Excel 97-2003工作簿（内容是纯文本）",
        id="csv-as-xls",
    ),
]
TASK_ATTACKS = EVIDENCE_ATTACKS + OFFICE_ATTACKS


@pytest.fixture
def world(app, built_once):
    built = loaded(built_once("tests.security.hostile_uploads.world", lambda: _build(app)))
    built.storage = Path(app.config["STORAGE_PATH"])
    return built


def _build(app) -> SimpleNamespace:
    with at(2026, 11, 20, 10, 0):
        built = make_two_districts()
        make_user("wuchang_op", "operator", built.wuchang)
        sync_items(db.session, built.campaign)
        db.session.commit()
        built.item_id = db.session.scalar(
            select(BoardItem.id)
            .join(BoardItem.organization)
            .where(BoardItem.unit_id == built.wuchang.id)
        )
        built.task_id = db.session.scalar(
            select(Task.id)
            .join(Deliverable)
            .where(Task.unit_id == built.wuchang.id, Deliverable.code == "work_plan")
        )
        runner = app.test_cli_runner()
        built.token = runner.invoke(args=["users", "token", "wuchang_op"]).output.strip()
    return refs(built)


def _page_client(app):
    client = app.test_client()
    assert login(client, "wuchang_op").status_code == 302
    return client


def _nothing_stored(world) -> None:
    files = [p for p in world.storage.rglob("*") if p.is_file()] if world.storage.exists() else []
    assert files == []
    for model in (Closure, TaskSubmission, UnitReport):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0


CLOSURE_FORM = {
    "method": "joint",
    "joint_form": "区域联建",
    "party_org_name": "中共武昌甲联合支部",
    "established_on": "2026-11-18",
    "formal_members": "0",
    "secretary": "张三",
}


@pytest.mark.parametrize(("name", "data", "message"), EVIDENCE_ATTACKS)
def test_a_closure_document_that_is_not_what_it_says_is_refused_by_the_api(
    app, world, name, data, message
):
    with at(2026, 11, 20, 10, 0):
        response = app.test_client().post(
            f"/api/v1/campaigns/{world.campaign.id}/items/{world.item_id}/closures",
            headers={"Authorization": f"Bearer {world.token}"},
            data={**CLOSURE_FORM, "document": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["message"] == f"批复文件《{name}》{message}"
    assert response.get_json()["errors"] == {"document": f"批复文件《{name}》{message}"}
    _nothing_stored(world)


@pytest.mark.parametrize(("name", "data", "message"), EVIDENCE_ATTACKS)
def test_a_closure_document_that_is_not_what_it_says_is_refused_on_the_page(
    app, world, name, data, message
):
    with at(2026, 11, 20, 10, 0):
        client = _page_client(app)
        url = f"/campaigns/{world.campaign.id}/items/{world.item_id}"
        response = client.post(
            url,
            data={
                **CLOSURE_FORM,
                "csrf_token": csrf_token(client, url),
                "action": "close",
                "document": (io.BytesIO(data), name),
            },
            content_type="multipart/form-data",
            follow_redirects=True,
        )
    assert f"批复文件《{name}》{message}" in response.get_data(as_text=True)
    _nothing_stored(world)


@pytest.mark.parametrize(("name", "data", "message"), TASK_ATTACKS)
def test_a_task_delivery_that_is_not_what_it_says_is_refused_by_the_api(
    app, world, name, data, message
):
    with at(2026, 11, 20, 10, 0):
        response = app.test_client().post(
            f"/api/v1/campaigns/{world.campaign.id}/tasks/{world.task_id}/submissions",
            headers={"Authorization": f"Bearer {world.token}"},
            data={"note": "区工作方案", "file": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["errors"] == {"file": f"材料《{name}》{message}"}
    _nothing_stored(world)


@pytest.mark.parametrize(("name", "data", "message"), TASK_ATTACKS)
def test_a_task_delivery_that_is_not_what_it_says_is_refused_on_the_page(
    app, world, name, data, message
):
    with at(2026, 11, 20, 10, 0):
        client = _page_client(app)
        url = f"/campaigns/{world.campaign.id}/tasks/{world.task_id}"
        response = client.post(
            url,
            data={
                "csrf_token": csrf_token(client, url),
                "action": "submit",
                "note": "区工作方案",
                "file": (io.BytesIO(data), name),
            },
            content_type="multipart/form-data",
            follow_redirects=True,
        )
    assert f"材料《{name}》{message}" in response.get_data(as_text=True)
    _nothing_stored(world)


@pytest.mark.parametrize(("name", "data", "message"), EVIDENCE_ATTACKS[:4])
def test_a_report_attachment_that_is_not_what_it_says_is_refused(app, world, name, data, message):
    # Half-monthly reports take an attachment on the page only (the API files text).
    with at(2026, 11, 20, 10, 0):
        client = _page_client(app)
        url = f"/campaigns/{world.campaign.id}/units/wuchang/reports/2026-11-25"
        response = client.post(
            url,
            data={
                "csrf_token": csrf_token(client, url),
                "progress": "本期新建党组织1个。",
                "attachment": (io.BytesIO(data), name),
            },
            content_type="multipart/form-data",
        )
    assert response.status_code == 422
    assert f"附件《{name}》{message}" in response.get_data(as_text=True)
    _nothing_stored(world)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("区工作方案.pdf", GOOD_PDF),
        ("现场照片.JPG", documents.image("JPEG")),
        ("现场照片.jpeg", documents.image("JPEG")),
        ("名单截图.png", documents.image("PNG")),
        ("区工作方案.docx", documents.docx()),
        ("专班名单.xlsx", documents.xlsx("专班名单")),
        ("区工作方案.doc", documents.ole2()),
        ("专班名单.xls", documents.ole2()),
    ],
)
def test_real_documents_of_every_allowed_kind_are_kept_and_served_as_that_kind(
    app, world, name, data
):
    mimetypes = {
        ".pdf": "application/pdf",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".png": "image/png",
        ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".doc": "application/msword",
        ".xls": "application/vnd.ms-excel",
    }
    with at(2026, 11, 20, 10, 0):
        response = app.test_client().post(
            f"/api/v1/campaigns/{world.campaign.id}/tasks/{world.task_id}/submissions",
            headers={"Authorization": f"Bearer {world.token}"},
            data={"note": "区工作方案", "file": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        submission = db.session.scalar(select(TaskSubmission))
        url = f"/campaigns/{world.campaign.id}/tasks/{world.task_id}/submissions/{submission.id}"
        with _page_client(app).get(url) as served:
            assert served.status_code == 200
            assert served.data == data
            assert served.headers["Content-Type"] == mimetypes[Path(name).suffix.lower()]
            assert served.headers["X-Content-Type-Options"] == "nosniff"
            assert served.headers["Content-Disposition"].startswith("attachment;")
