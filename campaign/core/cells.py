"""Text for the cells of the xlsx files Gongjian writes (what XML cannot hold dropped, no
longer than a cell holds), and the headers' look every export shares.

Light on purpose (``re`` alone, nothing of the app, not even openpyxl): the bulletin's
attachment worker (``python -m reports.attachment``) imports it in a fresh interpreter, where
importing SQLAlchemy and the models, or openpyxl (0.13 s), for a few helpers cost more than
a good part of a city's rows.
``campaign.core.text`` (the rules for text from outside), ``campaign.core.styled_cells``
(the cells of the sheets written with openpyxl: the ledger's, the units', the accounts') and
the bulletin's attachment (written with XlsxWriter) use these definitions.
"""

import re

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
    """Text for an xlsx cell written by openpyxl, whatever is stored: without what XML
    cannot hold, an ``_xHHHH_`` in it kept as text (written ``_x005F_xHHHH_``, OOXML's
    escaped underscore) rather than read back as a character, and no longer than a cell
    holds."""
    value = cell_text(value)
    if "_x" in value:
        value = ESCAPE.sub(r"_x005F_x\1_", value)
    return value if len(value) <= MAX_CELL else value[:MAX_CELL]


def cell_text(value: str) -> str:
    """Text for an xlsx cell written by XlsxWriter (which escapes ``_xHHHH_`` itself):
    without the characters ``clean`` refuses, no longer than a cell holds."""
    if CONTROL.search(value):
        value = printable(value)
    return value if len(value) <= MAX_CELL else value[:MAX_CELL]


# The headers' look in every xlsx Gongjian writes: bold on a light fill, centred, wrapped, in
# thin grey rules (openpyxl's styles in campaign.core.styled_cells, XlsxWriter's format below).
HEADER_FILL, RULE_COLOR = "F0EFE9", "999999"
HEADER_FORMAT = {
    "bold": True,
    "bg_color": f"#{HEADER_FILL}",
    "align": "center",
    "valign": "vcenter",
    "text_wrap": True,
    "border": 1,
    "border_color": f"#{RULE_COLOR}",
}
