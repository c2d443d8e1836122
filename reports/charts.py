"""The bulletin's charts, written directly as small SVG documents (vector, text as text).

Drawn here rather than by matplotlib: each chart is a few dozen shapes and labels, and the
render is what a bulletin costs. matplotlib took 0.2 s of CPU to draw the two charts, its
SVG with text as glyph outlines (a ``<use>`` per character) cost WeasyPrint about a third of
the render, and importing it 26 MB of every process that may produce a bulletin (measured
beside WeasyPrint and openpyxl; bench/bulletin.py, BENCHMARKS.md). The labels are text in the 黑体 face the bulletin's
headings use (fonts.HEI, already embedded in the PDF), so they stay sharp and searchable.

Lengths are in points: a chart is as wide as the text block (156 mm, about 442 pt) at
scale 1, so 9 pt here is 9 pt on paper. The same input gives the same SVG.
"""

from collections.abc import Iterable
from datetime import date
from xml.sax.saxutils import escape, quoteattr

from reports import fonts

RED, BLUE, GREY, GRID = "#c00000", "#1f4e79", "#7f7f7f", "#dddddd"
WIDTH = 446.4  # pt (6.2 in, the width the charts have always had)
FONT_SIZE = 9.0
TICK = 3.5  # tick length, and the gap between a tick and its label
AXIS = 0.8  # line width of the axes and ticks
# A centred label's baseline sits this many of its font sizes below the centre line.
MIDDLE = 0.36


