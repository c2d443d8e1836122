"""The bulletin's xlsx attachment: the long lists a leader does not read in the PDF.

The 各单位情况 sheet comes from the snapshot; the lists (本期销号, 逾期事项) come as rows
from ``snapshot.lists`` and are streamed into the workbook, never held whole.

It is written with XlsxWriter in its constant-memory mode, not openpyxl as Gongjian's other
xlsx files are (openpyxl also reads them): a city's lists run to tens of thousands of rows, and
XlsxWriter writes them in about half openpyxl's time (a city's 10,353 rows: 0.45 s against 0.82
s in openpyxl's write-only mode, 0.68 s with lxml under it; measured ad hoc), which is what
lets a city's workbook be done while its PDF is drawn (bench/bulletin.py, BENCHMARKS.md).

Producing a bulletin (``start``), a city's attachment gets a worker process before the data is
read; the lists are read first, in the transaction the figures are then counted in, and spooled
to a temporary file (``Writing.feed_lists``), which the worker reads as it grows and writes into
the workbook while the producing process gathers the figures and draws the PDF; the snapshot
follows (``Writing.feed_snapshot``) for the 各单位情况 sheet. The worker's start-up overlaps the
lists, and its rows the gather and the PDF, so the two use both cores (bench/bulletin.py,
BENCHMARKS.md).

Each sheet is what an office worker expects to open and print: the caption and the header
stay in view (frozen) and carry filters; dates and times are Excel dates in the campaign's
zone (the lists give local times), rates are percentages; columns are wide enough to read;
it prints on landscape A4, one page wide, the caption and header repeated on every page.
"""

import contextlib
import io
import logging
import os
import pickle
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from xlsxwriter import Workbook

from campaign.core.cells import HEADER_FORMAT, cell_text

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
        # Seed 004 phases 5 and 6 (bulletins made before them have none: blank).
        ("理顺率", lambda u: _rate(u.get("phases", {}).get("settled_rate")), 10, RATE),
        ("新建党组织选派率", lambda u: _rate(u.get("phases", {}).get("liaison_rate")), 17, RATE),
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
    (  # every row a data-quality signal names (campaign/quality): leads to check, not findings
        "数据质量线索",
        "quality",
        [
            ("单位", 14, TEXT),
            ("线索代码", 24, TEXT),
            ("线索", 40, TEXT),
            ("核实状态", 10, TEXT),
            ("组织名称", 36, TEXT),
            ("统一社会信用代码", 22, TEXT),
            ("情况", 36, TEXT),
        ],
    ),
    (  # 协调事项 the units raised with the city, still unanswered at the cut-off
        "未解决的协调事项",
        "coordination",
        [
            ("单位", 14, TEXT),
            ("类别", 14, TEXT),
            ("事项", 36, TEXT),
            ("涉及组织", 30, TEXT),
            ("提出时间", 17, MOMENT),
            ("状态", 10, TEXT),
            ("承办人", 12, TEXT),
        ],
    ),
)
# Rows above the data: the caption (the bulletin's title and the sheet's) and the header.
HEAD_ROWS = 2
# The most rows a sheet holds (Excel's limit; XlsxWriter drops a row beyond it silently).
EXCEL_ROWS = 1_048_576
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


# The formats of a workbook, by kind (FORMATS' kinds, the caption and the header).
_FORMAT_PROPERTIES: dict[str, dict[str, Any]] = {
    "plain": {},
    "caption": {"bold": True, "font_size": 12},
    "header": HEADER_FORMAT,
    **{kind: {"num_format": number_format} for kind, number_format in FORMATS.items()},
}


class _Book:
    """A workbook being written to ``out`` in XlsxWriter's constant-memory mode (each sheet
    streams a row to its own temporary file in ``folder`` once the next begins; the caller
    removes the folder, written or not), its formats made once."""

    def __init__(self, out: BinaryIO, folder: Path) -> None:
        self.wb = Workbook(out, {"constant_memory": True, "tmpdir": str(folder)})
        self.formats = {kind: self.wb.add_format(p) for kind, p in _FORMAT_PROPERTIES.items()}


