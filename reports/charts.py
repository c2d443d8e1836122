"""The bulletin's charts, drawn by matplotlib as SVG (vector, text as outlines).

Text is converted to paths, so the PDF needs no extra font for the charts and they look the
same wherever the bulletin is re-rendered.
"""

import io
import threading
from datetime import date

import matplotlib

matplotlib.use("svg")  # no display, no GUI toolkit

from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from reports import fonts  # noqa: E402

_lock = threading.Lock()  # matplotlib's font cache and rcParams are not thread-safe
_ready = False
RED, BLUE, GREY = "#c00000", "#1f4e79", "#7f7f7f"
STYLE = {
    "svg.fonttype": "path",
    "svg.hashsalt": "gongjian",  # the same SVG for the same data (re-render identically)
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _setup() -> None:
    global _ready
    if not _ready:
        path, _ = fonts.check()[fonts.HEI]
        font_manager.fontManager.addfont(path)
        matplotlib.rcParams.update(STYLE)
        matplotlib.rcParams["font.family"] = [fonts.HEI]
        _ready = True


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def trend(points: list[dict], target_percent: float) -> str:
    """党组织覆盖率 at each bulletin of the campaign, against the target line."""
    with _lock:
        _setup()
        fig = Figure(figsize=(6.2, 2.1))
        ax = fig.add_subplot()
        labels = [f"第{p['number']}期\n{_md(p['due_on'])}" for p in points]
        values = [None if p["coverage"] is None else p["coverage"] * 100 for p in points]
        # matplotlib draws None as a gap in the line; its types ask for floats only.
        ax.plot(range(len(points)), values, marker="o", color=BLUE, linewidth=1.8)  # type: ignore[arg-type]
        for x, v in enumerate(values):
            if v is not None:
                ax.annotate(
                    f"{v:.1f}%",
                    (x, v),
                    textcoords="offset points",
                    xytext=(0, 6),
                    ha="center",
                    fontsize=8,
                )
        ax.axhline(target_percent, color=RED, linestyle="--", linewidth=1)
        # Named outside the plot, right of the line's end, so no point's label meets it.
        ax.text(
            1.01,
            target_percent,
            f"目标{target_percent:g}%",
            transform=ax.get_yaxis_transform(),
            color=RED,
            va="center",
            ha="left",
            fontsize=8,
        )
        ax.set_xticks(range(len(points)), labels)
        ax.set_xlim(-0.5, max(len(points) - 0.5, 0.5))
        ax.set_ylim(0, 105)
        ax.set_ylabel("党组织覆盖率（%）")
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        fig.tight_layout()
        return _svg(fig)


def by_unit(units: list[dict], target_percent: float) -> str:
    """Each unit's 党组织覆盖率 as a bar, in ranking order, against the target line."""
    with _lock:
        _setup()
        # Room for the x axis, its title and the target label even with one unit.
        height = max(1.5, 0.8 + 0.24 * len(units))
        fig = Figure(figsize=(6.2, height))
        ax = fig.add_subplot()
        names = [u["name"] for u in units][::-1]
        values = [(u["party_org_coverage"] or 0) * 100 for u in units][::-1]
        # Reached or not as figures.reaches says (exact integers), as the table bolds it.
        colors = [GREY if u.get("reaches") is False else BLUE for u in units][::-1]
        ax.barh(range(len(units)), values, color=colors, height=0.62)
        # The values in a column right of the plot and the target named above it: the target
        # line crosses bars, never a label.
        for y, v in enumerate(values):
            ax.text(
                1.01,
                y,
                f"{v:.1f}%",
                transform=ax.get_yaxis_transform(),
                va="center",
                ha="left",
                fontsize=7.5,
            )
        ax.axvline(target_percent, color=RED, linestyle="--", linewidth=1)
        ax.text(
            target_percent,
            1.01,
            f"目标{target_percent:g}%",
            transform=ax.get_xaxis_transform(),
            color=RED,
            ha="center",
            va="bottom",
            fontsize=8,
        )
        ax.set_yticks(range(len(units)), names)
        ax.set_xlim(0, 100)
        ax.set_ylim(-0.6, len(units) - 0.4)
        ax.set_xlabel("党组织覆盖率（%）")
        fig.tight_layout()
        return _svg(fig)


def _md(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.month}月{d.day}日"