def _n(value: float) -> str:
    """A coordinate as written: two decimals, no trailing zeros (stable output)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def text_width(text: str, size: float) -> float:
    """About how wide ``text`` sets in the 黑体 face: CJK and full-width forms are one em,
    the rest (digits, Latin, %) a little over half of one."""
    return size * sum(1.0 if ord(ch) >= 0x2E80 else 0.56 for ch in text)


class _Svg:
    """The elements of one chart, written out as an SVG document by ``str()``."""

    def __init__(self, height: float) -> None:
        self.height = height
        self.parts: list[str] = []

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        color: str = "#000",
        width: float = AXIS,
        dashed: bool = False,
    ) -> None:
        dash = ' stroke-dasharray="3.7 1.6"' if dashed else ""
        self.parts.append(
            f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
            f'stroke="{color}" stroke-width="{_n(width)}"{dash}/>'
        )

    def rect(self, x: float, y: float, w: float, h: float, color: str) -> None:
        self.parts.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" fill="{color}"/>'
        )

    def polyline(self, points: list[tuple[float, float]], color: str, width: float) -> None:
        coords = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
        self.parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{color}" '
            f'stroke-width="{_n(width)}" stroke-linejoin="round" stroke-linecap="round"/>'
        )

    def dot(self, x: float, y: float, radius: float, color: str) -> None:
        self.parts.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(radius)}" fill="{color}"/>')

    def text(
        self,
        x: float,
        y: float,
        content: str,
        size: float = FONT_SIZE,
        anchor: str = "middle",
        color: str | None = None,
        rotate: bool = False,
    ) -> None:
        """``content`` with its baseline at ``y`` (anchored at ``x``: start, middle, end);
        ``rotate`` turns it a quarter anticlockwise about (x, y), to read upwards."""
        extra = f' fill="{color}"' if color else ""
        if rotate:
            extra += f' transform="rotate(-90 {_n(x)} {_n(y)})"'
        self.parts.append(
            f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" '
            f'text-anchor="{anchor}"{extra}>{escape(content)}</text>'
        )

    def __str__(self) -> str:
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" '
            f'width="{_n(WIDTH)}pt" height="{_n(self.height)}pt" '
            f'viewBox="0 0 {_n(WIDTH)} {_n(self.height)}" '
            f"font-family={quoteattr(fonts.HEI)}>\n" + "\n".join(self.parts) + "\n</svg>\n"
        )


def _scale(lo: float, hi: float, start: float, end: float):
    """The linear map from data [lo, hi] to drawing [start, end]."""
    return lambda v: start + (v - lo) * (end - start) / (hi - lo)


def trend(points: list[dict], target_percent: float) -> str:
    """党组织覆盖率 at each bulletin of the campaign, against the target line."""
    svg = _Svg(151.2)
    left, right, top, bottom = 45.0, 401.8, 9.7, 114.3
    n = len(points)
    x_of = _scale(-0.5, max(n - 0.5, 0.5), left, right)
    y_of = _scale(0, 105, bottom, top)
    for tick in (0, 25, 50, 75, 100):
        y = y_of(tick)
        svg.line(left, y, right, y, GRID, 0.6)
        svg.line(left - TICK, y, left, y)
        svg.text(left - 2 * TICK, y + MIDDLE * FONT_SIZE, str(tick), anchor="end")
    svg.line(left, top, left, bottom)
    svg.line(left, bottom, right, bottom)
    svg.text(17.0, (top + bottom) / 2, "党组织覆盖率（%）", rotate=True)
    # Named outside the plot, right of the line's end, so no point's label meets it.
    target_y = y_of(target_percent)
    svg.line(left, target_y, right, target_y, RED, 1.0, dashed=True)
    svg.text(
        right + 0.01 * (right - left),
        target_y + MIDDLE * 8,
        f"目标{target_percent:g}%",
        size=8,
        anchor="start",
        color=RED,
    )
    for i, p in enumerate(points):
        x = x_of(i)
        svg.line(x, bottom, x, bottom + TICK)
        svg.text(x, bottom + 13.8, f"第{p['number']}期")
        svg.text(x, bottom + 24.2, _md(p["due_on"]))
    # A bulletin without a coverage (no base yet) is a gap in the line.
    values = [None if p["coverage"] is None else p["coverage"] * 100 for p in points]
    for run in _runs(values):
        drawn = [(x_of(i), y_of(v)) for i, v in run]
        if len(drawn) > 1:
            svg.polyline(drawn, BLUE, 1.8)
        for x, y in drawn:
            svg.dot(x, y, 3.5, BLUE)
    for i, v in enumerate(values):
        if v is not None:
            svg.text(x_of(i), y_of(v) - 6.0, f"{v:.1f}%", size=8)
    return str(svg)


def by_unit(units: list[dict], target_percent: float) -> str:
    """Each unit's 党组织覆盖率 as a bar, in ranking order, against the target line."""
    # Room for the x axis, its title and the target label even with one unit.
    height = max(1.5, 0.8 + 0.24 * len(units)) * 72
    svg = _Svg(height)
    names = [u["name"] for u in units]
    widest = max((text_width(name, FONT_SIZE) for name in names), default=0.0)
    # The names right-aligned left of the axis; a very long one may not squeeze the plot
    # below half the width.
    left = min(9.7 + widest + 2 * TICK, WIDTH / 2)
    right, top, bottom = 412.7, 20.3, height - 39.5
    x_of = _scale(0, 100, left, right)
    rows = max(len(units), 1)
    # The first unit at the top: row i's centre, with 0.6 of a row's room above and below.
    y_of = _scale(-0.6, rows - 0.4, top, bottom)
    band = (bottom - top) / (rows + 0.2)
    for i, u in enumerate(units):
        y = y_of(i)
        value = (u["party_org_coverage"] or 0) * 100
        # Reached or not as figures.reaches says (exact integers), as the table bolds it.
        color = GREY if u.get("reaches") is False else BLUE
        svg.rect(left, y - 0.31 * band, x_of(value) - left, 0.62 * band, color)
        svg.line(left - TICK, y, left, y)
        svg.text(left - 2 * TICK, y + MIDDLE * FONT_SIZE, u["name"], anchor="end")
        # The values in a column right of the plot: the target line crosses bars, never a label.
        svg.text(right + 0.01 * (right - left), y + MIDDLE * 7.5, f"{value:.1f}%", 7.5, "start")
    svg.line(left, top, left, bottom)
    svg.line(left, bottom, right, bottom)
    for tick in range(0, 101, 20):
        x = x_of(tick)
        svg.line(x, bottom, x, bottom + TICK)
        svg.text(x, bottom + 13.8, str(tick))
    svg.text((left + right) / 2, bottom + 26.8, "党组织覆盖率（%）")
    target_x = x_of(target_percent)
    svg.line(target_x, top, target_x, bottom, RED, 1.0, dashed=True)
    svg.text(target_x, top - 4.8, f"目标{target_percent:g}%", size=8, color=RED)
    return str(svg)


def _runs(values: list[float | None]) -> Iterable[list[tuple[int, float]]]:
    """The unbroken runs of ``values`` as (index, value) lists, split where a value is None."""
    run: list[tuple[int, float]] = []
    for i, v in enumerate(values):
        if v is None:
            if run:
                yield run
            run = []
        else:
            run.append((i, v))
    if run:
        yield run


def _md(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.month}月{d.day}日"
