"""Time one bulletin of the demo city, step by step, against the bare WeasyPrint render.

    .venv/bin/python bench/bulletin.py [--size 1.0] [--repeat 5] [--due 2026-11-10]

Loads the demo campaign (size 1.0 = 3,300 organizations, as of 2026-11-22) into a fresh
SQLite file. Each round runs every step below in turn; round 0 is the warm-up (reported as
"first", with the peak RSS after it), then --repeat timed rounds:
  gather        reports.snapshot.build: the bulletin's data at the cut-off
  html          reports.render.html(snapshot): template and charts
  bare render   weasyprint.HTML(string=html).render().write_pdf() (the reference)
  checks        fonts.check() + fonts.missing_glyphs(html) alone
  render.pdf    reports.render.pdf(html): checks + render + write
  attachment    reports.attachment.write(snapshot, snapshot.lists(...)): the xlsx, its
                lists (closures, overdue items) read as rows and streamed into it
  end to end    services.generate: run row, gather, html, PDF, attachment, files, row,
                audit entry, event (the row, the runs and the files are deleted before each
                round, so every round really generates)
Reports median and p95 (nearest rank: the largest of 5), pages, peak RSS, and a one-off
render of the same HTML with the Noto CJK faces when they are installed (why the faces in
reports/fonts.py were chosen). Prints Markdown for BENCHMARKS.md.
"""

import argparse
import math
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pydyf
import weasyprint
from sqlalchemy import delete, func, select

from app import create_app
from campaign import demo
from campaign.core.extensions import db
from campaign.ledger.models import Organization
from reports import attachment, fonts, render, services, snapshot
from reports.models import Bulletin, BulletinRun