class _Sheet:
    """One sheet written row after row: text made safe and written as text (never a
    formula), dates and times as Excel dates, rates as percentages."""

    def __init__(
        self, book: _Book, bulletin: str, title: str, columns: list[tuple[str, int, str]]
    ) -> None:
        ws = self.ws = book.wb.add_worksheet(title)
        self.book, self.columns = book, len(columns)
        self.formats = [book.formats.get(kind) for _, _, kind in columns]
        for i, (_, width, _) in enumerate(columns):
            ws.set_column(i, i, width)
        # Kept in view while scrolling, and on every printed page.
        ws.freeze_panes(HEAD_ROWS, 0)
        ws.repeat_rows(0, HEAD_ROWS - 1)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)  # one page wide, as long as it runs
        ws.center_horizontally()
        ws.set_footer("&C第 &P 页，共 &N 页")
        ws.write_string(0, 0, cell_text(f"{bulletin}——{title}"), book.formats["caption"])
        for i, (name, _, _) in enumerate(columns):
            ws.write_string(1, i, cell_text(name), book.formats["header"])
        self.rows = self.left_out = 0

    def append(self, values: Iterable[Any]) -> None:
        row, ws = HEAD_ROWS + self.rows, self.ws
        if row >= EXCEL_ROWS - 1:  # the sheet's last row is kept for saying so
            self.left_out += 1
            return
        for col, (value, style) in enumerate(zip(values, self.formats, strict=True)):
            if value is None or value == "":  # a blank cell, not an empty text
                continue
            if isinstance(value, str):
                self._text(row, col, cell_text(value))
            elif isinstance(value, date):  # a datetime too: a date in any column shows as one
                kind = MOMENT if isinstance(value, datetime) else DAY
                ws.write_datetime(row, col, _local(value), style or self.book.formats[kind])
            elif isinstance(value, (int, float)):
                ws.write_number(row, col, value, style)
            else:
                self._text(row, col, cell_text(str(value)))
        self.rows += 1

    def _text(self, row: int, col: int, text: str) -> None:
        if text.startswith("<r>") and text.endswith("</r>"):
            # XlsxWriter would take such text for rich-text XML of its own and write it
            # unescaped (a name like "<r>A&B</r>" breaks the sheet): written as a rich text
            # of two runs instead, each escaped, in the sheet's default font.
            self.ws.write_rich_string(row, col, text[:1], self.book.formats["plain"], text[1:])
        else:
            self.ws.write_string(row, col, text)

    def close(self) -> None:
        """The filters, over the header and the rows written; below them, the rows a sheet
        could not hold, counted."""
        self.ws.autofilter(HEAD_ROWS - 1, 0, HEAD_ROWS - 1 + self.rows, self.columns - 1)
        if self.left_out:
            self.ws.write_string(
                EXCEL_ROWS - 1,
                0,
                f"另有{self.left_out}行未列出：超过Excel每张表{EXCEL_ROWS}行的上限",
                self.book.formats["caption"],
            )


# The lists' progress is reported every this many rows.
PROGRESS_EVERY = 5000


def write(snapshot: dict, lists: Mapping[str, Iterable[tuple]], progress=None) -> bytes:
    """The attachment's bytes: the units from the snapshot, the lists' rows as they come.

    ``progress(done, total)`` hears every ``PROGRESS_EVERY`` rows of the lists, ``total``
    being what the snapshot counted (a city's lists run to a hundred thousand rows).
    """
    with tempfile.TemporaryDirectory(prefix="gongjian-attachment-") as folder:
        return _write(
            snapshot["title"], lists, lambda: snapshot, listed(snapshot), Path(folder), progress
        )


def listed(snapshot: dict) -> int:
    """The rows of the two long lists (closures, overdue items) as the snapshot counts them."""
    return snapshot["overall"]["closures_verified"] + snapshot["overall"]["overdue_items"]


