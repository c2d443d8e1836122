"""Text and header cells for the xlsx files Gongjian writes: what XML cannot hold dropped,
text that looks like a formula kept text, headers styled alike in every export.

Light on purpose (``re`` and openpyxl, nothing of the app): the bulletin's attachment worker
(``python -m reports.attachment``) imports it in a fresh interpreter, where importing
SQLAlchemy and the models for three helpers cost more than writing a city's rows.
``campaign.core.text`` (the rules for text from outside) and ``campaign.ledger.excel`` (the
ledger's sheets) use these definitions.
"""

import re
from collections.abc import Iterable
from typing import Any

from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

# What ``campaign.core.text.clean`` refuses: C0 controls but tab, LF and CR; DEL; C1 controls;
# U+FFFE, U+FFFF; lone surrogates.
REFUSED = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff"
CONTROL = re.compile(f"[{REFUSED}]")
# OOXML writes a character as _xHHHH_ (Excel, openpyxl and calamine decode it on reading).
ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")
MAX_CELL = 32_767  # the most characters an xlsx cell holds


def printable(value: str) -> str:
    """``value`` without the characters ``clean`` refuses (for text already stored)."""
    return CONTROL.sub("", value)


def for_cell(value: str) -> str:
    """Text for an xlsx cell, whatever is stored: without what XML cannot hold, an
    ``_xHHHH_`` in it kept as text (written ``_x005F_xHHHH_``, OOXML's escaped underscore)
    rather than read back as a character, and no longer than a cell holds."""
    if CONTROL.search(value):
        value = printable(value)
    if "_x" in value:
        value = ESCAPE.sub(r"_x005F_x\1_", value)
    return value if len(value) <= MAX_CELL else value[:MAX_CELL]


_FORMULA_STARTS = ("=", "+", "-", "@")
THIN = Side(style="thin", color="999999")
_HEADER_STYLE = dict(
    font=Font(bold=True),
    fill=PatternFill("solid", fgColor="F0EFE9"),
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
