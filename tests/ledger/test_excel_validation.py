"""Reading ledger files: every problem is named with its sheet, row, column and field.

No database here: ``read_workbook`` and ``check_file`` on real files written by
openpyxl (as a user's Excel would) and by LibreOffice. The importing unit is
江岸区 with streets 二七街道 and 后湖街道. Rows start on line 3 (line 1 is the
form's title, line 2 the headers). Column letters are those of the template:
附表1 G = 从业人员数, H = 正式党员数, B = 统一社会信用代码, E = 企业类别;
附表2 H = 从业人员数.
"""

import io
import os
import time
import zipfile
from datetime import date

import openpyxl
import pytest
from openpyxl import load_workbook

from campaign.ledger import excel

from .conftest import (
    CODE_A,
    CODE_B,
    CODE_C,
    CODE_F,
    CODE_S,
    CODE_T,
    CODE_WRONG_CHECK,
    CTX,
    ENTERPRISE_HEADERS,
    ENTERPRISE_SHEET,
    PHASE_HEADERS,
    SOCIAL_HEADERS,
    SOCIAL_SHEET,
    E,
    S,
    build_xlsx,
    encrypted_xlsx,
    enterprise,
    ledger_xlsx,
    social,
)


def read(data: bytes) -> excel.ReadResult:
    return excel.read_workbook(data, CTX)


def problems(result) -> list[str]:
    return [str(p) for p in result.problems]


def codes(result) -> list[str]:
    return [r.get("credit_code") for r in result.rows]


def without(headers: list[str], header: str) -> list[str]:
    return [h for h in headers if h != header]


# ---- the template ------------------------------------------------------------------


@pytest.fixture(scope="module")
def template() -> bytes:
    buffer = io.BytesIO()
    assert excel.write_workbook({}, ["二七街道", "后湖街道"], buffer) == 0
    return buffer.getvalue()


def _dropdown(wb, sheet: str, cell: str) -> list[str]:
    """The values offered by the list validation that covers ``cell`` (read from 代码表)."""
    ws = wb[sheet]
    found = [dv for dv in ws.data_validations.dataValidation if cell in dv.sqref]
    assert len(found) == 1, f"{sheet}!{cell}: {len(found)} validations"
    dv = found[0]
    assert dv.type == "list"
    ref_sheet, ref = dv.formula1.rsplit("!", 1)
    assert ref_sheet.strip("'") == "代码表"
    return [c.value for (c,) in wb["代码表"][ref.replace("$", "")]]


