"""The bulletin's tables with their column widths set from their text (``table-layout: fixed``).

Left to size its columns itself (CSS automatic table layout), WeasyPrint shapes the text of
every cell two more times to find its narrowest and widest setting: that was about 7 % of the
demo's render (28 ms of 0.38 s, measured here with the same HTML; bench/bulletin.py). The
widths are worked out here instead, the way the automatic layout does it (CSS 2.1 §17.5.2.2),
from each cell's text and how wide its characters set, and written into the HTML as a
``<colgroup>`` in percentages: the PDF looks the same (looked at page by page with pdftoppm),
the archived HTML holds the widths, and ``bulletin verify`` renders it again as it is.

The tables are the template's own (reports/bulletin.html and its parts): written ``<table>``,
rows of ``<th>``/``<td>`` cells, lines broken with ``<br>``, a unit's name in a ``td.name``
(kept on one line). A table with merged cells is left to the automatic layout.
"""

import html
import re
import unicodedata

# From the template's style sheet: the text block is 156 mm wide; table text is 10.5 pt; a
# cell has 3 pt of padding on either side and a 0.75 pt rule between it and the next.
TEXT_BLOCK = 156 / 25.4 * 72  # pt
FONT_SIZE = 10.5
CELL_EXTRA = 2 * 3 + 0.75
# A line kept whole (a unit's name) may set a little wider than its estimate (a Latin letter
# is counted as a little over half an em): it is given half an em more room.
SLACK = 0.5 * FONT_SIZE

_TABLE = re.compile(r"<table>(.*?)</table>", re.S)
_ROW = re.compile(r"<tr\b[^>]*>(.*?)</tr>", re.S)
_CELL = re.compile(r"<t[hd]\b([^>]*)>(.*?)</t[hd]>", re.S)
_BREAK = re.compile(r"<br\s*/?>")
_TAG = re.compile(r"<[^>]+>")
_MERGED = re.compile(r"\b(colspan|rowspan)=")
_KEPT_WHOLE = re.compile(r'\bclass="[^"]*\bname\b')
# Where a line may break: around each CJK character (punctuation stays with it: a line
# neither starts with "）" nor ends with "（"), never inside a run of the rest ("100.0%").
_UNBROKEN = re.compile(r"[（“《〔]?[\u3400-\u9fff][）”》〕，。、；：]?|[^\s\u3400-\u9fff]+")


def em(ch: str) -> float:
    """How wide ``ch`` sets, in ems: CJK and other full-width (and ambiguous: ↑, —, ％)
    characters one em, the rest (digits, Latin, %) a little over half of one."""
    return 1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.56


def _lines(cell: str) -> list[str]:
    return [html.unescape(_TAG.sub("", line)).strip() for line in _BREAK.split(cell)]


def _set(text: str) -> float:
    return sum(em(ch) for ch in text) * FONT_SIZE


def widths(rows: list[list[tuple[str, bool]]], room: float = TEXT_BLOCK) -> list[float]:
    """The columns' widths in pt for ``rows`` of (cell HTML, kept on one line) cells, sharing
    ``room`` as the automatic layout would: each column's widest setting (its longest line)
    when they all fit, spread out in proportion; otherwise between the narrowest (its longest
    piece that cannot break, or the whole line kept whole) and the widest, in the same
    proportion for all."""
    narrowest: list[float] = []
    widest: list[float] = []
    for row in rows:
        for i, (cell, whole) in enumerate(row):
            lines = _lines(cell)
            most = max(_set(line) for line in lines) + CELL_EXTRA
            pieces = [piece for line in lines for piece in _UNBROKEN.findall(line)]
            least = most + SLACK if whole else max(map(_set, pieces), default=0) + CELL_EXTRA
            if i == len(widest):
                narrowest.append(0.0)
                widest.append(0.0)
            narrowest[i] = max(narrowest[i], least)
            widest[i] = max(widest[i], most, least)
    least, most = sum(narrowest), sum(widest)
    if most <= room:
        return [w * room / most for w in widest]
    if least < room:
        share = (room - least) / (most - least)
        return [a + (b - a) * share for a, b in zip(narrowest, widest, strict=True)]
    return narrowest  # wider than the page either way, as the automatic layout would be


def fixed(document: str) -> str:
    """``document`` with each of its tables given its column widths (see the module)."""
    return _TABLE.sub(_fixed_table, document)


def _fixed_table(match: re.Match[str]) -> str:
    body = match.group(1)
    rows = [
        [(cell, bool(_KEPT_WHOLE.search(attrs))) for attrs, cell in _CELL.findall(row)]
        for row in _ROW.findall(body)
    ]
    if not rows or _MERGED.search(body) or len({len(row) for row in rows}) != 1:
        return match.group(0)
    columns = widths(rows)
    total = sum(columns)
    cols = "".join(f'<col style="width: {w * 100 / total:.2f}%">' for w in columns)
    return f'<table style="table-layout: fixed"><colgroup>{cols}</colgroup>{body}</table>'
