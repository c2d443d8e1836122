"""The bulletin's xlsx attachment: the long lists a leader does not read in the PDF."""

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from campaign.ledger.excel import header_cells, safe_value

SHEETS = (
    (
        "各单位情况",
        "units",
        [
            ("排名", "rank", 6),
            ("单位", "name", 16),
            ("党建基数", lambda u: u["counts"]["base"], 10),
            ("已建党组织", lambda u: u["counts"]["with_party_org"], 10),
            ("本期新建", "new_party_orgs", 10),
            ("党组织覆盖率", lambda u: _rate(u["party_org_coverage"]), 12),
            ("上期覆盖率", lambda u: _rate(u["previous_coverage"]), 12),
            ("工作覆盖率", lambda u: _rate(u["work_coverage"]), 12),
            ("应建尽建率", lambda u: _rate(u["required_coverage"]), 12),
            ("逾期事项", "overdue_items", 10),
            ("距目标还需组建", "gap", 14),
        ],
    ),
    (
        "本期销号",
        "closures",
        [
            ("单位", "unit", 14),
            ("组织名称", "organization", 36),
            ("统一社会信用代码", "credit_code", 22),
            ("销号方式", "method", 18),
            ("党组织名称", "party_org_name", 30),
            ("成立日期", "established_on", 12),
            ("核验时间", "verified_at", 20),
        ],
    ),
    (
        "逾期事项",
        "overdue_items",
        [
            ("单位", "unit", 14),
            ("组织名称", "organization", 36),
            ("统一社会信用代码", "credit_code", 22),
            ("攻坚目标", "target", 14),
            ("状态", "state", 10),
            ("计划完成时间", "planned_on", 14),
            ("责任人", "responsible_person", 12),
        ],
    ),
)


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _cell(ws, header: str, value):
    if header.endswith("率") and value is not None:
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "0.0%"
        return cell
    return safe_value(ws, value)


def write(snapshot: dict) -> bytes:
    """The attachment's bytes, from the snapshot alone."""
    wb = Workbook(write_only=True)
    for title, key, columns in SHEETS:
        ws = wb.create_sheet(title)
        for i, (_, _, width) in enumerate(columns):
            ws.column_dimensions[chr(ord("A") + i)].width = width
        caption = WriteOnlyCell(ws, value=f"{snapshot['title']}——{title}")
        caption.font = Font(bold=True, size=12)
        ws.append([caption])
        ws.append(header_cells(ws, (c[0] for c in columns)))
        for row in snapshot[key]:
            ws.append(
                [
                    _cell(ws, header, f(row) if callable(f) else row.get(f))
                    for header, f, _ in columns
                ]
            )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