def test_template_has_instructions_both_forms_a_hidden_code_table_and_dropdowns(template):
    wb = load_workbook(io.BytesIO(template))
    assert wb.sheetnames == ["填写说明", "附表1 非公企业", "附表2 社会组织", "代码表"]
    assert wb["代码表"].sheet_state == "hidden"
    assert all(wb[s].sheet_state == "visible" for s in wb.sheetnames[:3])
    assert "GB 32100" in "".join(str(c.value) for (c,) in wb["填写说明"].iter_rows())

    # Headers on line 2, required ones starred, in the order of DOMAIN.md §4.
    header = [c.value for c in wb[ENTERPRISE_SHEET][2]]
    assert header == [
        "企业名称*",
        "统一社会信用代码*",
        "所在区",
        "街道（乡镇）/园区",
        "企业类别*",
        "经营状态*",
        "从业人员数*",
        "正式党员数*",
        "预备党员数*",
        "出资人（负责人）",
        "出资人是否党员",
        "党组织状态*",
        "党组织名称",
        "党组织成立时间",
        "未建原因",
        "党建工作指导员",
        "群团组织",
        "推进措施",
        "计划完成时间",
        "责任人",
        *PHASE_HEADERS,
    ]
    social_header = [str(c.value).rstrip("*") for c in wb[SOCIAL_SHEET][2]]
    assert social_header == SOCIAL_HEADERS + PHASE_HEADERS

    # Dropdowns on the first data line and far below it.
    for cell in ("E3", "E5000"):
        assert _dropdown(wb, ENTERPRISE_SHEET, cell) == [
            "规模以上",
            "外商投资",
            "互联网",
            "文化创意",
            "农村新型经营主体",
            "工商联会员企业",
            "高新技术企业",
            "其他",
        ]
    assert _dropdown(wb, ENTERPRISE_SHEET, "F3") == ["正常", "空壳", "僵尸", "影子", "停业"]
    # 功能型 Party orgs are for social organizations (seed 004): not offered on 附表1.
    assert _dropdown(wb, ENTERPRISE_SHEET, "L3") == ["未建", "单独组建", "联合组建"]
    assert _dropdown(wb, ENTERPRISE_SHEET, "D3") == ["二七街道", "后湖街道"]
    assert _dropdown(wb, ENTERPRISE_SHEET, "K3") == ["是", "否"]
    assert _dropdown(wb, SOCIAL_SHEET, "E3") == ["市级", "区级及以下"]
    assert _dropdown(wb, SOCIAL_SHEET, "F3")[:3] == ["社会团体", "民办学校", "民办医院"]
    assert len(_dropdown(wb, SOCIAL_SHEET, "F3")) == 9
    # Each sheet offers its own kind's statuses: a social organization leaves the base as
    # 注销, 撤销登记 or 长期停止活动, an enterprise as 空壳, 僵尸 or 影子 (停业 stays in it).
    assert _dropdown(wb, SOCIAL_SHEET, "G3") == ["正常", "注销", "撤销登记", "长期停止活动"]
    assert _dropdown(wb, SOCIAL_SHEET, "O3") == ["未建", "单独组建", "联合组建", "功能型"]
    # 隶属关系 and 选派类别 (seed 004 phases 5 and 6) at the end of each sheet.
    assert _dropdown(wb, ENTERPRISE_SHEET, "U3") == ["属地", "行业", "主管部门"]
    assert _dropdown(wb, ENTERPRISE_SHEET, "V3") == ["是", "否"]
    assert _dropdown(wb, SOCIAL_SHEET, "AA3") == ["第一书记", "党建工作指导员"]
    # Free-text columns have none.
    assert not [
        dv for dv in wb[ENTERPRISE_SHEET].data_validations.dataValidation if "A3" in dv.sqref
    ]


def test_the_blank_template_reads_as_an_empty_ledger(template):
    result = read(template)
    assert (result.rows, result.problems, result.notices) == ([], [], [])


# ---- a clean file ---------------------------------------------------------------------


def test_a_clean_file_gives_every_field_normalised():
    data = ledger_xlsx(
        [
            enterprise(
                "江岸甲网络科技有限公司",
                CODE_A,
                企业类别="互联网",
                从业人员数=120,
                正式党员数=2,
                预备党员数=1,
                出资人是否党员="是",
                党组织状态="联合组建",
                党组织名称="江岸互联网联合党支部",
                党组织成立时间=date(2026, 9, 1),
                未建原因="",
                群团组织="工会",
                计划完成时间="2026-10-31",
            )
        ],
        [
            social(
                "江岸区律师事务所",
                CODE_S,
                **{"街道（乡镇）/园区": "后湖街道"},
                登记层级="市级",
                类别="律师事务所",
                业务主管单位="市司法局",
                从业人员数=15,
                正式党员数=3,
                党组织状态="单独组建",
            )
        ],
    )
    result = read(data)
    assert result.problems == [] and result.notices == []
    ent, soc = result.rows
    assert ent == {
        "kind": "enterprise",
        "_sheet": ENTERPRISE_SHEET,
        "_row": 3,
        "name": "江岸甲网络科技有限公司",
        "credit_code": CODE_A,
        "district_name": "江岸区",
        "area_name": "二七街道",
        "tags": ["internet"],
        "operating_status": "normal",
        "employees": 120,
        "formal_members": 2,
        "probationary_members": 1,
        "investor": "张三",
        "investor_is_member": True,
        "party_org_status": "joint",
        "party_org_name": "江岸互联网联合党支部",
        "party_org_founded_on": date(2026, 9, 1),
        "no_party_org_reason": "",
        "instructor": "",
        "mass_organizations": "工会",
        "measures": "",
        "planned_on": date(2026, 10, 31),
        "responsible_person": "",
        "registration_level": None,
        "supervising_unit": "",
        "members_elsewhere": 0,  # 附表1 has no such column
    }
    assert soc["_sheet"] == SOCIAL_SHEET and soc["_row"] == 3
    assert soc["kind"] == "social"
    assert (soc["registration_level"], soc["tags"], soc["supervising_unit"]) == (
        "city",
        ["law_firm"],
        "市司法局",
    )
    assert soc["area_name"] == "后湖街道" and soc["operating_status"] == "normal"
    assert (soc["employees"], soc["formal_members"], soc["party_org_status"]) == (
        15,
        3,
        "standalone",
    )


