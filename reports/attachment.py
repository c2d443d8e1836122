"""The bulletin's xlsx attachment: the long lists a leader does not read in the PDF.

The 各单位情况 sheet comes from the snapshot; the lists (本期销号, 逾期事项) come as rows
from ``snapshot.lists`` and are streamed into a write-only workbook, never held whole.
"""

import io
from collections.abc import Iterable, Mapping

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from campaign.core.text import for_cell
from campaign.ledger.excel import header_cells, safe_value

UNITS = (
    "各单位情况",
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
)
# The lists: (title, key in snapshot.lists, [(header, width)]), rows in the headers' order.
LISTS = (
    (
        "本期销号",
        "closures",
        [
            ("单位", 14),
            ("组织名称", 36),
            ("统一社会信用代码", 22),
            ("销号方式", 18),
            ("党组织名称", 30),
            ("成立日期", 12),
            ("核验时间", 20),
        ],
    ),
    (
        "逾期事项",
        "overdue_items",
        [
            ("单位", 14),
            ("组织名称", 36),
            ("统一社会信用代码", 22),
            ("攻坚目标", 14),
            ("状态", 10),
            ("计划完成时间", 14),
            ("责任人", 12),
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


def _sheet(wb: Workbook, snapshot: dict, title: str, columns: list[tuple[str, int]]):
    ws = wb.create_sheet(title)
    for i, (_, width) in enumerate(columns):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    caption = WriteOnlyCell(ws, value=for_cell(f"{snapshot['title']}——{title}"))
    caption.font = Font(bold=True, size=12)
    ws.append([caption])
    ws.append(header_cells(ws, (header for header, _ in columns)))
    return ws


# The lists' progress is reported every this many rows.
PROGRESS_EVERY = 5000


def write(snapshot: dict, lists: Mapping[str, Iterable[tuple]], progress=None) -> bytes:
    """The attachment's bytes: the units from the snapshot, the lists' rows as they come.

    ``progress(done, total)`` hears every ``PROGRESS_EVERY`` rows of the lists, ``total``
    being what the snapshot counted (a city's lists run to a hundred thousand rows).
    """
    total = snapshot["overall"]["closures_verified"] + snapshot["overall"]["overdue_items"]
    done = 0
    wb = Workbook(write_only=True)
    title, columns = UNITS
    ws = _sheet(wb, snapshot, title, [(header, width) for header, _, width in columns])
    for unit in snapshot["units"]:
        ws.append(
            [_cell(ws, header, f(unit) if callable(f) else unit.get(f)) for header, f, _ in columns]
        )
    for title, key, headers in LISTS:
        ws = _sheet(wb, snapshot, title, headers)
        for row in lists[key]:
            ws.append([safe_value(ws, value) for value in row])
            done += 1
            if progress and done % PROGRESS_EVERY == 0:
                progress(done, max(total, done))
    quality_sheet(wb, snapshot, lists.get("quality", ()))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# The 数据质量线索 sheet: every row a signal names (campaign/quality), not judged 已核实无误.
QUALITY = (
    "数据质量线索",
    [
        ("单位", 14),
        ("线索代码", 24),
        ("线索", 40),
        ("核实状态", 10),
        ("组织名称", 36),
        ("统一社会信用代码", 22),
        ("情况", 36),
    ],
)


def quality_sheet(wb: Workbook, snapshot: dict, rows: Iterable[tuple]) -> None:
    """The signals' rows as their sheet (leads to check, not findings)."""
    title, columns = QUALITY
    ws = _sheet(wb, snapshot, title, columns)
    for row in rows:
        ws.append([safe_value(ws, value) for value in row])
