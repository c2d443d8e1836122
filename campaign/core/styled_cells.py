"""openpyxl's write-only cells for the sheets Gongjian exports with openpyxl (the ledger's
附表, the units and the accounts): text that stays text (never a live formula), headers in
the look every export shares (``campaign.core.cells``).

Not imported by the bulletin's attachment worker, which writes with XlsxWriter and keeps its
imports light (``campaign.core.cells``).
"""

from collections.abc import Iterable
from typing import Any

from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from campaign.core.cells import HEADER_FILL, RULE_COLOR, for_cell

_FORMULA_STARTS = ("=", "+", "-", "@")
THIN = Side(style="thin", color=RULE_COLOR)
_HEADER_STYLE = dict(
    font=Font(bold=True),
    fill=PatternFill("solid", fgColor=HEADER_FILL),
    alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
    border=Border(left=THIN, right=THIN, top=THIN, bottom=THIN),
)


def safe_value(ws: WriteOnlyWorksheet, value: Any) -> Any:
    """A value for a write-only sheet: text as a cell can hold it, whatever is stored
    (``for_cell``), and text like "=HYPERLINK(...)" stays text, never a live formula in
    an export."""
    if isinstance(value, str):
        value = for_cell(value)
        if value[:1] in _FORMULA_STARTS:
            cell = WriteOnlyCell(ws, value=value)
            cell.data_type = "s"
            return cell
    return value


def header_cells(ws: WriteOnlyWorksheet, headers: Iterable[str]) -> list[Cell]:
    """A styled header row for a write-only sheet."""
    cells: list[Cell] = []
    for header in headers:
        cell = WriteOnlyCell(ws, value=for_cell(header))
        for key, value in _HEADER_STYLE.items():
            setattr(cell, key, value)
        cells.append(cell)
    return cells