# ---- headers and sheets ---------------------------------------------------------------


def test_a_missing_required_column_is_named_and_no_row_is_read_without_it():
    headers = without(ENTERPRISE_HEADERS, "经营状态")
    data = build_xlsx({ENTERPRISE_SHEET: (headers, [enterprise("甲公司", CODE_A)])})
    result = read(data)
    assert problems(result) == [
        f"{E}第2行「经营状态」：缺少必需的列（请使用下载的模板，不要修改表头）"
    ]
    assert result.rows == []


@pytest.mark.parametrize("header", ["从业人员数", "正式党员数", "统一社会信用代码", "企业名称"])
def test_a_missing_count_code_or_name_column_is_named(header):
    # (A missing 从业人员数 or 正式党员数 column used to crash with KeyError at excel.py:664.)
    data = build_xlsx(
        {ENTERPRISE_SHEET: (without(ENTERPRISE_HEADERS, header), [enterprise("甲公司", CODE_A)])}
    )
    result = read(data)
    assert problems(result) == [
        f"{E}第2行「{header}」：缺少必需的列（请使用下载的模板，不要修改表头）"
    ]
    assert result.rows == []


def test_an_optional_column_may_be_left_out():
    data = build_xlsx(
        {
            ENTERPRISE_SHEET: (
                without(ENTERPRISE_HEADERS, "党组织成立时间"),
                [enterprise("甲公司", CODE_A)],
            )
        }
    )
    result = read(data)
    assert result.problems == []
    assert [(r["credit_code"], r["party_org_founded_on"]) for r in result.rows] == [(CODE_A, None)]


def test_an_older_social_sheet_without_members_elsewhere_is_read():
    # Files made before 组织关系在外党员数 existed: the rows have no value for it (the import
    # keeps what the ledger holds).
    data = build_xlsx(
        {SOCIAL_SHEET: (without(SOCIAL_HEADERS, "组织关系在外党员数"), [social("甲协会", CODE_S)])}
    )
    result = read(data)
    assert result.problems == []
    [row] = result.rows
    assert row["credit_code"] == CODE_S and "members_elsewhere" not in row


@pytest.mark.parametrize(("cell", "expected"), [(3, 3), (None, 0), ("", 0), ("０", 0)])
def test_members_elsewhere_is_a_count_and_blank_is_none(cell, expected):
    row = social("甲协会", CODE_S, 从业人员数=10, 正式党员数=4, 组织关系在外党员数=cell)
    result = read(ledger_xlsx([], [row]))
    assert result.problems == []
    assert result.rows[0]["members_elsewhere"] == expected


def test_members_elsewhere_cannot_exceed_the_formal_members():
    rows = [
        social("甲协会", CODE_S, 从业人员数=10, 正式党员数=3, 组织关系在外党员数=5),
        social("乙协会", CODE_T, 从业人员数=10, 正式党员数=3, 组织关系在外党员数=-1),
    ]
    assert problems(read(ledger_xlsx([], rows))) == [
        f"{S}第3行L列「组织关系在外党员数」：组织关系在外党员数（5）多于正式党员数（3）",
        f"{S}第4行L列「组织关系在外党员数」：不能为负数（-1）",
    ]


def test_an_enterprise_cannot_report_a_functional_party_org():
    row = enterprise("甲公司", CODE_A, 正式党员数=3, 党组织状态="功能型", 党组织名称="甲公司党支部")
    assert problems(read(ledger_xlsx([row], []))) == [
        f"{E}第3行L列「党组织状态」：不能填“功能型”：功能型党组织适用于以机关事业单位人员为主体"
        "组成的社会组织，非公企业不能建立功能型党组织（社会组织请填附表2）"
    ]