DEMO_DAY = date(2026, 11, 22)
NOTO = {
    fonts.SONG: "Noto Serif CJK SC",
    fonts.KAI: "Noto Serif CJK SC",
    fonts.HEI: "Noto Sans CJK SC",
}


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB: the process's high-water mark so far.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


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
    harfbuzz_subset = subprocess.run(
        ["sh", "-c", "ldconfig -p | grep -c libharfbuzz-subset"], capture_output=True, text=True
    ).stdout.strip()
    load = os.getloadavg()
    return (
        f"{len(os.sched_getaffinity(0))} CPUs (nproc), {cpu}, "
        f"{mem_kb / 2**20:.1f} GiB RAM; Python {platform.python_version()}, "
        f"WeasyPrint {weasyprint.__version__}, pydyf {pydyf.__version__}, "
        f"SQLite {sqlite3.sqlite_version}; libharfbuzz-subset "
        f"{'present' if harfbuzz_subset not in ('', '0') else 'MISSING'}; "
        f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def noto_families() -> list[str]:
    """The Noto CJK families fontconfig knows (empty when fonts-noto-cjk is not installed)."""
    if shutil.which("fc-list") is None:
        return []
    out = subprocess.run(
        ["fc-list", "--format", "%{family}\n"], capture_output=True, text=True, check=False
    ).stdout
    return sorted({f for line in out.splitlines() for f in line.split(",") if "Noto" in f})


def with_noto(document: str) -> str:
    """The same HTML with the CSS families swapped to Noto CJK (charts are paths: unchanged)."""
    for ours, noto in NOTO.items():
        document = document.replace(f'"{ours}"', f'"{noto}"')
    return document


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=float, default=1.0, help="demo size; 1.0 = 3,300 orgs")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--due", type=date.fromisoformat, default=date(2026, 11, 10))
    args = parser.parse_args()
    host = machine()
    print(host, file=sys.stderr)

    tmp = Path(tempfile.mkdtemp(prefix="gongjian-bench-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "STORAGE_PATH": str(tmp / "storage"),
            "JOBS_IN_BACKGROUND": False,
        }
    )
    with app.app_context():
        db.create_all()
        t = time.perf_counter()
        campaign = demo.load(db.session, today=DEMO_DAY, size=args.size)
        db.session.commit()
        orgs = db.session.scalar(select(func.count()).select_from(Organization))
        print(
            f"demo: {orgs} organizations in {time.perf_counter() - t:.1f} s, "
            f"peak RSS {peak_rss_mb():.0f} MB",
            file=sys.stderr,
        )
        rss_after_load = peak_rss_mb()

        settings = services.settings_from(app.config)
        number, period = services.numbered_period(campaign, args.due)
        cutoff = snapshot.cutoff_of(campaign, args.due, settings.at)
        # After the cut-off, so start_run accepts the period.
        moment = max(cutoff, datetime(2026, 11, 22, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))

        data = snapshot.build(db.session, campaign, period, number, cutoff, [])
        document = render.html(data)

        def gather():
            snapshot.build(db.session, campaign, period, number, cutoff, [])

        def make_html():
            render.html(data)

        def bare():
            return weasyprint.HTML(string=document).render().write_pdf()

        def checks():
            fonts.check()
            assert not fonts.missing_glyphs(document)

        def ours():
            return render.pdf(document)

        def workbook():
            attachment.write(data, snapshot.lists(db.session, campaign, period, cutoff))

        def clear():
            db.session.execute(delete(BulletinRun))
            db.session.execute(delete(Bulletin))
            db.session.commit()
            shutil.rmtree(settings.storage / "bulletins", ignore_errors=True)

        def end_to_end():
            return services.generate(db.session, campaign, args.due, settings, "cli", moment=moment)

        steps = {
            "gather: snapshot.build": (gather, None),
            "html: render.html": (make_html, None),
            "bare WeasyPrint render + write_pdf (reference)": (bare, None),
            "font + glyph checks alone": (checks, None),
            "render.pdf (checks + render + write)": (ours, None),
            "attachment: attachment.write (lists read + xlsx)": (workbook, None),
            "end to end: services.generate": (end_to_end, clear),
        }
        timings: dict[str, list[float]] = {name: [] for name in steps}
        first: dict[str, float] = {}
        peaks: dict[str, float] = {}
        rss_per_generate: list[float] = []
        pages = None
        # Round 0 is the warm-up (reported as "first"); the timed rounds run every step in
        # turn, so a change in the machine's load touches all steps alike.
        for i in range(args.repeat + 1):
            for name, (fn, before) in steps.items():
                if before:
                    before()
                t = time.perf_counter()
                result = fn()
                elapsed = time.perf_counter() - t
                if i == 0:
                    first[name] = elapsed
                    peaks[name] = peak_rss_mb()
                else:
                    timings[name].append(elapsed)
                if isinstance(result, Bulletin):
                    assert result.number == number and Path(result.pdf_path).is_file()
                    pages = result.pdf_pages
                    rss_per_generate.append(rss_mb())
                elif isinstance(result, render.Pdf):
                    pages = result.pages
            print(f"round {i} done", file=sys.stderr)
        published = db.session.scalar(select(func.count()).select_from(Bulletin))
        assert published == 1, published
        size_kb = Path(db.session.scalar(select(Bulletin.pdf_path))).stat().st_size / 1024

        noto = noto_families()
        if {"Noto Serif CJK SC", "Noto Sans CJK SC"} <= set(noto):
            t = time.perf_counter()
            rendered = weasyprint.HTML(string=with_noto(document)).render()
            noto_pdf = rendered.write_pdf()
            noto_line = (
                f"Same HTML with Noto Serif/Sans CJK SC (bare WeasyPrint, one run): "
                f"{time.perf_counter() - t:.2f} s, {len(rendered.pages)} pages, "
                f"{len(noto_pdf) / 1024:.0f} KB (ours: median "
                f"{statistics.median(timings['bare WeasyPrint render + write_pdf (reference)']):.2f} s)."
            )
        else:
            noto_line = (
                "Noto CJK comparison not run: fonts-noto-cjk is not installed here "
                f"(fc-list lists no 'Noto Serif CJK SC'/'Noto Sans CJK SC'; Noto families "
                f"found: {', '.join(noto) or 'none'})."
            )

    bare_times = timings["bare WeasyPrint render + write_pdf (reference)"]
    bare_median = statistics.median(bare_times)
    ratios = [
        e / b for e, b in zip(timings["end to end: services.generate"], bare_times, strict=True)
    ]
    print(
        f"\n{orgs} organizations (demo size {args.size:g}), SQLite, 第{number}期 "
        f"(report day {args.due}), {pages} pages, {size_kb:.0f} KB; "
        f"{args.repeat} timed runs each after one warm-up\n"
    )
    print("| step | median s | p95 s | first (cold) s | × bare render | peak RSS MB after first |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, values in timings.items():
        median = statistics.median(values)
        print(
            f"| {name} | {median:.2f} | {p95(values):.2f} | {first[name]:.2f} "
            f"| {median / bare_median:.2f} | {peaks[name]:.0f} |"
        )
    print(
        f"\nPeak RSS after loading the demo: {rss_after_load:.0f} MB; "
        f"at the end: {peak_rss_mb():.0f} MB. Resident set after each generate "
        "(warm-up first): " + ", ".join(f"{r:.0f}" for r in rss_per_generate) + " MB."
    )
    print(
        f"End to end / bare render, per round: {', '.join(f'{r:.2f}' for r in ratios)} "
        f"(median {statistics.median(ratios):.2f})."
    )
    print(noto_line)
    end = os.getloadavg()
    print(f"Machine: {host}; at the end {end[0]:.2f} {end[1]:.2f} {end[2]:.2f}.")


if __name__ == "__main__":
    main()
