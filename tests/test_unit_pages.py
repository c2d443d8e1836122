"""Units on the pages: coordinators and admins see the tree, add a unit, rename, move,
reorder, retire and reactivate it (CSRF-checked; refusals shown in Chinese, nothing kept);
nobody else (403 with the reason)."""

import re

import pytest
from sqlalchemy import select

from campaign.core.extensions import db
from campaign.core.models import Unit
from campaign.core.vocab import UnitKind
from tests.conftest import csrf_token, login, make_unit, make_user

MANAGERS_ONLY = "单位管理仅限市级专班和系统管理员"


@pytest.fixture
def w(app):
    city = make_unit("city", "市委组织部", kind=UnitKind.CITY, responsible=False)
    jiangan = make_unit("jiangan", "江岸区", parent=city)
    jiangan.position = 1
    make_unit("erqi", "二七街道", kind=UnitKind.STREET, parent=jiangan, responsible=False)
    mzj = make_unit("mzj", "市民政局", kind=UnitKind.DEPARTMENT, parent=city)
    mzj.position = 2
    make_user("root", "admin")
    make_user("coord", "coordinator")
    make_user("jiangan_op", "operator", jiangan)
    db.session.commit()
    return app


def browser(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def unit(code: str) -> Unit:
    db.session.expire_all()
    return db.session.scalar(select(Unit).where(Unit.code == code))


def problems(response) -> list[str]:
    return re.findall(r"<li>(.*?)</li>", response.get_data(as_text=True))


def test_the_tree_indented_with_kind_code_state_and_users(w):
    coord = browser(w, "coord")
    html = coord.get("/units").get_data(as_text=True)
    rows = re.findall(r'<tr class="depth-(\d)">.*?<a href="/units/([^"]+)">', html, re.S)
    assert rows == [("0", "city"), ("1", "jiangan"), ("2", "erqi"), ("1", "mzj")]
    jiangan_row = html[html.index('href="/units/jiangan"') :].split("</tr>")[0]
    assert "<code>jiangan</code>" in jiangan_row and "区" in jiangan_row
    assert '<td data-label="启用用户">1</td>' in jiangan_row  # jiangan_op
    assert 'id="nav-units"' in html


def test_others_are_refused_with_the_reason(w):
    op = browser(w, "jiangan_op")
    for path in ("/units", "/units/new", "/units/jiangan"):
        answer = op.get(path)
        assert answer.status_code == 403 and MANAGERS_ONLY in answer.get_data(as_text=True)
    token = csrf_token(op, "/account/password")
    answer = op.post("/units/erqi/retire", data={"csrf_token": token})
    assert answer.status_code == 403 and unit("erqi").active
    assert 'id="nav-units"' not in op.get("/account/password").get_data(as_text=True)
    assert browser(w, "root").get("/units/nowhere").status_code == 404


def test_add_a_street_and_refusals_keep_nothing(w):
    coord = browser(w, "coord")
    token = csrf_token(coord, "/units/new")
    form = {
        "csrf_token": token,
        "code": "erqi",
        "name": "新街道\x01",
        "kind": "street",
        "parent": "mzj",
        "position": "",
        "is_responsible": "",
    }
    answer = coord.post("/units/new", data=form)
    assert answer.status_code == 422
    assert problems(answer) == [
        "「单位代码」“erqi”已被“二七街道”（erqi）使用",
        "「单位名称」含有不可见的控制字符（U+0001，第4个字），请删除后重新填写",
        "「上级单位」“市民政局”（mzj）是市直部门：街道只能在区之下",
    ]
    assert unit("erqi").name == "二七街道"
    form.update(code="dajie", name="大智街道", parent="jiangan")
    answer = coord.post("/units/new", data=form)
    assert answer.status_code == 302
    dajie = unit("dajie")
    assert (dajie.parent.code, dajie.kind, dajie.is_responsible, dajie.position) == (
        "jiangan",
        "street",
        False,
        1,  # after 二七街道 (0)
    )
    # Without a CSRF token nothing is added.
    form.update(code="x9", csrf_token="")
    assert coord.post("/units/new", data=form).status_code == 400
    assert unit("x9") is None


def test_rename_move_reorder_then_retire_and_reactivate(w):
    admin = browser(w, "root")
    make_unit("qiaokou", "硚口区", parent=unit("city"))
    db.session.commit()
    token = csrf_token(admin, "/units/erqi")
    answer = admin.post(
        "/units/erqi",
        data={
            "csrf_token": token,
            "name": "二七新街道",
            "parent": "qiaokou",
            "position": "3",
            "is_responsible_shown": "1",
        },
    )
    assert answer.status_code == 302
    erqi = unit("erqi")
    assert (erqi.name, erqi.parent.code, erqi.position) == ("二七新街道", "qiaokou", 3)
    page = admin.get("/units/erqi").get_data(as_text=True)
    assert "单位名称：二七街道；上级单位：江岸区；排序：0" in page
    assert "单位名称：二七新街道；上级单位：硚口区；排序：3" in page
    # A cycle: 江岸区 under its own street? 二七 has moved; move 硚口区 under 二七新街道.
    answer = admin.post(
        "/units/qiaokou",
        data={
            "csrf_token": token,
            "name": "硚口区",
            "parent": "erqi",
            "position": "0",
            "is_responsible_shown": "1",
            "is_responsible": "1",
        },
    )
    assert answer.status_code == 422
    assert problems(answer) == [
        "「上级单位」“二七新街道”（erqi）是“硚口区”（qiaokou）本身或其下级单位：不能把单位移到自己之下"
    ]
    # Retiring 江岸区, which has an active operator: refused, said why.
    answer = admin.post("/units/jiangan/retire", data={"csrf_token": token}, follow_redirects=True)
    assert "还有1个启用的用户，不能撤销" in answer.get_data(as_text=True)
    assert unit("jiangan").active
    answer = admin.post("/units/erqi/retire", data={"csrf_token": token}, follow_redirects=True)
    assert "已撤销单位“二七新街道”" in answer.get_data(as_text=True)
    assert not unit("erqi").active
    assert "状态：在用" in answer.get_data(as_text=True)
    admin.post("/units/erqi/reactivate", data={"csrf_token": token})
    assert unit("erqi").active


def flashed(client) -> str:
    with client.session_transaction() as session:
        return " ".join(message for _, message in session.pop("_flashes", []))


def test_a_departments_remit_set_on_its_page_recorded_and_refused_where_it_cannot_be(w):
    coord, op = browser(w, "coord"), browser(w, "jiangan_op")
    token = csrf_token(coord, "/units/mzj")
    assert 'id="remit-form"' in coord.get("/units/mzj").get_data(as_text=True)
    assert 'id="remit-form"' not in coord.get("/units/jiangan").get_data(as_text=True)
    mine = csrf_token(op, "/account/password")
    refused = op.post("/units/mzj/remit", data={"csrf_token": mine, "remit": "tax"})
    assert refused.status_code == 403
    assert (
        coord.post("/units/mzj/remit", data={"csrf_token": token, "remit": "tax"}).status_code
        == 302
    )
    assert "已将“市民政局”的核查职责设为：税务。" in flashed(coord)
    assert unit("mzj").remit == "tax"
    html = coord.get("/units").get_data(as_text=True)
    assert '<td class="text" data-label="核查职责">税务</td>' in html
    history = coord.get("/units/mzj").get_data(as_text=True).split('id="history"')[1]
    assert "核查职责：税务" in history
    # A street cannot check; a department with a verifier may not lose its remit.
    coord.post("/units/erqi/remit", data={"csrf_token": token, "remit": "tax"})
    assert "不是市直部门，不能承担核查职责" in flashed(coord)
    make_user("mzj_check", "verifier", unit("mzj"))
    db.session.commit()
    coord.post("/units/mzj/remit", data={"csrf_token": token, "remit": ""})
    assert "还有1个启用的核查部门用户，不能取消核查职责" in flashed(coord)
    assert unit("mzj").remit == "tax"


def test_a_tree_imported_on_the_page_previewed_then_kept_whole_or_refused_whole(w, tmp_path):
    from openpyxl import Workbook

    def sheet(*rows) -> bytes:
        wb = Workbook()
        ws = wb.active
        ws.append(["代码", "名称", "类型", "上级代码", "排序"])
        for row in rows:
            ws.append(list(row))
        path = tmp_path / "units.xlsx"
        wb.save(path)
        return path.read_bytes()

    import io

    coord, op = browser(w, "coord"), browser(w, "jiangan_op")
    token = csrf_token(coord, "/units/import")
    assert op.get("/units/import").status_code == 403
    # A missing parent and a cycle: named by row and column; nothing kept.
    bad = sheet(("hs", "花山街道", "街道", "nowhere", 1), ("a", "甲区", "区", "b", 1))
    answer = coord.post(
        "/units/import",
        data={"csrf_token": token, "file": (io.BytesIO(bad), "units.xlsx")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422
    said = problems(answer)
    assert "第2行「上级代码」代码“nowhere”不存在" in said
    assert any(p.startswith("第3行「上级代码」") for p in said)
    assert unit("hs") is None
    # A good file: previewed (nothing kept), then kept on confirmation.
    good = sheet(("hs", "花山街道", "街道", "jiangan", 2))
    answer = coord.post(
        "/units/import",
        data={"csrf_token": token, "file": (io.BytesIO(good), "units.xlsx")},
        content_type="multipart/form-data",
    )
    html = answer.get_data(as_text=True)
    assert "第2行 新增 hs 花山街道（街道，上级 jiangan）" in html
    assert unit("hs") is None
    held = re.search(r'name="token" value="([^"]+)"', html).group(1)
    done = coord.post("/units/import", data={"csrf_token": token, "token": held})
    assert done.status_code == 302
    assert "已导入：新增1个单位，修改0个，0个不变。" in flashed(coord)
    assert unit("hs").parent.code == "jiangan"
    # The same confirmation again finds nothing held.
    again = coord.post("/units/import", data={"csrf_token": token, "token": held})
    assert again.status_code == 409