def test_a_renamed_header_suggests_the_template_name():
    headers = ["企业类型" if h == "企业类别" else h for h in ENTERPRISE_HEADERS]
    data = build_xlsx(
        {ENTERPRISE_SHEET: (headers, [enterprise("甲公司", CODE_A, 企业类型="其他")])}
    )
    assert problems(read(data)) == [
        f"{E}第2行E列「企业类型」：不是模板中的列，是否应为「企业类别」？",
        f"{E}第2行「企业类别」：缺少必需的列（请使用下载的模板，不要修改表头）",
    ]


def test_an_unknown_sheet_is_named():
    data = build_xlsx(
        {
            ENTERPRISE_SHEET: (ENTERPRISE_HEADERS, [enterprise("甲公司", CODE_A)]),
            "Sheet1": (["企业名称"], [["乙公司"]]),
        }
    )
    assert problems(read(data)) == [
        "「Sheet1」：未知的工作表（应为 「附表1 非公企业」、「附表2 社会组织」）"
    ]


def test_an_empty_extra_sheet_is_ignored_with_a_notice():
    wb = openpyxl.load_workbook(
        io.BytesIO(
            build_xlsx({ENTERPRISE_SHEET: (ENTERPRISE_HEADERS, [enterprise("甲公司", CODE_A)])})
        )
    )
    wb.create_sheet("Sheet1")  # what Excel leaves behind: nothing in it
    buffer = io.BytesIO()
    wb.save(buffer)
    result = read(buffer.getvalue())
    assert problems(result) == []
    assert [r["name"] for r in result.rows] == ["甲公司"]
    assert result.notices == ["已忽略空白工作表「Sheet1」"]


# ---- cells ------------------------------------------------------------------------------


def test_a_value_outside_the_list_is_named_with_the_choices():
    data = ledger_xlsx(
        [enterprise("甲公司", CODE_A), enterprise("乙公司", CODE_B, 企业类别="国有")]
    )
    result = read(data)
    assert problems(result) == [
        f"{E}第4行E列「企业类别」：“国有”不是可选值"
        "（可选：规模以上、外商投资、互联网、文化创意、农村新型经营主体、工商联会员企业、高新技术企业、其他，多个用“、”分隔）"
    ]
    assert CODE_B not in codes(result)


@pytest.mark.parametrize(
    ("sheet", "cells", "expected"),
    [
        ("附表1", {"从业人员数": -5}, f"{E}第4行G列「从业人员数」：不能为负数（-5）"),
        ("附表1", {"正式党员数": -1}, f"{E}第4行H列「正式党员数」：不能为负数（-1）"),
        ("附表1", {"从业人员数": 12.5}, f"{E}第4行G列「从业人员数」：应为整数，而不是“12.5”"),
        ("附表1", {"从业人员数": "十二"}, f"{E}第4行G列「从业人员数」：应为整数，而不是“十二”"),
        (
            "附表1",
            {"预备党员数": None},
            f"{E}第4行I列「预备党员数」：不能为空，请填写整数（没有请填0）",
        ),
        ("附表2", {"从业人员数": -3}, f"{S}第4行I列「从业人员数」：不能为负数（-3）"),
        ("附表2", {"从业人员数": "12人"}, f"{S}第4行I列「从业人员数」：应为整数，而不是“12人”"),
    ],
    ids=[
        "negative",
        "negative-members",
        "fraction",
        "chinese-numeral",
        "blank",
        "social-negative",
        "social-unit",
    ],
)
def test_a_bad_count_is_named_and_its_row_not_read(sheet, cells, expected):
    if sheet == "附表1":
        data = ledger_xlsx([enterprise("甲公司", CODE_A), enterprise("乙公司", CODE_B, **cells)])
    else:
        data = ledger_xlsx([], [social("甲协会", CODE_S), social("乙协会", CODE_T, **cells)])
    result = read(data)
    assert problems(result) == [expected]
    assert CODE_B not in codes(result) and CODE_T not in codes(result)


