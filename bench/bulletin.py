"""Time one bulletin of the demo city against the bare WeasyPrint render and a Chromium print
of the same HTML, in one run.

    .venv/bin/python bench/bulletin.py [--size 1.0 | --orgs 50000 | --reuse DB] [--repeat 5]
                                       [--due 2026-11-10] [--on-time] [--profile FILE]

Loads the demo campaign (size 1.0 = 3,300 organizations, as of 2026-11-22), or with --orgs
bench/scale.py's synthetic city (50,000 organizations in about 20 s, as of the same day), into
a fresh SQLite file; --reuse copies an earlier run's file instead. The bulletin is the one
of report day --due made on 11-22, late (补发: its gather reads the figures as of the
cut-off from the ledger); with --on-time it is made as the scheduler makes it, on the report
day itself at 18:05 (the clock moved there with GONGJIAN_TEST_CLOCK, the data loaded as of
that day), when the gather sums the tallies. The bulletins of the report days before --due are
published once, before the rounds, as the scheduler would have published them: the measured
bulletin's trend takes their points, as every bulletin but a campaign's first does.
Each round runs every step below in turn, so a change in the machine's load touches all of
them alike (the bare render right before the end to end, whose ratio pairs them); round 0 is
the warm-up (reported as "first", with the peak RSS after it), then --repeat timed rounds:
  chromium      headless Chromium (Debian's, through Playwright, launched once before the
                rounds) prints the same HTML: a new page, set_content, page.pdf, close
  gather        reports.snapshot.build: the bulletin's data at the cut-off
  html          reports.render.html(snapshot): template, charts and the tables' column widths
  render.pdf    reports.render.pdf(html): checks + render + write
  attachment    reports.attachment.write(snapshot, snapshot.lists(...)): the xlsx, its
                lists (closures, overdue items) read as rows and streamed into it
  bare render   weasyprint.HTML(string=html).render().write_pdf() (the reference)
  end to end    services.generate: run row, lists spooled, gather, html, PDF, attachment, files, row,
                audit entry, event, commits: the whole bundle (PDF + xlsx) published, timed
                to the commit that publishes it (generate's progress 完成). The render's
                leftovers are collected after it, before generate returns (render.
                long_lived_frozen; the bare render leaves its own for later too): that is
                a line of its own, "generate returns". The row, the runs, their audit
                anchors and the files are deleted before each round, so every round really
                generates. "PDF ready" is when generate's progress reaches 保存文件 (the
                PDF's bytes exist, nothing is stored yet).
  distribution  the published bulletin's notifications delivered (in-app, mail, robots):
                after the commit that publishes it, by a job thread of the producing
                process in production, so timed here on its own, not in the end to end.
Then one more generate runs in a fresh process (`--peak-of`) that only opens the database
and generates: its peak RSS (VmHWM) is the memory a scheduler process needs for it; the
attachment's worker process, when the campaign is large enough to have one, is watched too.

Reports median and p95 (nearest rank) per step, CPU seconds of the in-process steps (less
sensitive to other processes on a shared machine than wall time), and the ratios per
round. --profile FILE writes cProfile stats of one more end-to-end run and prints where its
time goes. Prints Markdown for BENCHMARKS.md, then ends with exactly one line:

  bulletin: end-to-end X.XX s = R1× bare WeasyPrint render, R2× Chromium print of the same HTML

X is the median end-to-end time; R1 and R2 are the medians of the per-round ratios (each
round's end-to-end against the same round's bare render and Chromium print).
"""

import argparse
import cProfile
import gc
import math
import os
import platform
import pstats
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime
from datetime import time as time_of_day
from pathlib import Path
from zoneinfo import ZoneInfo

# This checkout's code, not whatever an editable install of another checkout points at.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pydyf  # noqa: E402
import weasyprint  # noqa: E402
from flask import Flask  # noqa: E402
from sqlalchemy import delete, func, select  # noqa: E402

from app import create_app  # noqa: E402
from campaign import demo  # noqa: E402
from campaign.audit import AuditAnchor  # noqa: E402
from campaign.core import clock  # noqa: E402
from campaign.core.extensions import db  # noqa: E402
from campaign.core.models import Campaign  # noqa: E402
from campaign.core.storage import resolve  # noqa: E402
from campaign.half_monthly import services as half_monthly  # noqa: E402
from campaign.ledger.models import Organization  # noqa: E402
from notifications import events  # noqa: E402
from reports import attachment, render, services, snapshot  # noqa: E402
from reports.models import Bulletin, BulletinRun  # noqa: E402

