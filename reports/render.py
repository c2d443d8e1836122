"""Snapshot -> HTML (Jinja2) -> PDF (WeasyPrint). Reads nothing but the snapshot.

No Flask: the template environment is built here with the same display filters as the
pages, so the scheduler process and the CLI render exactly what the web app would.
"""

import base64
import gc
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

import weasyprint
from jinja2 import Environment
from markupsafe import Markup
from weasyprint.formatting_structure.boxes import FootnoteAreaBox
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from campaign import display
from reports import charts, columns, fonts


class RenderRefused(RuntimeError):
    """The bulletin cannot be rendered correctly (a font or a glyph is missing)."""


def _late_hours(snapshot: dict) -> float:
    """How long after its cut-off a bulletin was produced (a made-up run says so)."""
    if "generated_at" not in snapshot:
        return 0.0
    late = datetime.fromisoformat(snapshot["generated_at"]) - datetime.fromisoformat(
        snapshot["cutoff"]
    )
    return late.total_seconds() / 3600


TITLE_LINE = 18  # characters of a 2号 title line (156 mm at 22 pt is 20), less a margin


def title_runs(text: str) -> list[tuple[bool, str]]:
    """A title in runs, each marked whether to keep it on one line: the title may break only
    before a quoted name (“百日攻坚行动”…) or before its （第N期）, so no word is cut in two
    ("集中组/建", "百日/攻坚行动"). A run too long for a line may break anywhere."""
    runs = [run for run in re.split(r"(?=“[^”]*”)|(?=（第)", text) if run]
    return [(len(run) <= TITLE_LINE, run) for run in runs]


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = display.environment(autoescape=True)
    env.filters["title_runs"] = title_runs
    return env


def refuse_unprintable(text: str) -> None:
    """Refuse when a face is not installed or a character of ``text`` has no glyph in the
    installed faces (it would print as a box)."""
    try:
        fonts.check()
    except fonts.FontsMissing as e:
        raise RenderRefused(str(e)) from e
    if missing := fonts.missing_glyphs(text):
        raise RenderRefused(
            f"通报中有 {len(missing)} 个字符已安装字体无法显示（会印成方框）：{'、'.join(missing[:20])}。"
            "请修改含这些字符的名称，或安装含这些字符的字体。"
        )


# What bulletins before version 3 printed where version 3 reads the campaign's own texts.
_BEFORE_3 = {"addressees": "各区委组织部，市直机关工委，市民政局", "action": "“百日攻坚行动”"}


def readable(snapshot: dict) -> dict:
    """A stored snapshot in the form the template reads. Version 1 carried the period's
    closures as a list (the PDF printed its length); since version 2 the count is stored.
    Before version 3 the 主送, the campaign's subject and action were fixed texts, and there
    were no previous ranks, no split by kind and no 50/100人 rates (those parts are left out)."""
    if "closures_verified" not in snapshot["overall"]:
        count = len(snapshot["closures"])
        snapshot = {**snapshot, "overall": {**snapshot["overall"], "closures_verified": count}}
    if snapshot.get("version", 1) < 3:
        number = f"（第{snapshot['number']}期）"
        subject = snapshot["title"].removeprefix("关于全市").removesuffix(number)
        campaign = {
            "action": _BEFORE_3["action"],
            "subject": subject.removesuffix("工作进展情况的通报"),
            **snapshot["campaign"],
        }
        overall = {"member_rate": None, "party_org_rate_by_size": None, **snapshot["overall"]}
        snapshot = {
            "addressees": _BEFORE_3["addressees"],
            **snapshot,
            "campaign": campaign,
            "overall": overall,
        }
    return snapshot


def html(snapshot: dict) -> str:
    """The bulletin as HTML, charts inline as SVG data URLs, the tables' column widths set
    (columns.fixed)."""
    snapshot = readable(snapshot)
    # The unit names are checked before the charts, which print them (a missing glyph would
    # be a box there too). The rest of the text is checked on the whole document by pdf().
    refuse_unprintable("".join(u["name"] for u in snapshot["units"]))
    target = float(Decimal(snapshot["campaign"]["target_party_org_coverage"]))
    return columns.fixed(
        environment()
        .get_template("reports/bulletin.html")
        .render(
            s=snapshot,
            faces={
                "song": fonts.SONG,
                "kai": fonts.KAI,
                "hei": fonts.HEI,
                "fang": fonts.FANG,
                "title": fonts.TITLE,
            },
            late_hours=_late_hours(snapshot),
            trend_chart=_data_url(charts.trend(snapshot["trend"], target)),
            unit_chart=_data_url(charts.by_unit(snapshot["units"], target)),
        )
    )


# Everything the bulletin shows is inline (charts are data: URLs); nothing is fetched:
# no file:, no network.
INLINE_ONLY = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)


