"""The bulletin's xlsx attachment: the long lists a leader does not read in the PDF.

The 各单位情况 sheet comes from the snapshot; the lists (本期销号, 逾期事项) come as rows
from ``snapshot.lists`` and are streamed into a write-only workbook, never held whole.

Each sheet is what an office worker expects to open and print: the caption and the header
stay in view (frozen) and carry filters; dates and times are Excel dates in the campaign's
zone (the lists give local times), rates are percentages; columns are wide enough to read;
it prints on landscape A4, one page wide, the caption and header repeated on every page.
"""

import io
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from campaign.core.text import for_cell
from campaign.ledger.excel import header_cells, safe_value

# How a column's values are written: its number format, or None for text and counts.
TEXT, COUNT, RATE, DAY, MOMENT = "text", "count", "rate", "day", "moment"
FORMATS = {RATE: "0.0%", DAY: "yyyy-mm-dd", MOMENT: "yyyy-mm-dd hh:mm"}

UNITS: tuple[str, list[tuple[str, str | Callable[[dict], Any], int, str]]] = (
    "各单位情况",
    [
        ("排名", "rank", 6, COUNT),
        ("单位", "name", 16, TEXT),
        ("党建基数", lambda u: u["counts"]["base"], 10, COUNT),
        ("已建党组织", lambda u: u["counts"]["with_party_org"], 11, COUNT),
        ("本期新建", "new_party_orgs", 10, COUNT),
        ("党组织覆盖率", lambda u: _rate(u["party_org_coverage"]), 13, RATE),
        ("上期覆盖率", lambda u: _rate(u["previous_coverage"]), 12, RATE),
        ("工作覆盖率", lambda u: _rate(u["work_coverage"]), 12, RATE),
        ("应建尽建率", lambda u: _rate(u["required_coverage"]), 12, RATE),
        ("逾期事项", "overdue_items", 10, COUNT),
        ("距目标还需组建", "gap", 15, COUNT),
    ],
)
# The lists: (title, key in snapshot.lists, [(header, width, kind)]), rows in the headers' order.
LISTS = (
    (
        "本期销号",
        "closures",
        [
            ("单位", 14, TEXT),
            ("组织名称", 36, TEXT),
            ("统一社会信用代码", 22, TEXT),
            ("销号方式", 18, TEXT),
            ("党组织名称", 30, TEXT),
            ("成立日期", 12, DAY),
            ("核验时间", 17, MOMENT),
        ],
    ),
    (
        "逾期事项",
        "overdue_items",
        [
            ("单位", 14, TEXT),
            ("组织名称", 36, TEXT),
            ("统一社会信用代码", 22, TEXT),
            ("攻坚目标", 14, TEXT),
            ("状态", 10, TEXT),
            ("计划完成时间", 14, DAY),
            ("责任人", 12, TEXT),
        ],
    ),
)
# Rows above the data: the caption (the bulletin's title and the sheet's) and the header.
HEAD_ROWS = 2
# Characters a file name may not carry on the systems that save it.
_NOT_IN_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def filename(campaign_name: str, number: int) -> str:
    """The name the attachment downloads as: "<campaign>-第N期-附件.xlsx"."""
    name = _NOT_IN_NAMES.sub("_", campaign_name).strip(" ._") or "通报"
    return f"{name}-第{number}期-附件.xlsx"


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _local(value: Any) -> Any:
    # Excel has no time zones: a time is written as the wall clock the list gives it in.
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


class _Row:
    """One row's cells for a sheet's columns: text made safe, dates and rates as styled
    cells. The styled cells are made once per sheet and refilled for each row: a write-only
    sheet serialises a row as it is appended, so the next row may reuse them."""

    def __init__(self, ws: WriteOnlyWorksheet, kinds: list[str]) -> None:
        self.ws = ws
        self.styled: list[Cell | None] = []
        for kind in kinds:
            cell = None
            if kind in FORMATS:
                cell = WriteOnlyCell(ws)
                cell.number_format = FORMATS[kind]
            self.styled.append(cell)

    def __call__(self, values: Iterable[Any]) -> list[Any]:
        out: list[Any] = []
        for value, cell in zip(values, self.styled, strict=True):
            if value is None:
                out.append(None)
            elif cell is not None and isinstance(value, (date, float, int)):
                cell.value = _local(value)
                out.append(cell)
            else:
                out.append(safe_value(self.ws, value))
        return out


def _sheet(
    wb: Workbook, snapshot: dict, title: str, columns: list[tuple[str, int, str]]
) -> tuple[WriteOnlyWorksheet, _Row]:
    ws = wb.create_sheet(title)
    for i, (_, width, _) in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    # Kept in view while scrolling, and on every printed page.
    ws.freeze_panes = f"A{HEAD_ROWS + 1}"
    ws.print_title_rows = f"1:{HEAD_ROWS}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0  # one page wide, as long as it runs
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    _filter_to(ws, len(columns), 0)  # widened to the rows once they are written
    caption = WriteOnlyCell(ws, value=for_cell(f"{snapshot['title']}——{title}"))
    caption.font = Font(bold=True, size=12)
    ws.append([caption])
    ws.append(header_cells(ws, (header for header, _, _ in columns)))
    return ws, _Row(ws, [kind for _, _, kind in columns])


def _filter_to(ws: WriteOnlyWorksheet, columns: int, rows: int) -> None:
    """The filters cover the header and the ``rows`` rows below it (written last, after them)."""
    # A write-only sheet has the standard sheet's filter (Worksheet._setup), unlike its stubs.
    ws.auto_filter.ref = f"A{HEAD_ROWS}:{get_column_letter(columns)}{HEAD_ROWS + rows}"  # type: ignore[attr-defined]


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
    title, unit_columns = UNITS
    ws, row = _sheet(wb, snapshot, title, [(h, width, kind) for h, _, width, kind in unit_columns])
    for unit in snapshot["units"]:
        ws.append(row(f(unit) if callable(f) else unit.get(f) for _, f, _, _ in unit_columns))
    _filter_to(ws, len(unit_columns), len(snapshot["units"]))
    for title, key, columns in LISTS:
        ws, row = _sheet(wb, snapshot, title, columns)
        written = 0
        for values in lists[key]:
            ws.append(row(values))
            written += 1
            done += 1
            if progress and done % PROGRESS_EVERY == 0:
                progress(done, max(total, done))
        _filter_to(ws, len(columns), written)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