def test_full_width_digits_and_stray_spaces_are_normalised_and_accepted():
    data = ledger_xlsx(
        [
            enterprise(
                "　江岸甲网络科技有限公司 ",  # full-width space before, ASCII space after
                "９１４２０１０２０００１５８３８５Ｌ",  # CODE_B in full-width digits and letter
                企业类别=" 互联网　",
                经营状态="正常 ",
                从业人员数="１２",
                正式党员数=" 1 ",
                预备党员数="0",
                出资人是否党员=" 是",
                党组织状态="　联合组建",
                **{"街道（乡镇）/园区": "二七街道　", "所在区": " 江岸区"},
            ),
            # CODE_F with a space inside, a full-width space after, in lower case
            enterprise("乙公司", f"{CODE_F[:9]} {CODE_F[9:]}　".lower()),
        ]
    )
    result = read(data)
    assert result.problems == []
    first, second = result.rows
    assert first["name"] == "江岸甲网络科技有限公司"
    assert first["credit_code"] == CODE_B
    assert (first["tags"], first["operating_status"], first["party_org_status"]) == (
        ["internet"],
        "normal",
        "joint",
    )
    assert (first["employees"], first["formal_members"], first["probationary_members"]) == (
        12,
        1,
        0,
    )
    assert first["investor_is_member"] is True
    assert (first["area_name"], first["district_name"]) == ("二七街道", "江岸区")
    assert second["credit_code"] == CODE_F


def test_a_wrong_check_character_is_named():
    data = ledger_xlsx([enterprise("甲公司", CODE_WRONG_CHECK)])
    result = read(data)
    assert problems(result) == [
        f"{E}第3行B列「统一社会信用代码」：校验位错误（{CODE_WRONG_CHECK}）"
    ]
    assert result.rows == []


# CODE_A (91… check 8) with a letter for the registration authority, which GB 32100 allows
# (Y 其他, N 农业: 农村集体经济组织 are N1/N2/N3). Worked out from CODE_A's sum S ≡ 23 (mod 31):
# Y1 adds (30 - 9)·1 = 21, S ≡ 13, check 31 - 13 = 18 = J; N2 adds (22 - 9)·1 + (2 - 1)·3 = 16,
# S ≡ 8, check 23 = P. python-stdnum's cn.uscc refuses both (it wants digits in positions
# 1-8), which is why the check stays ours (campaign/ledger/creditcode.py).
LETTER_AUTHORITY_CODES = ("Y1420102000079193J", "N2420102000079193P")


def test_a_code_whose_registration_authority_is_a_letter_is_read():
    data = ledger_xlsx([enterprise("甲合作社", c) for c in LETTER_AUTHORITY_CODES])
    result = read(data)
    assert problems(result) == []
    assert codes(result) == list(LETTER_AUTHORITY_CODES)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91420102000079193", "应为18位，实为17位（91420102000079193）"),
        ("91420102000079193O", "含有不允许的字符“O”（91420102000079193O）"),
        (None, "不能为空"),
    ],
    ids=["17-chars", "letter-O", "blank"],
)
def test_a_malformed_credit_code_is_named(code, message):
    result = read(ledger_xlsx([enterprise("甲公司", code)]))
    assert problems(result) == [f"{E}第3行B列「统一社会信用代码」：{message}"]
    assert result.rows == []


def test_a_credit_code_twice_in_the_file_names_both_rows():
    data = ledger_xlsx(
        [
            enterprise("甲公司", CODE_A),
            enterprise("乙公司", CODE_B),
            enterprise("甲公司分部", CODE_A),
        ]
    )
    assert problems(read(data)) == [
        f"{E}第5行B列「统一社会信用代码」：{CODE_A} 在本文件中重复（另见{E}第3行）"
    ]


def test_a_code_in_both_sheets_is_a_duplicate_too():
    data = ledger_xlsx([enterprise("甲公司", CODE_S)], [social("甲协会", CODE_S)])
    assert problems(read(data)) == [
        f"{S}第3行B列「统一社会信用代码」：{CODE_S} 在本文件中重复（另见{E}第3行）"
    ]


