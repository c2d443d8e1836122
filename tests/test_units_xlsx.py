"""`flask units export -o FILE` and `flask units import FILE`: a tree written in tree order
and read back; a file checked row by row (第N行「column」), previewed, then kept whole or
not at all."""

import json

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from campaign.audit import AuditEntry
from campaign.core.extensions import db
from campaign.core.models import Unit
from campaign.core.vocab import UnitKind
from tests.conftest import make_unit

HEADER = ["代码", "名称", "类型", "上级代码", "排序"]


@pytest.fixture
def city(app):
    city = make_unit("city", "市委组织部", kind=UnitKind.CITY, responsible=False)
    db.session.commit()
    return city


def sheet(path, rows, header=HEADER):
    wb = Workbook()
    ws = wb.active
    ws.title = "单位"
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return str(path)


def units() -> dict[str, tuple]:
    db.session.expire_all()
    return {
        u.code: (u.name, u.kind, u.parent.code if u.parent else None, u.position, u.is_responsible)
        for u in db.session.scalars(select(Unit))
    }


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Unit))


def test_import_a_tree_children_before_parents_then_export_it_back(city, runner, tmp_path):
    path = sheet(
        tmp_path / "tree.xlsx",
        [
            ["jiangan-01", "二七街道", "街道", "jiangan", 1],
            ["jiangan", "江岸区", "区", "city", 1],
            ["wuchang", "武昌区", "district", "city", 2],
            ["wuchang-01", "白沙洲街道", "街道", "wuchang", None],
            ["mzj", "市民政局", "市直部门", "city", 3],
        ],
        HEADER,
    )
    answer = runner.invoke(args=["units", "import", path, "--yes"])
    assert answer.exit_code == 0, answer.output
    assert "第3行 新增 jiangan 江岸区（区，上级 city）" in answer.output
    assert "新增5个单位，修改0个，0个不变" in answer.output
    assert units() == {
        "city": ("市委组织部", "city", None, 0, False),
        "jiangan": ("江岸区", "district", "city", 1, True),
        "jiangan-01": ("二七街道", "street", "jiangan", 1, False),
        "wuchang": ("武昌区", "district", "city", 2, True),
        "wuchang-01": ("白沙洲街道", "street", "wuchang", 1, False),  # first under 武昌区
        "mzj": ("市民政局", "department", "city", 3, False),
    }
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "unit.create")
        )
        == 5
    )

    out = tmp_path / "out.xlsx"
    assert runner.invoke(args=["units", "export", "-o", str(out)]).exit_code == 0
    rows = list(load_workbook(out).worksheets[0].iter_rows(values_only=True))
    assert rows[0] == ("代码", "名称", "类型", "上级代码", "排序", "责任单位")
    assert [r[0] for r in rows[1:]] == [
        "city",
        "jiangan",
        "jiangan-01",
        "wuchang",
        "wuchang-01",
        "mzj",
    ]
    assert rows[6] == ("mzj", "市民政局", "市直部门", "city", 3, "否")
    # Read back as it is, it changes nothing; with 市民政局 made responsible, that one thing.
    again = runner.invoke(args=["units", "import", str(out), "--yes"])
    assert "新增0个单位，修改0个，6个不变" in again.output and "没有需要导入的修改" in again.output
    wb = load_workbook(out)
    wb.worksheets[0]["F7"] = "是"
    wb.worksheets[0]["B3"] = "江岸区（新）"
    wb.save(out)
    changed = runner.invoke(args=["units", "import", str(out), "--yes"])
    assert "第3行 修改 jiangan：名称改为江岸区（新）" in changed.output
    assert "第7行 修改 mzj：责任单位改为是" in changed.output
    assert units()["mzj"][4] is True and units()["jiangan"][0] == "江岸区（新）"


