"""A small city for issue 17's journeys (the browser's and the API's): a tree of units as an
xlsx's rows, and 东湖区's first ledger, filled into the template as a district would."""

from pathlib import Path

import openpyxl

from campaign.ledger.creditcode import check_character

UNITS = [
    ("代码", "名称", "类型", "上级代码", "排序", "责任单位"),
    ("donghu", "东湖区", "区", "city", 1, "是"),
    ("xihu", "西湖区", "区", "city", 2, "是"),
    ("nanhu", "南湖区", "区", "city", 3, "是"),
    ("dh-a", "东湖一街道", "街道", "donghu", 1, ""),
    ("dh-b", "东湖二街道", "街道", "donghu", 2, ""),
    ("xh-a", "西湖一街道", "街道", "xihu", 1, ""),
    ("xh-b", "西湖二街道", "街道", "xihu", 2, ""),
    ("nh-a", "南湖一街道", "街道", "nanhu", 1, ""),
    ("nh-b", "南湖二街道", "街道", "nanhu", 2, ""),
    ("mzj", "市民政局", "市直部门", "city", 4, "是"),
    ("gsj", "市工商局", "市直部门", "city", 5, "否"),
]


def credit(serial: str, prefix: str = "91330100MA2") -> str:
    code = prefix + serial
    return code + check_character(code)


# 东湖区's ledger, by hand: five organizations, all operating normally, so all five are in
# the base; 甲 (单独组建), 丁 (联合组建) and the school 戊 (单独组建) have a Party organization:
# 已建党组织 3, 党组织覆盖率 3/5 = 60.0%, 单独组建率 2/3 = 66.7%.
ENTERPRISES = [
    # 企业名称, 信用代码, 街道, 企业类别, 从业人员, 正式党员, 预备党员, 党组织状态, 党组织名称
    ("东湖甲科技有限公司", credit("A00001"), "东湖一街道", "互联网", 120, 5, 0, "单独组建"),
    ("东湖乙商贸有限公司", credit("A00002"), "东湖一街道", "其他", 60, 1, 0, "未建"),
    ("东湖丙餐饮有限公司", credit("A00003"), "东湖二街道", "其他", 8, 0, 0, "未建"),
    ("东湖丁物流有限公司", credit("A00004"), "东湖二街道", "其他", 30, 2, 0, "联合组建"),
]
SCHOOL = (
    "东湖戊培训学校",
    credit("000050", "52330100MJ0"),
    "东湖一街道",
    "民办学校",
    40,
    3,
    0,
    "单独组建",
)


def fill_ledger(template: Path, out: Path) -> Path:
    """The blank template filled as a district would, each value under its column's header."""
    wb = openpyxl.load_workbook(template)

    def put(sheet: str, rows: list[dict[str, object]]) -> None:
        ws = wb[sheet]
        headers = [str(c.value or "").rstrip("*") for c in ws[2]]
        for i, values in enumerate(rows, start=3):
            for header, value in values.items():
                ws.cell(row=i, column=headers.index(header) + 1, value=value)

    def row(name, code, street, category, employees, formal, probationary, status, **more):
        has_org = status != "未建"
        return {
            "统一社会信用代码": code,
            "所在区": "东湖区",
            "街道（乡镇）/园区": street,
            "经营状态": "正常",
            "从业人员数": employees,
            "正式党员数": formal,
            "预备党员数": probationary,
            "党组织状态": status,
            "党组织名称": f"中共{name}支部委员会" if has_org else None,
            "党组织成立时间": "2027-04-20" if has_org else None,
            "未建原因": None if has_org else "正在培养发展党员",
            **more,
        }

    put(
        "附表1 非公企业",
        [{"企业名称": e[0], "企业类别": e[3], **row(*e)} for e in ENTERPRISES],
    )
    put(
        "附表2 社会组织",
        [{"社会组织名称": SCHOOL[0], "类别": SCHOOL[3], "登记层级": "区级及以下", **row(*SCHOOL)}],
    )
    wb.save(out)
    return out