def _data_url(svg: str) -> Markup:
    # Each chart as its own SVG document, an image the template places like any other.
    return Markup("data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode())


@dataclass(frozen=True)
class Pdf:
    data: bytes
    pages: int


# The 版记 (GB/T 9704 §8) stands at the foot of the last page, which must be an even one.
IMPRINT = '<div class="imprint-wrap">'
IMPRINT_OWN_PAGE = '<div class="imprint-wrap own-page">'


def pdf(document: str, progress=None) -> Pdf:
    """The PDF of ``document``; refused when a face is not installed or a glyph would be a box.

    When the 版记 falls on an odd page, it is set on the next even page, by itself (the same
    input always gives the same PDF)."""
    refuse_unprintable(document)
    with long_lived_frozen():
        return _pdf(document, progress)


# Each thread's font configuration, kept from one render to the next: its font map keeps the
# faces it has loaded and the glyphs it has shaped, which a new one loads again (about 6 % of
# the demo's render; the same PDF to the byte). One per thread: a font map is not shared
# between threads (the scheduler's and a web request's renders may run at once).
_FACES = threading.local()


def _faces() -> FontConfiguration:
    faces = getattr(_FACES, "config", None)
    if faces is None:
        faces = _FACES.config = FontConfiguration()
    return faces


def _pdf(document: str, progress=None) -> Pdf:
    faces = _faces()
    rendered = _layout(document, faces)
    if len(rendered.pages) % 2 and IMPRINT in document:
        rendered = _imprint_on_its_own_page(rendered, document, faces)
    if progress:
        progress("写入PDF", 80)
    return Pdf(rendered.write_pdf(), len(rendered.pages))


def _layout(document: str, faces: FontConfiguration) -> weasyprint.Document:
    """``document`` laid out. Its style sheet (the head's first ``<style>``, the same for every
    bulletin of an installation) is parsed once per thread and passed in already parsed: about
    1 % of the demo's render. Passed in, it counts as the user's sheet rather than the
    author's; the PDF is the same to the byte, as the template has no other sheet, no
    ``!important``, and its one ``style`` attribute outranks a sheet's rule either way."""
    head, opening, rest = document.partition("<style>")
    style, closing, rest = rest.partition("</style>")
    if not (opening and closing):
        return weasyprint.HTML(string=document, url_fetcher=INLINE_ONLY).render(font_config=faces)
    return weasyprint.HTML(string=head + rest, url_fetcher=INLINE_ONLY).render(
        font_config=faces, stylesheets=[_sheet(style, faces)]
    )


def _sheet(style: str, faces: FontConfiguration) -> weasyprint.CSS:
    """``style`` parsed, kept for this thread's next render (one sheet: the template's)."""
    kept = getattr(_FACES, "sheet", None)
    if kept is None or kept[0] != style:
        sheet = weasyprint.CSS(string=style, url_fetcher=INLINE_ONLY, font_config=faces)
        kept = _FACES.sheet = (style, sheet)
    return kept[1]


def _imprint_on_its_own_page(
    rendered: weasyprint.Document, document: str, faces: FontConfiguration
) -> weasyprint.Document:
    """``rendered`` (an odd number of pages, the 版记 at the foot of the last) with the 版记 on
    a page of its own after it, an even one: the document as laid out again with the 版记 on
    the next even page (IMPRINT_OWN_PAGE), byte for byte, without laying the text out again.

    The pages before are the same either way, and so is the last one's text (the 版记 is a
    footnote: it only takes the foot of the page): the last page is kept without its footnote,
    and the page after is the 版记 alone, laid out with the document's styles as page N + 1, a
    left page. Where the last page's footnotes are not the 版记 alone (nothing in the template
    does that), the whole document is laid out again instead."""
    last = rendered.pages[-1]._page_box  # WeasyPrint's laid-out page
    notes = [box for box in last.children if isinstance(box, FootnoteAreaBox)]
    if len(notes) != 1 or [_class_of(box) for box in notes[0].children] != ["imprint"]:
        return _layout(document.replace(IMPRINT, IMPRINT_OWN_PAGE, 1), faces)
    head, _, body = document.partition("<body>")
    number = len(rendered.pages) + 1
    head = head.replace(
        "</head>",
        f"<style>html {{ break-before: left; }} @page {{ counter-increment: page {number}; }}"
        "</style></head>",
        1,
    )
    imprint = _layout(head + "<body>" + IMPRINT_OWN_PAGE + body.split(IMPRINT, 1)[1], faces)
    if len(imprint.pages) != 1:
        return _layout(document.replace(IMPRINT, IMPRINT_OWN_PAGE, 1), faces)
    notes[0].children = []
    return rendered.copy([*rendered.pages, *imprint.pages])


def _class_of(box) -> str | None:
    element = getattr(box, "element", None)
    return None if element is None else element.get("class")


# How many productions and renders of the process are inside long_lived_frozen (the freeze is
# the process's, whichever thread holds it).
_frozen = 0
_frozen_lock = threading.Lock()


@contextmanager
def long_lived_frozen() -> Iterator[None]:
    """The process's objects as they are left out of the cycle collector for a while.

    A layout allocates hundreds of thousands of objects, so Python's collector runs full
    collections during it, each walking every object of the process: in a process that has
    the app loaded (200,000 objects), a third of a bulletin's render CPU went to walking
    objects that live as long as the process (bench/bulletin.py, BENCHMARKS.md). The
    render's own garbage is collected as usual; the frozen objects return afterwards.

    What is left of the render once it is done (its pages and boxes hold cycles) is collected
    before they return, in a walk of the render's objects only (15-20 ms): left for later, it
    would be frozen with the rest by the next bulletin's render, and so on, and pile up in a
    long-lived scheduler process (six renders of the city's 第6期 in a row: a peak of 567 MB,
    250 MB with this collection; measured ad hoc).

    ``pdf`` holds one, and a bulletin's production holds one from its gather to its
    publication (services.produce), so that what it leaves is collected once the bulletin is
    out. Held by several at once (nested, or in two threads: the scheduler's job and a web
    request), the process is frozen by the first and collected and thawed by the last."""
    global _frozen
    with _frozen_lock:
        _frozen += 1
        if _frozen == 1:
            gc.freeze()
    try:
        yield
    finally:
        with _frozen_lock:
            _frozen -= 1
            if not _frozen:
                gc.collect()
                gc.unfreeze()