def test_a_missing_parent_and_other_bad_rows_keep_nothing(city, runner, tmp_path):
    make_unit("jiangan", "江岸区", parent=city)
    db.session.commit()
    path = sheet(
        tmp_path / "bad.xlsx",
        [
            ["qiaokou", "硚口区", "区", "city", 1],
            ["qiaokou-01", "汉中街道", "街道", "nowhere", 1],
            ["jiangan", "江岸区", "街道", "qiaokou", 1],
            ["mzj-01", "某街道", "街道", "mzj", 1],
            ["mzj", "市民政局", "市直部门", "city", 2],
            ["x", "坏_x0007_名", "区", "city", "第一"],
            ["qiaokou", "又一个", "区", "city", 3],
            ["y", "某单位", "县", "city", 1],
        ],
    )
    answer = runner.invoke(args=["units", "import", path, "--yes"])
    assert answer.exit_code == 1
    assert answer.output.splitlines()[1:] == [
        "第7行「名称」含有控制字符的转义“_x0007_”（U+0007，第2个字），请删除后重新填写",
        "第7行「排序」应为非负整数，而不是“第一”",
        "第8行「代码」“qiaokou”与第2行重复",
        "第9行「类型」“县”无效，可选：市委组织部、区、市直部门、街道、乡镇、开发区/园区",
    ]
    # The rows themselves pass: the tree is checked next, every problem named.
    path = sheet(
        tmp_path / "bad2.xlsx",
        [
            ["qiaokou", "硚口区", "区", "city", 1],
            ["qiaokou-01", "汉中街道", "街道", "nowhere", 1],
            ["jiangan", "江岸区", "街道", "qiaokou", 1],
            ["mzj-01", "某街道", "街道", "mzj", 1],
            ["mzj", "市民政局", "市直部门", "city", 2],
            ["a", "甲", "区", "b", 1],
            ["b", "乙", "区", "a", 1],
        ],
    )
    answer = runner.invoke(args=["units", "import", path, "--yes"])
    assert answer.exit_code == 1
    assert answer.output.splitlines()[1:] == [
        "第7行「上级代码」“b”与本文件中其他行的上级代码互相引用，形成循环",
        "第8行「上级代码」“a”与本文件中其他行的上级代码互相引用，形成循环",
        "第3行「上级代码」代码“nowhere”不存在",
        "第4行「类型」“jiangan”已是区，单位类型不能修改",
        "第5行「上级代码」“市民政局”（mzj）是市直部门：街道只能在区之下",
    ]
    assert count() == 2  # nothing added: not 硚口区, not 市民政局


def test_a_preview_first_and_nothing_kept_without_a_yes(city, runner, tmp_path):
    path = sheet(tmp_path / "one.xlsx", [["jiangan", "江岸区", "区", "city", 1]])
    answer = runner.invoke(args=["units", "import", path, "--dry-run"])
    assert answer.output.splitlines() == [
        "预览：",
        "  第2行 新增 jiangan 江岸区（区，上级 city）",
        "新增1个单位，修改0个，0个不变",
        "仅预览（--dry-run），未保存。",
    ]
    answer = runner.invoke(args=["units", "import", path], input="n\n")
    assert "已取消，未保存。" in answer.output
    assert count() == 1
    answer = runner.invoke(args=["units", "import", path], input="y\n")
    assert "已导入：新增1个单位" in answer.output and count() == 2
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "unit.create"))
    assert entry.actor == "cli" and json.loads(entry.after)["parent_code"] == "city"


def test_files_that_are_not_a_units_sheet(city, runner, tmp_path):
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a zip at all")
    answer = runner.invoke(args=["units", "import", str(junk)])
    assert answer.exit_code == 1 and "文件不是有效的xlsx（Excel 2007及以上）文件" in answer.output
    path = sheet(tmp_path / "h.xlsx", [["a", "甲", "区"]], ["代码", "名称", "类型"])
    answer = runner.invoke(args=["units", "import", path])
    assert "第1行（表头）缺少列「上级代码」「排序」" in answer.output
    assert count() == 1
