"""Seed 004 phases 5 and 6 in the 附表: the Party org's 隶属关系 and whether it is put right
(理顺), and the 第一书记 or 党建工作指导员 sent to a new Party org. Optional columns at the end of
both sheets (附表1 U-AA, 附表2 X-AD): read, checked with the sheet, row and column named, and an
older file without them still read. No database here (the import flow is in
test_import_flow.py). Today is 2026-11-15.
"""

from datetime import date

import pytest

from campaign import display
from campaign.ledger import excel
from tests.timeutil import at

from .conftest import (
    CODE_A,
    CODE_B,
    CODE_S,
    CTX,
    ENTERPRISE_HEADERS,
    ENTERPRISE_SHEET,
    PHASE_HEADERS,
    SOCIAL_HEADERS,
    SOCIAL_SHEET,
    E,
    S,
    build_xlsx,
    enterprise,
    social,
)

WITH_ORG = {"党组织状态": "单独组建", "正式党员数": 3, "党组织名称": "中共甲公司支部委员会"}


@pytest.fixture(autouse=True)
def _today():
    with at(2026, 11, 15, 10, 0):
        yield


def read(enterprises=(), socials=()) -> excel.ReadResult:
    return excel.read_workbook(
        build_xlsx(
            {
                ENTERPRISE_SHEET: (ENTERPRISE_HEADERS + PHASE_HEADERS, list(enterprises)),
                SOCIAL_SHEET: (SOCIAL_HEADERS + PHASE_HEADERS, list(socials)),
            }
        ),
        CTX,
    )


def problems(result) -> list[str]:
    return [str(p) for p in result.problems]


def phase(row: dict) -> dict:
    return {f: row[f] for f in excel.ABSENT if f.startswith(("affiliation", "liaison"))}


def test_the_columns_are_read_into_the_ledger_fields():
    result = read(
        [
            enterprise(
                "甲公司",
                CODE_A,
                **WITH_ORG,
                党组织隶属关系="属地",
                隶属关系是否理顺="是",
                隶属关系理顺时间="2026-11-02",
                选派类别="第一书记",
                **{"第一书记（指导员）姓名": "王五", "第一书记（指导员）所在单位": "江岸区商务局"},
                选派时间=date(2026, 10, 20),
            ),
            enterprise("乙公司", CODE_B),  # no Party org, nothing filled in
        ],
        [social("甲协会", CODE_S, **WITH_ORG, 党组织隶属关系="主管部门", 隶属关系是否理顺="否")],
    )
    assert problems(result) == []
    a, b, s = result.rows
    assert phase(a) == {
        "affiliation": "territorial",
        "affiliation_settled": True,
        "affiliation_settled_on": date(2026, 11, 2),
        "liaison_role": "first_secretary",
        "liaison_name": "王五",
        "liaison_unit": "江岸区商务局",
        "liaison_assigned_on": date(2026, 10, 20),
    }
    assert phase(b) == {
        "affiliation": None,
        "affiliation_settled": False,
        "affiliation_settled_on": None,
        "liaison_role": None,
        "liaison_name": "",
        "liaison_unit": "",
        "liaison_assigned_on": None,
    }
    assert (s["affiliation"], s["affiliation_settled"], s["affiliation_settled_on"]) == (
        "department",
        False,
        None,
    )


def test_an_older_file_without_the_columns_reads_as_before():
    data = build_xlsx({ENTERPRISE_SHEET: (ENTERPRISE_HEADERS, [enterprise("甲公司", CODE_A)])})
    result = excel.read_workbook(data, CTX)
    assert problems(result) == []
    assert not [f for f in result.rows[0] if f.startswith(("affiliation", "liaison"))]


def test_hostile_values_are_named_by_sheet_row_and_column():
    long_name = "王" * 500
    rows = [
        # row 3: not one of 属地/行业/主管部门
        enterprise("甲公司", CODE_A, **WITH_ORG, 党组织隶属关系="街道"),
        # row 4: put right on a day still to come
        enterprise(
            "乙公司",
            CODE_B,
            **WITH_ORG,
            党组织隶属关系="属地",
            隶属关系是否理顺="是",
            隶属关系理顺时间="2026-11-16",
        ),
    ]
    socials = [
        # row 3: a name of 500 characters, and a unit with a control character (openpyxl
        # writes `_x0007_` as it is; Excel and calamine read it back as U+0007)
        social(
            "甲协会",
            CODE_S,
            **WITH_ORG,
            选派类别="党建工作指导员",
            **{
                "第一书记（指导员）姓名": long_name,
                "第一书记（指导员）所在单位": "市民_x0007_政局",
            },
        ),
    ]
    assert problems(read(rows, socials)) == [
        f"{E}第3行U列「党组织隶属关系」：“街道”不是可选值（可选：属地、行业、主管部门）",
        f"{E}第4行W列「隶属关系理顺时间」：不能晚于今天（2026-11-16）",
        f"{S}第3行AB列「第一书记（指导员）姓名」：超过80个字（现有500个字）",
        f"{S}第3行AC列「第一书记（指导员）所在单位」：含有不可见的控制字符（U+0007，第3个字），请删除后重新填写",
    ]


def test_the_cells_of_one_row_must_agree_with_one_another_and_its_party_org():
    rows = [
        # row 3: 隶属关系 for an organization without a Party org
        enterprise("甲公司", CODE_A, 党组织隶属关系="属地"),
        # row 4: put right, but whom it reports to and when not said
        enterprise("乙公司", CODE_B, **WITH_ORG, 隶属关系是否理顺="是"),
    ]
    socials = [
        # row 3: a 选派单位 and day without the person's name
        social(
            "甲协会",
            CODE_S,
            **WITH_ORG,
            **{"第一书记（指导员）所在单位": "市民政局"},
            选派时间="2026-10-01",
        ),
    ]
    assert problems(read(rows, socials)) == [
        f"{E}第3行U列「党组织隶属关系」：未建党组织，不能填写隶属关系（隶属关系针对已建立的党组织）",
        f"{E}第4行V列「隶属关系是否理顺」：已理顺的，须填写「党组织隶属关系」",
        f"{E}第4行W列「隶属关系理顺时间」：已理顺的，须填写理顺时间",
        f"{S}第3行AB列「第一书记（指导员）姓名」：填写了选派类别、单位或时间，须填写第一书记（指导员）姓名",
    ]


def test_the_change_record_reads_the_columns_in_plain_chinese():
    changes = {
        "affiliation": [None, "department"],
        "affiliation_settled": [False, True],
        "affiliation_settled_on": [None, "2026-11-02"],
        "liaison_role": [None, "instructor"],
        "liaison_name": ["", "王五"],
    }
    assert display.field_changes(changes) == (
        "党组织隶属关系：（空） → 主管部门；隶属关系是否理顺：否 → 是；"
        "隶属关系理顺时间：（空） → 2026-11-02；选派类别：（空） → 党建工作指导员；"
        "第一书记（指导员）姓名：（空） → 王五"
    )