def _write(
    bulletin: str,
    lists: Mapping[str, Iterable[tuple]],
    units_from: Callable[[], dict],
    total: int,
    folder: Path,
    progress=None,
) -> bytes:
    """The attachment of the bulletin titled ``bulletin``: the lists' rows as they come, then
    the units of the snapshot ``units_from()`` gives; the sheets' temporary files in ``folder``.
    各单位情况 is the workbook's first sheet but is filled last (each sheet is a stream of its
    own), so the lists can be written before the snapshot exists."""
    done = 0
    buf = io.BytesIO()
    book = _Book(buf, folder)
    try:
        title, unit_columns = UNITS
        units = _Sheet(book, bulletin, title, [(h, w, kind) for h, _, w, kind in unit_columns])
        for title, key, columns in LISTS:
            sheet = _Sheet(book, bulletin, title, columns)
            for values in lists.get(key, ()):
                sheet.append(values)
                done += 1
                if progress and done % PROGRESS_EVERY == 0:
                    progress(done, max(total, done))
            sheet.close()
        snapshot = units_from()
        for unit in snapshot["units"]:
            units.append(f(unit) if callable(f) else unit.get(f) for _, f, _, _ in unit_columns)
        units.close()
    except BaseException:
        # The sheets' temporary files are closed by closing the workbook (written for nobody).
        with contextlib.suppress(Exception):
            book.wb.close()
        raise
    book.wb.close()
    return buf.getvalue()


# ---- producing it beside the PDF: the rows spooled, the workbook written by a worker ----
#
# The worker is a fresh interpreter (`python -m reports.attachment`), not a fork of the
# producing process (its threads and database connections stay with it) nor a
# multiprocessing child (which would run the caller's main script again). It is started
# before the bulletin's data is read, so that its start-up (its imports: XlsxWriter and
# campaign.core.cells, nothing of the app) overlaps the lists' reading, and it writes the rows
# as the producing process spools them, while that process goes on to gather the figures and
# draw the PDF.

log = logging.getLogger(__name__)
# Rows pickled at a time into the spool (and read back at a time by the worker).
SPOOL_BATCH = 2000
# The project's root, for the worker to import this very code.
ROOT = Path(__file__).resolve().parent.parent
# Each record of the spool: its length, then the pickled object (the bulletin's title first,
# then per sheet in LISTS' order batches of rows, an empty batch closing each sheet, then the
# snapshot, for the 各单位情况 sheet: the lists are read before the figures are gathered).
_LENGTH = struct.Struct(">I")
# How often the worker looks again at a spool that is still being written (seconds).
_POLL = 0.005

# From how many organizations in the campaign a worker writes the attachment. The worker is
# started before the lists are read, so the decision is taken on the campaign's size: the
# lists run to about 18-23 % of the organizations (the demo's 3,300: 629-767 rows, a city's
# 50,000: 9,113-10,353 rows, 第6期). Below it the workbook is written in the producing process,
# after the PDF, where a few hundred rows take less than the worker's start would on the
# other core (an interpreter and its imports: about 0.06 s of CPU and 25 MB; nothing of the
# app: the spool holds plain data, tests/reports/test_attachment.py). From it the rows
# are worth the worker: the demo's take 0.05-0.07 s after its PDF in the producing process,
# about a tenth of its render, and its bundle was 0.02-0.07 s sooner with a worker (ten
# bulletins each way, timed ad hoc in one process).
WORKER_ORGS = 2_000


def _record(out: BinaryIO, value: Any) -> None:
    data = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    out.write(_LENGTH.pack(len(data)) + data)
    out.flush()  # the worker reads it now


def _records(file: BinaryIO, wait: Callable[[], None]) -> Iterator[Any]:
    """The spool's records as written; at its current end ``wait()`` (which raises when no
    more will come)."""
    while True:
        (length,) = _LENGTH.unpack(_exactly(file, _LENGTH.size, wait))
        yield pickle.loads(_exactly(file, length, wait))


def _exactly(file: BinaryIO, size: int, wait: Callable[[], None]) -> bytes:
    data = b""
    while len(data) < size:
        if chunk := file.read(size - len(data)):
            data += chunk
        else:
            wait()
    return data


def _complete() -> None:
    raise EOFError("the attachment's spool ends before its last sheet")


def _from_spool(records: Iterator[Any], folder: Path) -> bytes:
    """The attachment's bytes from the spool's records (the title, the rows, the snapshot),
    the sheets' temporary files in ``folder``."""
    bulletin = next(records)

    def rows() -> Iterator[tuple]:
        while batch := next(records):
            yield from batch

    # Each sheet reads its rows to the end before the next begins (_write's order), then the
    # snapshot follows them.
    lists = {key: rows() for _, key, _ in LISTS}
    return _write(bulletin, lists, lambda: next(records), 0, folder)