DEMO_DAY = date(2026, 11, 22)
CHROMIUM = "/usr/bin/chromium"
ZONE = ZoneInfo(clock.DEFAULT_TZ)
# When the bulletin is produced: after any cut-off of the demo's past report days.
MOMENT = datetime(2026, 11, 22, 10, 0, tzinfo=ZONE)
# --on-time: the report day itself, just after the scheduler's cut-off (18:00).
ON_TIME = time_of_day(18, 5)
PDF_READY = "保存文件"  # generate's progress step once the PDF's bytes exist
PUBLISHED = "完成"  # and once the commit that publishes the bundle is done


def peak_rss_mb() -> float:
    """The process's resident high-water mark so far (VmHWM; unlike ru_maxrss, a fresh
    process started from this one does not inherit this one's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout
    load = os.getloadavg()
    return (
        f"{len(os.sched_getaffinity(0))} CPUs (nproc), {cpu}, "
        f"{mem_kb / 2**20:.1f} GiB RAM; Python {platform.python_version()}, "
        f"WeasyPrint {weasyprint.__version__}, pydyf {pydyf.__version__}, "
        f"SQLite {sqlite3.sqlite_version}, {chromium.strip()}; "
        f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def make_app(url: str, storage: Path) -> Flask:
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "STORAGE_PATH": str(storage),
            "JOBS_IN_BACKGROUND": False,
            # Its news is delivered after the bundle is published (in production by a job
            # thread of the producing process): timed as a step of its own, not inside
            # the end to end.
            "NOTIFY_AFTER_COMMIT": False,
        }
    )


def clear(due: date) -> None:
    """Forget the bulletin of report day ``due``: its row, runs, audit anchor (SQLite reuses
    the bulletin's id, and the anchor's ref names it) and files. The earlier ones stay."""
    db.session.execute(delete(BulletinRun).where(BulletinRun.due_on == due))
    for bulletin in db.session.scalars(select(Bulletin).where(Bulletin.due_on == due)):
        for path in (bulletin.pdf_path, bulletin.xlsx_path, bulletin.html_path):
            if path:
                resolve(path).unlink(missing_ok=True)
        db.session.execute(delete(AuditAnchor).where(AuditAnchor.ref == f"bulletin:{bulletin.id}"))
        db.session.delete(bulletin)
    db.session.commit()


def publish_earlier(campaign: Campaign, due: date, settings: services.Settings) -> int:
    """Publish the bulletins of the report days before ``due`` that are not (every bulletin
    but a campaign's first has them: its trend takes their published points); each made as
    of its cut-off, dated 18:05 that day (its figures read from the ledger as of then, the
    clock being later). How many were published."""
    published = set(db.session.scalars(select(Bulletin.due_on)))
    earlier = [
        p.due_on
        for p in half_monthly.periods(campaign)
        if p.due_on < due and p.due_on not in published
    ]
    for day in earlier:
        moment = datetime.combine(day, ON_TIME, ZONE)
        services.generate(db.session, campaign, day, settings, "cli", moment=moment)
    return len(earlier)


def peak_of(url: str, storage: str, due: date, moment: datetime) -> None:
    """In a fresh process: generate once; print the peak RSS in MB before and after, and
    the attachment's worker's (0 when the lists were short and written in this process)."""
    worker_peaks: list[float] = [0.0]
    started = attachment.Writing.__init__

    def watched(self, *args, **kwargs) -> None:
        # The worker's own high-water mark, read while it runs (its rusage would count the
        # pages it shared with this process before exec).
        started(self, *args, **kwargs)
        if self.process is not None:
            status = Path(f"/proc/{self.process.pid}/status")

            def watch() -> None:
                while self.process.poll() is None:
                    try:
                        for line in status.read_text().splitlines():
                            if line.startswith("VmHWM:"):
                                worker_peaks.append(int(line.split()[1]) / 1024)
                    except OSError:
                        break
                    time.sleep(0.01)

            threading.Thread(target=watch, daemon=True).start()

    attachment.Writing.__init__ = watched  # type: ignore[method-assign]
    app = make_app(url, Path(storage))
    with app.app_context():
        campaign = db.session.scalars(select(Campaign)).one()
        settings = services.settings_from(app.config)
        clear(due)
        before = peak_rss_mb()
        services.generate(db.session, campaign, due, settings, "cli", moment=moment)
        print(f"{before:.0f} {peak_rss_mb():.0f} {max(worker_peaks):.0f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=float, default=1.0, help="demo size; 1.0 = 3,300 orgs")
    parser.add_argument(
        "--orgs",
        type=int,
        help="instead of the demo, bench/scale.py's synthetic city of this many organizations "
        "(50000: the city scale of issue 18), built as of the same day",
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--due", type=date.fromisoformat, default=date(2026, 11, 10))
    parser.add_argument(
        "--on-time",
        action="store_true",
        help="made on the report day at 18:05, as the scheduler makes it (default: on 11-22)",
    )
    parser.add_argument("--profile", type=Path, help="cProfile one more end-to-end run")
    parser.add_argument(
        "--reuse",
        type=Path,
        help="a copy of this SQLite file (an earlier run's bench.db, printed at its start) "
        "instead of loading the demo again (size 15.2 takes minutes)",
    )
    parser.add_argument("--peak-of", nargs=2, metavar=("URL", "STORAGE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    day, moment = DEMO_DAY, MOMENT
    if args.on_time:
        day, moment = args.due, datetime.combine(args.due, ON_TIME, ZONE)
        if os.environ.get(clock.TEST_CLOCK_ENV) != moment.isoformat():
            # The campaign's clock is read when it is imported: run again with it moved.
            env = {**os.environ, clock.TEST_CLOCK_ENV: moment.isoformat()}
            os.execve(sys.executable, [sys.executable, __file__, *sys.argv[1:]], env)
    if args.peak_of:
        peak_of(*args.peak_of, args.due, moment)
        return
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 (dev dependency)

    host = machine()
    print(host, file=sys.stderr)

    tmp = Path(tempfile.mkdtemp(prefix="gongjian-bench-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    print(f"database: {tmp / 'bench.db'}", file=sys.stderr)
    if args.reuse:
        shutil.copyfile(args.reuse, tmp / "bench.db")
    app = make_app(url, tmp / "storage")
    with app.app_context(), sync_playwright() as playwright:
        t = time.perf_counter()
        if args.reuse:
            campaign = db.session.scalars(select(Campaign)).one()
        elif args.orgs:
            import scale  # noqa: PLC0415 (bench/scale.py, beside this script)

            db.create_all()
            campaign = scale.build(db.session, args.orgs, day, log=lambda m: None)
            db.session.commit()
        else:
            db.create_all()
            campaign = demo.load(db.session, today=day, size=args.size)
            db.session.commit()
        orgs = db.session.scalar(select(func.count()).select_from(Organization))
        print(
            f"demo: {orgs} organizations {'reused' if args.reuse else 'loaded'} in "
            f"{time.perf_counter() - t:.1f} s, peak RSS {peak_rss_mb():.0f} MB",
            file=sys.stderr,
        )
        rss_after_load = peak_rss_mb()

        settings = services.settings_from(app.config)
        t = time.perf_counter()
        n = publish_earlier(campaign, args.due, settings)
        events.deliver_now(app)
        print(
            f"{n} earlier bulletins published in {time.perf_counter() - t:.1f} s",
            file=sys.stderr,
        )
        number, period = services.numbered_period(campaign, args.due)
        cutoff = snapshot.cutoff_of(campaign, args.due, settings.at)
        assert cutoff <= moment, "the bench produces bulletins whose cut-off has passed"

        earlier = services.earlier_snapshots(db.session, campaign, args.due)
        data = snapshot.build(db.session, campaign, period, number, cutoff, earlier)
        document = render.html(data)
        listed = sum(
            1
            for rows in snapshot.lists(db.session, campaign, period, cutoff).values()
            for _ in rows
        )
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])

        def gather():
            snapshot.build(db.session, campaign, period, number, cutoff, earlier)

        def make_html():
            render.html(data)

        def bare():
            return weasyprint.HTML(string=document).render().write_pdf()

        def ours():
            return render.pdf(document)

        def workbook():
            attachment.write(data, snapshot.lists(db.session, campaign, period, cutoff))

        def chromium():
            page = browser.new_page()
            try:
                page.set_content(document, wait_until="load")
                return page.pdf(prefer_css_page_size=True, print_background=True)
            finally:
                page.close()

        pdf_ready: list[float] = []
        published_at: list[float] = []
        published_cpu: list[float] = []

        def end_to_end():
            start, start_cpu = time.perf_counter(), time.process_time()

            def heard(step, percent):
                if step == PDF_READY:
                    pdf_ready.append(time.perf_counter() - start)
                elif step == PUBLISHED:
                    published_at.append(time.perf_counter() - start)
                    published_cpu.append(time.process_time() - start_cpu)

            return services.generate(
                db.session, campaign, args.due, settings, "cli", moment=moment, progress=heard
            )

        def distribution():
            events.deliver_now(app)

        bare_name, chromium_name, e2e_name = (
            "bare WeasyPrint render + write_pdf (reference)",
            "Chromium print of the same HTML (Playwright page.pdf)",
            "end to end: services.generate (PDF + xlsx published)",
        )
        # The bare render right before the end to end: each round's ratio pairs measurements
        # taken within a second of each other, so a change in the machine's speed (a shared
        # host's load moves within seconds) touches the reference and the end to end alike.
        # Chromium first, so that nothing it may still do after its print overlaps either.
        steps = {
            chromium_name: (chromium, None),
            "gather: snapshot.build": (gather, None),
            "html: render.html (template + charts)": (make_html, None),
            "render.pdf (checks + render + write)": (ours, None),
            "attachment: lists read + attachment.write": (workbook, None),
            bare_name: (bare, None),
            e2e_name: (end_to_end, lambda: clear(args.due)),
            "distribution: the published bulletin's notifications delivered": (
                distribution,
                None,
            ),
        }
        timings: dict[str, list[float]] = {name: [] for name in steps}
        cpu: dict[str, list[float]] = {name: [] for name in steps}
        first: dict[str, float] = {}
        peaks: dict[str, float] = {}
        pages = chromium_pages = None
        for i in range(args.repeat + 1):
            for name, (fn, before) in steps.items():
                if before:
                    before()
                # Untimed: what the steps before left (the bare render's boxes, the
                # attachment's rows) collected, so that no step's collector walks another's.
                gc.collect()
                c, t = time.process_time(), time.perf_counter()
                result = fn()
                elapsed, used = time.perf_counter() - t, time.process_time() - c
                if i == 0:
                    first[name] = elapsed
                    peaks[name] = peak_rss_mb()
                else:
                    timings[name].append(elapsed)
                    cpu[name].append(used)
                if isinstance(result, Bulletin):
                    assert result.number == number and resolve(result.pdf_path).is_file()
                    pages = result.pdf_pages
                elif isinstance(result, render.Pdf):
                    pages = result.pages
                elif name == chromium_name:
                    chromium_pages = len(re.findall(rb"/Type\s*/Page(?!s)", result))
            print(f"round {i} done", file=sys.stderr)
        browser.close()
        published = db.session.scalar(select(func.count()).where(Bulletin.due_on == args.due))
        assert published == 1, published
        size_kb = (
            resolve(db.session.scalar(select(Bulletin.pdf_path).where(Bulletin.due_on == args.due)))
            .stat()
            .st_size
            / 1024
        )
        xlsx_kb = (
            resolve(
                db.session.scalar(select(Bulletin.xlsx_path).where(Bulletin.due_on == args.due))
            )
            .stat()
            .st_size
            / 1024
        )

        del pdf_ready[args.repeat + 1 :]  # the rounds' only
        del published_at[args.repeat + 1 :]
        del published_cpu[args.repeat + 1 :]
        # The end to end is the bundle published (wall and CPU time); generate returns once
        # the render's leftovers are collected after it.
        returned, timings[e2e_name] = timings[e2e_name], published_at[1:]
        first[e2e_name], cpu[e2e_name] = published_at[0], published_cpu[1:]
        profile_lines: list[str] = []
        if args.profile:
            clear(args.due)
            profiler = cProfile.Profile()
            profiler.runcall(end_to_end)
            profiler.dump_stats(args.profile)
            profile_lines = where_the_time_goes(args.profile)
        db.session.commit()
        db.engine.dispose()

    # A scheduler process's memory for one bulletin: a fresh process that only generates.
    child = subprocess.run(
        [
            sys.executable,
            __file__,
            "--due",
            args.due.isoformat(),
            *(["--on-time"] if args.on_time else []),
            "--peak-of",
            url,
            str(tmp / "storage"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    child_start, child_peak, worker_peak = (float(x) for x in child.stdout.split()[-3:])

    def ratios(of: str) -> list[float]:
        return [e / r for e, r in zip(timings[e2e_name], timings[of], strict=True)]

    bare_median = statistics.median(timings[bare_name])
    data_set = (
        "as reused"
        if args.reuse
        else f"bench/scale.py's city of {args.orgs:,}"
        if args.orgs
        else f"demo size {args.size:g}"
    )
    print(
        f"\n{orgs:,} organizations ({data_set}), SQLite, 第{number}期 "
        f"(report day {args.due}, made {moment:%m-%d %H:%M}), {pages} pages ({chromium_pages} from Chromium), "
        f"{size_kb:.0f} KB PDF, {xlsx_kb:.0f} KB xlsx of {listed:,} listed rows; "
        f"{args.repeat} timed rounds after one warm-up\n"
    )
    print(
        "| step | median s | p95 s | first (cold) s | × bare render | CPU s (median) "
        "| peak RSS MB after first |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, values in timings.items():
        median = statistics.median(values)
        print(
            f"| {name} | {median:.2f} | {p95(values):.2f} | {first[name]:.2f} "
            f"| {median / bare_median:.2f} | {statistics.median(cpu[name]):.2f} "
            f"| {peaks[name]:.0f} |"
        )
    print(
        f"| PDF ready inside end to end (progress {PDF_READY}) | "
        f"{statistics.median(pdf_ready[1:]):.2f} | {p95(pdf_ready[1:]):.2f} | {pdf_ready[0]:.2f} "
        f"| {statistics.median(pdf_ready[1:]) / bare_median:.2f} | | |"
    )
    print(
        "| generate returns (the render's leftovers collected after the publication) | "
        f"{statistics.median(returned):.2f} | {p95(returned):.2f} | | "
        f"{statistics.median(returned) / bare_median:.2f} | | |"
    )
    to_bare, to_chromium = ratios(bare_name), ratios(chromium_name)
    print(
        f"\nEnd to end / bare render, per round: {', '.join(f'{r:.2f}' for r in to_bare)}; "
        f"/ Chromium print: {', '.join(f'{r:.2f}' for r in to_chromium)}."
    )
    print(
        f"Peak RSS of this process after loading the demo: {rss_after_load:.0f} MB, at the "
        f"end {peak_rss_mb():.0f} MB. A fresh process that opens the database and generates "
        f"once: {child_start:.0f} MB before generating, peak {child_peak:.0f} MB; "
        + (
            f"its attachment's worker process peaked at {worker_peak:.0f} MB."
            if worker_peak
            else "no worker process (a campaign below attachment.WORKER_ORGS: written in the producing process)."
        )
    )
    for line in profile_lines:
        print(line)
    end = os.getloadavg()
    print(f"Machine: {host}; at the end {end[0]:.2f} {end[1]:.2f} {end[2]:.2f}.")
    print(
        f"bulletin: end-to-end {statistics.median(timings[e2e_name]):.2f} s = "
        f"{statistics.median(to_bare):.2f}× bare WeasyPrint render, "
        f"{statistics.median(to_chromium):.2f}× Chromium print of the same HTML"
    )


# Where an end-to-end run's time goes: the functions of the pipeline's parts, by cumulative
# time (the parts overlap: layout is inside render, charts inside html).
PARTS = [
    ("gather (snapshot.build)", "reports/snapshot.py", "build"),
    (
        "attachment lists read and spooled (Writing.feed_lists)",
        "reports/attachment.py",
        "feed_lists",
    ),
    (
        "the attachment from the spool (Writing.result: its worker awaited, or written here)",
        "reports/attachment.py",
        "result",
    ),
    ("html (render.html)", "reports/render.py", "html"),
    ("  of which charts (reports.charts)", "reports/charts.py", ("trend", "by_unit")),
    ("font and glyph checks", "reports/render.py", "refuse_unprintable"),
    ("WeasyPrint layout (HTML.render)", "weasyprint/__init__.py", "render"),
    ("WeasyPrint write_pdf", "weasyprint/document.py", "write_pdf"),
    ("  of which drawing the SVG charts", "weasyprint/svg/__init__.py", "draw"),
    ("  of which font subsetting", "weasyprint/pdf/fonts.py", "_harfbuzz_subset"),
    ("snapshot JSON (services.dumps)", "reports/services.py", "dumps"),
    ("files kept (storage.keep)", "campaign/core/storage.py", "keep"),
    ("commits (session.commit)", "sqlalchemy/orm/session.py", "commit"),
]


def where_the_time_goes(path: Path) -> list[str]:
    stats = pstats.Stats(str(path))
    total = stats.total_tt  # type: ignore[attr-defined]
    lines = [f"\ncProfile of one end-to-end run ({path}; {total:.2f} s under the profiler):\n"]
    lines += ["| part | cumulative s | share |", "|---|---:|---:|"]
    for label, file, function in PARTS:
        cumulative = sum(
            entry[3]
            for (name, _, func_name), entry in stats.stats.items()  # type: ignore[attr-defined]
            if name.endswith(file)
            and func_name in (function if isinstance(function, tuple) else (function,))
        )
        lines.append(f"| {label} | {cumulative:.2f} | {cumulative / total:.0%} |")
    return lines


if __name__ == "__main__":
    main()