def test_more_formal_members_than_employees_is_refused():
    data = ledger_xlsx([enterprise("甲公司", CODE_A, 从业人员数=2, 正式党员数=3)])
    result = read(data)
    assert problems(result) == [f"{E}第3行H列「正式党员数」：正式党员数（3）多于从业人员数（2）"]
    assert result.rows == []


def test_every_problem_of_a_file_is_listed_at_once():
    data = ledger_xlsx(
        [
            enterprise("甲公司", CODE_WRONG_CHECK, 从业人员数=-1),
            enterprise("", CODE_B, 经营状态="破产"),
        ]
    )
    assert problems(read(data)) == [
        f"{E}第3行B列「统一社会信用代码」：校验位错误（{CODE_WRONG_CHECK}）",
        f"{E}第3行G列「从业人员数」：不能为负数（-1）",
        f"{E}第4行A列「企业名称」：不能为空",
        f"{E}第4行F列「经营状态」：“破产”不是可选值（可选：正常、空壳、僵尸、影子、停业）",
    ]


def test_the_same_bad_value_in_many_rows_is_named_at_every_row_in_sheet_order():
    # Cells are checked a column at a time, each distinct value once: every cell holding a bad
    # value is still named, and the list reads row by row, left to right, blank rows skipped.
    data = ledger_xlsx(
        [
            enterprise("甲公司", CODE_A, 经营状态="破产"),
            {},  # a blank line between rows
            enterprise("乙公司", CODE_B, 从业人员数="十二", 经营状态="破产"),
            enterprise("丙公司", CODE_C, 从业人员数="十二"),
        ]
    )
    result = read(data)
    bad_status = "“破产”不是可选值（可选：正常、空壳、僵尸、影子、停业）"
    assert problems(result) == [
        f"{E}第3行F列「经营状态」：{bad_status}",
        f"{E}第5行F列「经营状态」：{bad_status}",
        f"{E}第5行G列「从业人员数」：应为整数，而不是“十二”",
        f"{E}第6行G列「从业人员数」：应为整数，而不是“十二”",
    ]
    assert result.rows == []


def test_a_true_cell_among_ones_is_not_read_as_one():
    # TRUE equals 1 in Python (and hashes alike): a per-value check must not merge them.
    data = ledger_xlsx(
        [
            enterprise("甲公司", CODE_A, 从业人员数=1, 预备党员数=1),
            enterprise("乙公司", CODE_B, 从业人员数=True),
            enterprise("丙公司", CODE_C, 预备党员数=True, 出资人是否党员=1),
        ]
    )
    result = read(data)
    assert problems(result) == [
        f"{E}第4行G列「从业人员数」：应为整数，而不是“True”",
        f"{E}第5行I列「预备党员数」：应为整数，而不是“True”",
        f"{E}第5行K列「出资人是否党员」：应填“是”或“否”，而不是“1”",
    ]
    assert [(r["employees"], r["probationary_members"]) for r in result.rows] == [(1, 1)]


def test_a_street_of_another_district_is_refused_with_a_suggestion():
    data = ledger_xlsx([enterprise("甲公司", CODE_A, **{"街道（乡镇）/园区": "二七街"})])
    assert problems(read(data)) == [
        f"{E}第3行D列「街道（乡镇）/园区」：“二七街”不是江岸区的街道（乡镇）/园区（是否应为“二七街道”？）"
    ]


# ---- formulas ------------------------------------------------------------------------------


def test_a_formula_without_a_cached_value_is_refused():
    # openpyxl stores the formula only: no program ever computed it.
    data = ledger_xlsx([enterprise("丙公司", CODE_C, 从业人员数="=10+5")])
    result = read(data)
    assert problems(result) == [f"{E}第3行G列「从业人员数」：是公式但没有计算结果，请改为填写数值"]
    assert result.rows == []