class Writing:
    """The attachment of a bulletin being produced: ``feed`` spools the snapshot and the lists'
    rows, ``result()`` gives its bytes. With ``worker``, a worker process started at once
    writes the rows as they are spooled; otherwise, or if the worker does not start or
    fails, ``result()`` writes them here from the spool."""

    def __init__(self, worker: bool) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="gongjian-attachment-"))
        self.spool = self.folder / "rows.pickle"
        self.spool.touch()
        self.out = self.folder / "attachment.xlsx"
        self.rows = 0
        self.process: subprocess.Popen | None = None
        if not worker:
            return
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "reports.attachment", str(self.folder), str(os.getpid())],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                # A session of its own: where the kernel shares the CPU between sessions
                # (autogroup, as on Debian), the worker would otherwise take its CPU from this
                # process's share, and the rows would delay the PDF on a loaded machine.
                start_new_session=True,
            )
        except OSError:
            log.exception("no worker process for the attachment: written in this process")

    def feed(self, snapshot: dict, lists: Mapping[str, Iterable[tuple]], progress=None) -> int:
        """Spool ``snapshot`` and the lists' rows (streamed, read once); ``progress`` as
        ``write`` says. The number of rows."""
        done = self.feed_lists(snapshot["title"], lists, listed(snapshot), progress)
        self.feed_snapshot(snapshot)
        return done

    def feed_lists(
        self, bulletin: str, lists: Mapping[str, Iterable[tuple]], total: int, progress=None
    ) -> int:
        """Spool the lists' rows of the bulletin titled ``bulletin`` (streamed, read once),
        before its snapshot exists; ``progress(done, total)`` as ``write`` says, ``total``
        counted beforehand. The number of rows. ``feed_snapshot`` follows."""
        done = 0
        with self.spool.open("ab") as out:
            _record(out, bulletin)
            for _, key, _ in LISTS:
                batch: list[tuple] = []
                for row in lists.get(key, ()):
                    batch.append(tuple(row))
                    done += 1
                    if len(batch) == SPOOL_BATCH:
                        _record(out, batch)
                        batch = []
                    if progress and done % PROGRESS_EVERY == 0:
                        progress(done, max(total, done))
                if batch:
                    _record(out, batch)
                _record(out, [])
        self.rows = done
        return done

    def feed_snapshot(self, snapshot: dict) -> None:
        """Spool the snapshot, after the lists (its units make the 各单位情况 sheet)."""
        with self.spool.open("ab") as out:
            _record(out, snapshot)

    def busy(self) -> bool:
        """Whether the worker is still writing (``result`` would wait for it)."""
        return self.process is not None and self.process.poll() is None

    def result(self) -> bytes:
        """The attachment's bytes, once ``feed`` has spooled everything."""
        try:
            if self.process is not None:
                _, err = self.process.communicate()
                if self.process.returncode == 0:
                    return self.out.read_bytes()
                log.error(
                    "the attachment's worker failed (exit %s), written in this process: %s",
                    self.process.returncode,
                    err.decode(errors="replace")[-2000:],
                )
            with self.spool.open("rb") as file:
                return _from_spool(_records(file, _complete), self.folder)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "Writing":
        return self

    def __exit__(self, *exc: object) -> None:
        """Left without its result (the bulletin failed): the worker is stopped, the spool
        removed."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            self.process.communicate()
        shutil.rmtree(self.folder, ignore_errors=True)


def start(worker: bool) -> Writing:
    """Begin the attachment (with a worker process if ``worker``), before its data is read;
    use it as a context manager, so that a bulletin that fails meanwhile leaves no worker and
    no spool behind."""
    return Writing(worker)


def _work(folder: Path, producer: int) -> None:
    """The worker: the snapshot and the rows spooled in ``folder``, read as the producing
    process ``producer`` writes them, to ``attachment.xlsx``; the folder removed instead if
    the producer died meanwhile (nobody would read it)."""

    def wait() -> None:
        if os.getppid() != producer:  # orphaned: the producer was killed
            shutil.rmtree(folder, ignore_errors=True)
            raise SystemExit(1)
        time.sleep(_POLL)

    with (folder / "rows.pickle").open("rb", buffering=0) as file:
        data = _from_spool(_records(file, wait), folder)
    partial = folder / "attachment.xlsx.part"
    partial.write_bytes(data)
    partial.rename(folder / "attachment.xlsx")
    if os.getppid() != producer:  # orphaned: the producer was killed
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    _work(Path(sys.argv[1]), int(sys.argv[2]))
