"""Accounts from xlsx, the same way as units: `flask users import FILE` and the page
/users/import check every row (第N行「column」), preview, then keep all or nothing; a new
account gets a one-time password shown once (he chooses his own at his first login); a
username already there is that user, changed. Only admins (403 with the reason)."""

import io
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from campaign.core import accounts
from campaign.core.extensions import db
from campaign.core.models import User
from campaign.core.vocab import UnitKind
from tests.conftest import csrf_token, login, make_unit, make_user

HEADER = ["用户名", "姓名", "角色", "所属单位代码", "手机号码", "电子邮件"]


@pytest.fixture
def w(app):
    city = make_unit("city", "市委组织部", kind=UnitKind.CITY, responsible=False)
    make_unit("jiangan", "江岸区", parent=city)
    make_unit("erqi", "二七街道", kind=UnitKind.STREET, responsible=False)
    make_user("root", "admin")
    make_user("coord", "coordinator").phone = "13800000001"
    db.session.commit()
    return app


def sheet(rows, header=HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "用户"
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def users() -> dict[str, tuple]:
    db.session.expire_all()
    found = {
        u.username: (u.display_name, str(u.role), u.unit.code if u.unit else "", u.phone)
        for u in db.session.scalars(select(User))
    }
    db.session.rollback()
    return found


GOOD = [
    ["jiangan_tb", "江岸区 张填报", "单位填报员", "jiangan", "13800000002", ""],
    ["wang", "王专班", "市级专班", "", "", "wang@example.cn"],
    ["coord", "", "市级专班", "", "13900000009", ""],  # exists: his phone changes
]


def test_the_command_previews_then_imports_all_and_prints_each_password_once(w, runner, tmp_path):
    path = tmp_path / "users.xlsx"
    # The coordinator's row leaves his name empty: refused, named by row and column.
    path.write_bytes(sheet(GOOD))
    refused = runner.invoke(args=["users", "import", str(path), "--yes"])
    assert refused.exit_code == 1
    assert "第4行「姓名」必填" in refused.output
    assert set(users()) == {"root", "coord"}

    rows = [*GOOD[:2], ["coord", "市级专班 李协调", "市级专班", "", "13900000009", ""]]
    path.write_bytes(sheet(rows))
    dry = runner.invoke(args=["users", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "第2行 新增 jiangan_tb 江岸区 张填报（单位填报员，jiangan）" in dry.output
    assert "第4行 修改 coord：姓名改为市级专班 李协调；手机号码改为13900000009" in dry.output
    assert "新增2个用户，修改1个，0个不变" in dry.output
    assert set(users()) == {"root", "coord"}

    done = runner.invoke(args=["users", "import", str(path), "--yes"])
    assert done.exit_code == 0, done.output
    printed = dict(re.findall(r"^  (\S+)\t\S+(?: \S+)?\t(\S+)$", done.output, re.M))
    assert set(printed) == {"jiangan_tb", "wang"}
    got = users()
    assert got["jiangan_tb"] == ("江岸区 张填报", "operator", "jiangan", "13800000002")
    assert got["coord"] == ("市级专班 李协调", "coordinator", "", "13900000009")
    # The password printed lets him in, once, to change it.
    user = accounts.authenticate(db.session, "jiangan_tb", printed["jiangan_tb"])
    assert user is not None and user.must_change_password
    db.session.rollback()
    # Exported, the accounts read back as they are (no password in the file).
    out = tmp_path / "back.xlsx"
    assert runner.invoke(args=["users", "export", "-o", str(out)]).exit_code == 0
    ws = load_workbook(out)["用户"]
    assert [c.value for c in ws[1]] == HEADER
    assert [c.value for c in ws[3]][:4] == ["jiangan_tb", "江岸区 张填报", "单位填报员", "jiangan"]
    again = runner.invoke(args=["users", "import", str(out), "--yes"])
    assert "没有需要导入的修改" in again.output


def test_every_bad_row_named_and_nothing_kept(w, runner, tmp_path):
    path = tmp_path / "users.xlsx"
    path.write_bytes(
        sheet(
            [
                ["a1", "甲", "局长", "", "", ""],
                ["b1", "乙", "单位填报员", "nowhere", "", ""],
                ["c1", "丙", "单位填报员", "erqi", "", ""],
                ["d 1", "丁", "领导", "", "", ""],
                ["e1", "戊", "领导", "", "1380000000x", ""],
                ["a1", "己", "领导", "", "", ""],
                ["ok1", "好", "领导", "", "", ""],
            ]
        )
    )
    result = runner.invoke(args=["users", "import", str(path), "--yes"])
    assert result.exit_code == 1
    said = result.output
    assert "第2行「角色」“局长”无效" in said
    assert "第7行「用户名」“a1”与第2行重复" in said
    assert set(users()) == {"root", "coord"}
    # With the file's own faults mended, the system's: unit, username, phone.
    path.write_bytes(
        sheet(
            [
                ["b1", "乙", "单位填报员", "nowhere", "", ""],
                ["c1", "丙", "单位填报员", "erqi", "", ""],
                ["d 1", "丁", "领导", "", "", ""],
                ["e1", "戊", "领导", "", "1380000000x", ""],
                ["ok1", "好", "领导", "", "", ""],
            ]
        )
    )
    result = runner.invoke(args=["users", "import", str(path), "--yes"])
    assert result.exit_code == 1
    lines = [line.strip() for line in result.output.splitlines()]
    assert any(line.startswith("第2行「所属单位代码」") and "nowhere" in line for line in lines)
    assert any(line.startswith("第3行「所属单位代码」") for line in lines)
    assert any(line.startswith("第4行「用户名」") for line in lines)
    assert any(line.startswith("第5行「手机号码」") for line in lines)
    assert not any(line.startswith("第6行") for line in lines)
    assert set(users()) == {"root", "coord"}


def test_the_page_previews_imports_and_shows_the_passwords_once_for_admins_only(w):
    root, coord = w.test_client(), w.test_client()
    assert login(root, "root").status_code == 302
    assert login(coord, "coord").status_code == 302
    refused = coord.get("/users/import")
    assert refused.status_code == 403
    assert "用户管理仅限系统管理员" in refused.get_data(as_text=True)
    token = csrf_token(root, "/users/import")
    answer = root.post(
        "/users/import",
        data={"csrf_token": token, "file": (io.BytesIO(sheet(GOOD[:2])), "users.xlsx")},
        content_type="multipart/form-data",
    )
    html = answer.get_data(as_text=True)
    assert "新增2个用户，修改0个，0个不变" in html
    assert set(users()) == {"root", "coord"}
    held = re.search(r'name="token" value="([^"]+)"', html).group(1)
    done = root.post("/users/import", data={"csrf_token": token, "token": held})
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    shown = done.get_data(as_text=True).split('id="one-time-passwords"')[1]
    passwords = re.findall(r'data-label="一次性密码">([^<]+)<', shown)
    assert len(passwords) == 2 and passwords[0] != passwords[1]
    assert set(users()) == {"root", "coord", "jiangan_tb", "wang"}
    assert root.post("/users/import", data={"csrf_token": token, "token": held}).status_code == 409