def test_a_formula_saved_by_libreoffice_uses_its_value_with_a_notice(lo_files):
    with zipfile.ZipFile(io.BytesIO(lo_files.formula_lo)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f" in sheet and "10+5" in sheet  # still a formula, with LibreOffice's result
    result = read(lo_files.formula_lo)
    assert result.problems == []
    assert [r["employees"] for r in result.rows] == [15]
    assert result.notices == [f"{E}第3行G列「从业人员数」：是公式，已使用其计算结果“15”"]


def test_a_file_saved_by_libreoffice_reads_like_the_original(lo_files):
    original, resaved = read(lo_files.sample), read(lo_files.sample_lo)
    assert original.problems == [] and resaved.problems == [] and resaved.notices == []
    assert resaved.rows == original.rows
    by_code = {r["credit_code"]: r for r in resaved.rows}
    assert by_code[CODE_A]["planned_on"] == date(2026, 10, 31)
    assert by_code[CODE_A]["instructor"] == "刘指导"
    assert by_code[CODE_B]["area_name"] == "后湖街道"
    assert by_code[CODE_S]["party_org_founded_on"] == date(2026, 9, 1)
    assert (by_code[CODE_S]["registration_level"], by_code[CODE_S]["supervising_unit"]) == (
        "city",
        "市司法局",
    )


# ---- files that are not an xlsx ----------------------------------------------------------


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """A zip with xl/workbook.xml and a 300 MB member of zeros (about 0.3 MB packed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(300):
                member.write(chunk)
    return buffer.getvalue()


def _refusal(data: bytes) -> str:
    with pytest.raises(excel.FileRefused) as checked:
        excel.check_file(data)
    with pytest.raises(excel.FileRefused) as read_whole:
        read(data)
    assert str(read_whole.value) == str(checked.value)
    return str(checked.value)


def test_an_old_xls_file_is_refused(lo_files):
    assert lo_files.xls[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # LibreOffice wrote BIFF8
    assert (
        _refusal(lo_files.xls)
        == "这是旧版 Excel（.xls）文件，请在 Excel 或 WPS 中另存为 .xlsx 后再上传"
    )


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_a_csv_renamed_xlsx_is_refused_as_csv(encoding):
    text = "企业名称,统一社会信用代码,从业人员数\r\n甲公司,914201020000791938,12\r\n"
    assert (
        _refusal(text.encode(encoding))
        == "这不是 xlsx 文件（内容是 CSV 文本），请用模板填写后保存为 .xlsx"
    )


def test_a_long_utf8_csv_is_refused_as_csv():
    # 200 rows of Chinese text; a note in the first line shifts where byte 2048 falls so that
    # it splits a three-byte character, as it does for two files in three.
    for note in ("", "x", "xx"):
        lines = [f"企业名称,统一社会信用代码,从业人员数{note}"]
        lines += [f"江岸{i}号网络科技有限公司,914201020000791938,{i}" for i in range(200)]
        data = "\r\n".join(lines).encode("utf-8")
        try:
            data[:2048].decode("utf-8")
        except UnicodeDecodeError:
            break
    else:
        raise AssertionError("no variant splits a character at byte 2048")
    assert "CSV" in _refusal(data)


def test_a_password_protected_xlsx_is_refused():
    assert "密码" in _refusal(encrypted_xlsx())


def test_a_truncated_xlsx_is_refused(lo_files):
    half = lo_files.sample_lo[: len(lo_files.sample_lo) // 2]
    assert _refusal(half) == "文件不完整或已损坏，无法打开，请重新保存后上传"


def test_a_zip_bomb_is_refused_by_its_declared_size_without_unpacking(zip_bomb):
    assert len(zip_bomb) < 2 * 1024 * 1024
    started = time.perf_counter()
    message = _refusal(zip_bomb)
    assert time.perf_counter() - started < 0.5  # 300 MB were not inflated
    assert message == "文件解压后过大（300 MB），可能是压缩炸弹，已拒绝"


def test_a_file_over_20_mb_is_refused_by_size():
    data = b"PK\x03\x04" + os.urandom(21 * 1024 * 1024)
    assert _refusal(data) == "文件过大（21.0 MB），上限为20 MB"


def test_an_empty_file_is_refused():
    assert _refusal(b"") == "文件为空"


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("word/document.xml", "<document/>")
    assert "缺少 xl/workbook.xml" in _refusal(buffer.getvalue())
