"""Time the hot paths at city and province scale: 50,000 or 1,000,000 organizations.

    .venv/bin/python bench/scale.py [--orgs 50000] [--repeat 20] [--database URL]
                                    [--bulletin-repeat 3] [--reuse] [--only WORD ...]

Builds a deterministic synthetic campaign (the demo city's 17 responsible units, their
streets and parks; enterprises and social organizations drawn like campaign.demo's rows,
with sizes, members, Party-org states and founding dates spread over the campaign; the
rules' verdicts stored with ledger.services.apply_rules; board items as board.services.sync_items would
sync them, the Party orgs set up during the campaign closed by verified closures; two spot
checks; the deliverables and half-monthly reports up to today). On PostgreSQL the rows go
in with COPY through the raw psycopg connection, then VACUUM ANALYZE; on SQLite with
multi-row executemany.

Then each hot path is timed through the app (Flask test client: routing, queries,
template, so the time is the server's), after one warm-up, --repeat times (the bulletin
steps --bulletin-repeat times), next to a reference measured in the same run:
  bare SQL      the statement behind figures.overall (and figures.by_unit's GROUP BY),
                a sum over the tally (ledger_counts), compiled once and run on the raw
                DBAPI cursor; also the aggregate over the whole ledger it replaced
  minimal Flask a trivial route registered on the same app, served the same way
  bare render   weasyprint.HTML(string=html).render().write_pdf() of the bulletin's HTML
  bare xlsx     the attachment's listed rows (read beforehand) written by openpyxl write-only
The SQL statements each request issues are counted (one extra untimed request).
Prints Markdown for BENCHMARKS.md.

--reuse times the campaign an earlier run left in --database instead of building it again
(a 1,000,000-organization build takes minutes); --only times only the cases whose name
contains one of the words (and their references), e.g. --only bulletin.
"""

import argparse
import io
import math
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import openpyxl
import sqlalchemy
import weasyprint
from pypdf import PdfWriter
from sqlalchemy import JSON, delete, event, func, insert, select, text

from app import create_app
from campaign import audit, figures, rules, rulesets
from campaign.board import services as board
from campaign.board.models import BOARD_TALLY, BoardItem, Closure, SizeMode
from campaign.core import clock
from campaign.core import statistics as planner_statistics
from campaign.core.accounts import create_user, issue_token
from campaign.core.campaigns import build_deadline, create_from_template
from campaign.core.db import json_dumps
from campaign.core.extensions import db
from campaign.core.models import (
    Campaign,
    Unit,
    User,
)
from campaign.core.vocab import OrgKind
from campaign.demo import (
    DEMO_PASSWORD,
    DISTRICTS,
    _history,
    _person,
    _synthetic_org,
    approve_ledgers,
    create_units,
    demo_users,
    registration_level,
)
from campaign.forecast import services as forecast
from campaign.half_monthly import services as half_monthly
from campaign.home import todo
from campaign.ledger.models import Organization
from campaign.ledger.services import apply_rules
from campaign.quality import services as quality
from reports import attachment, render, services, snapshot
from reports.models import Bulletin, BulletinRun

SEED = 20160814
CHUNK = 20_000
# The demo city's proportions (campaign.demo.load at size 1.0 = 3,300 organizations).
DEMO_PLAN = [(code, 170, 40) for code, *_ in DISTRICTS] + [("mzj", 0, 60), ("jggw", 0, 90)]


def _pdf() -> bytes:
    """A one-page PDF: uploads are opened with pypdf before they are kept."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = _pdf()


# ---- building -------------------------------------------------------------------------


def _defaults(table) -> dict:
    """Every column's Python-side default, so COPY rows are complete like ORM inserts."""
    out = {}
    for column in table.c:
        if column.default is None:
            out[column.key] = None
        elif column.default.is_callable:
            out[column.key] = column.default.arg(None)
        else:
            value = column.default.arg
            out[column.key] = getattr(value, "value", value)
    return out


def bulk(session, model, rows: list[dict]) -> None:
    """Insert ``rows`` (ids given): COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    table = model.__table__
    defaults = _defaults(table)
    full = [{**defaults, **row} for row in rows]
    if session.get_bind().dialect.name == "postgresql":
        keys = [c.key for c in table.c]
        names = ", ".join(f'"{c.name}"' for c in table.c)
        # COPY takes JSON columns' text, as the engine writes it.
        as_json = {c.key for c in table.c if isinstance(c.type, JSON)}
        raw = session.connection().connection.driver_connection
        with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in full:
                copy.write_row([json_dumps(row[k]) if k in as_json else row[k] for k in keys])
    else:
        for start in range(0, len(full), 5000):
            session.execute(insert(table), full[start : start + 5000])


def _plan(n: int) -> list[tuple[str, int, int]]:
    """(unit code, enterprises, social orgs) summing exactly to ``n``, in the demo's shares."""
    total = sum(e + s for _, e, s in DEMO_PLAN)
    plan = [(code, e * n // total, s * n // total) for code, e, s in DEMO_PLAN]
    short = n - sum(e + s for _, e, s in plan)
    code, e, s = plan[0]
    plan[0] = (code, e + short, s)
    return plan


def build(session, n: int, today: date, log=print) -> Campaign:
    """The synthetic campaign of ``n`` organizations as of ``today`` (deterministic)."""
    rng = random.Random(SEED)
    items_rng = random.Random(SEED + 1)
    units = create_units(session)
    campaign = create_from_template(session, "wuhan-2016", today.year, user="bench")
    tz = ZoneInfo(campaign.timezone)
    campaign.created_at = datetime.combine(campaign.starts_on, clock_time(0), tzinfo=tz)
    build_start = next(p.starts_on for p in campaign.phases if p.code == "build")
    span = (build_deadline(campaign) - build_start).days
    progress = max(0.0, min(1.0, (today - build_start).days / span))
    window = (build_start, min(today, campaign.ends_on))
    rule_set = rulesets.rule_set_of(campaign)
    session.flush()

    serial = item_id = 0
    orgs: list[dict] = []
    items: list[dict] = []
    closures: list[dict] = []
    counts = {"organizations": 0, "items": 0, "closures": 0}

    def flush() -> None:
        bulk(session, Organization, orgs)
        bulk(session, BoardItem, items)
        bulk(session, Closure, closures)
        counts["organizations"] += len(orgs)
        counts["items"] += len(items)
        counts["closures"] += len(closures)
        orgs.clear(), items.clear(), closures.clear()

    t = time.perf_counter()
    for code, n_enterprises, n_social in _plan(n):
        unit = units[code]
        areas = [u for u in units.values() if u.parent_id == unit.id]
        skill = rng.uniform(0.7, 1.0)
        for kind, count in ((OrgKind.ENTERPRISE, n_enterprises), (OrgKind.SOCIAL, n_social)):
            level = registration_level(unit, kind)
            for _ in range(count):
                if len(orgs) >= CHUNK:
                    flush()
                    if counts["organizations"] % 200_000 == 0:
                        log(f"  {counts['organizations']} rows, {time.perf_counter() - t:.0f} s")
                serial += 1
                area = rng.choice(areas) if areas else None
                org = _synthetic_org(rng, serial, kind, unit, area, level, skill, progress, window)
                org.update(apply_rules(org, rule_set), id=serial, campaign_id=campaign.id)
                orgs.append(org)
                if not org["in_base"]:
                    continue
                item = dict(
                    campaign_id=campaign.id,
                    unit_id=unit.id,
                    organization_id=serial,
                    kind=org["kind"],
                    target=org["target"],
                    path=org["path"],
                    measures=org["measures"],
                    planned_on=org["planned_on"],
                    responsible_person=org["responsible_person"],
                )
                founded = org["party_org_founded_on"]
                if founded is not None and founded >= build_start:
                    # Set up during the campaign: a closed item with its verified closure.
                    item_id += 1
                    at = datetime.combine(founded, clock_time(items_rng.randint(9, 17)), tz)
                    after = {f: org[f] for f in board.PARTY_FIELDS}
                    before = {**after, "party_org_status": "none", "party_org_name": ""}
                    before["party_org_founded_on"] = None
                    items.append({**item, "id": item_id, "state": "closed"})
                    closures.append(
                        dict(
                            id=item_id,
                            item_id=item_id,
                            method=org["party_org_status"],
                            party_org_name=org["party_org_name"],
                            established_on=founded,
                            formal_members=org["formal_members"],
                            secretary=_person(items_rng),
                            document_name="（合成数据无附件）",
                            status="verified",
                            submitted_at=at,
                            decided_at=at + timedelta(days=1),
                            ledger_before={str(serial): {"before": before, "after": after}},
                        )
                    )
                    continue
                requirement = rules.evaluate(SimpleNamespace(**org), rule_set)
                if rules.meets(SimpleNamespace(**org), requirement):
                    continue
                item_id += 1
                item.update(id=item_id, state="todo")
                if items_rng.random() < 0.45:
                    item["state"] = "in_progress"
                    item["measures"] = (
                        item["measures"] or "选派党建工作指导员，联系上级党组织，推进联合组建"
                    )
                if item["planned_on"] is None:
                    item["planned_on"] = build_start + timedelta(days=items_rng.randint(20, 110))
                items.append(item)
    flush()
    log(f"  ledger, items, closures: {counts} in {time.perf_counter() - t:.0f} s")
    if session.get_bind().dialect.name == "postgresql":
        for table in ("organization", "board_item", "closure"):
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
            )
    # COPY bypasses the ORM: both tallies are recounted before the commit.
    figures.stale(session, campaign)
    BOARD_TALLY.stale(session, campaign)
    # Committed, then analyzed as after a real bulk import (campaign.core.statistics; here
    # at once, whether jobs run inline or not): without statistics PostgreSQL planned the
    # spot-check draw below as a nested loop over every closure, which ran for more than 5
    # minutes at 1,000,000, and SQLite read the ledger through an index on campaign_id.
    session.commit()
    planner_statistics.analyze(session.get_bind())

    responsible = [units[code] for code, *_ in DEMO_PLAN]
    approve_ledgers(session, campaign, responsible, today)
    audit.record(
        session,
        user="bench",
        action="demo.load",
        obj_type="campaign",
        obj_id=campaign.id,
        after={"organizations": n},
    )
    for username, role, unit_code, name in demo_users():
        email = f"{username}@gongjian.example"
        create_user(
            session,
            *(username, role, DEMO_PASSWORD, unit_code, name, email),
            actor="bench",
            published_password=True,
        )
    session.flush()
    t = time.perf_counter()
    _history(session, campaign, responsible, rng, today)
    log(f"  deliverables and half-monthly reports in {time.perf_counter() - t:.0f} s")
    admin = session.scalar(select(User).where(User.username == "admin"))
    board.draw(session, campaign, None, SizeMode.COUNT, 40, admin, seed=1, note="全市随机抽查")
    board.draw(session, campaign, [units["jiangan"].id], SizeMode.PERCENT, 2, admin, seed=2)
    session.commit()
    return campaign


# ---- timing ---------------------------------------------------------------------------


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def machine(url: str) -> str:
    cpu = next(
        line.split(":", 1)[1].strip()
        for line in Path("/proc/cpuinfo").read_text().splitlines()
        if line.startswith("model name")
    )
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    if url.startswith("postgresql"):
        version = db.session.scalar(text("SHOW server_version"))
        backend = f"PostgreSQL {version}"
    else:
        backend = f"SQLite {sqlite3.sqlite_version}"
    return (
        f"{os.cpu_count()} CPUs (nproc), {cpu}, {mem_kb / 2**20:.1f} GiB RAM; "
        f"Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, {backend}, "
        f"WeasyPrint {weasyprint.__version__}"
    )


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def quality_cases(in_context, get, cid, pdf_ref, flask_ref, repeat) -> dict:
    """The data-quality signals: every detector (the scheduler's job, not a page view), and
    the 数据质量 page reading what it stored."""

    @in_context
    def detect(campaign):
        quality.detect(db.session, campaign)
        db.session.rollback()

    @in_context
    def refresh(campaign):
        quality.refresh(db.session, campaign, "bench")
        db.session.commit()

    def detector(fn):
        @in_context
        def run(campaign):
            takes_today = "today" in fn.__code__.co_varnames[: fn.__code__.co_argcount]
            fn(db.session, campaign, *([clock.today()] if takes_today else []))
            db.session.rollback()

        return run

    names = (
        "evidence_reused",
        "founding_burst",
        "quick_verification",
        "members_to_threshold",
        "employees_below_threshold",
        "same_person",
        "frequent_edits",
        "high_exclusion",
        "inconsistent_rows",
        "founded_after_counted",
    )
    refresh()  # stored once, for the page
    return {
        # Each detector alone (inconsistent_rows is two signals' statements).
        **{
            f"data-quality signal detector quality.{name}": (
                detector(getattr(quality, name)),
                pdf_ref,
                repeat,
            )
            for name in names
        },
        "data-quality signals: quality.detect (every detector)": (detect, pdf_ref, repeat),
        "数据质量 page /campaigns/<id>/quality": (
            get(f"/campaigns/{cid}/quality"),
            flask_ref,
            repeat,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orgs", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--bulletin-repeat", type=int, default=3)
    parser.add_argument("--database", default=None, help="default: a temporary SQLite file")
    parser.add_argument(
        "--reuse", action="store_true", help="time the campaign already in --database"
    )
    parser.add_argument("--only", nargs="+", default=None, help="cases whose name has a word")
    args = parser.parse_args()
    if args.reuse and not args.database:
        parser.error("--reuse needs --database (a temporary SQLite file is always empty)")
    tmp = Path(tempfile.mkdtemp(prefix="gongjian-scale-"))
    url = args.database or f"sqlite:///{tmp / 'bench.db'}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "WTF_CSRF_ENABLED": False,
            "STORAGE_PATH": str(tmp / "storage"),
            "JOBS_IN_BACKGROUND": False,
        }
    )
    # The reference for request overhead: a trivial endpoint served by the same app.
    app.add_url_rule("/bench/ping", "bench_ping", lambda: "ok")
    statements = [0]

    def count_statement() -> None:
        statements[0] += 1

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", lambda *a: count_statement())
        today = clock.today()
        t = time.perf_counter()
        if args.reuse:
            cid = db.session.scalars(select(Campaign.id).order_by(Campaign.id)).one()
            orgs = db.session.scalar(select(func.count()).select_from(Organization))
            if orgs != args.orgs:
                sys.exit(f"--reuse: the database holds {orgs} organizations, not {args.orgs}")
        else:
            db.drop_all()
            db.create_all()
            campaign = build(db.session, args.orgs, today, log=lambda m: print(m, file=sys.stderr))
            cid = campaign.id
        db.session.close()
        if url.startswith("postgresql"):
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        built_s = time.perf_counter() - t
        campaign = db.session.get(Campaign, cid)
        n_items = db.session.scalar(select(func.count()).select_from(BoardItem))
        n_closures = db.session.scalar(select(func.count()).select_from(Closure))
        print(f"built in {built_s:.0f} s: {n_items} items, {n_closures} closures", file=sys.stderr)
        # What the scheduler keeps for the pages on a live system (the kept forecast, the
        # data-quality signals), computed once here as its jobs do; the pages read them.
        kept_s = {}
        for job, keep in (
            ("forecast.refresh", lambda: forecast.refresh(db.session, campaign)),
            ("quality.refresh", lambda: quality.refresh(db.session, campaign, "bench")),
        ):
            t = time.perf_counter()
            keep()
            db.session.commit()
            kept_s[job] = time.perf_counter() - t
            print(f"{job}: {kept_s[job]:.1f} s", file=sys.stderr)
        db.session.close()
        if url.startswith("postgresql"):  # as autovacuum would after the jobs' writes
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        campaign = db.session.get(Campaign, cid)
        host = machine(url)
        unit_id, unit_code, unit_orgs = db.session.execute(
            select(Unit.id, Unit.code, func.count())
            .join(Organization, Organization.unit_id == Unit.id)
            .group_by(Unit.id, Unit.code)
            .order_by(func.count().desc(), Unit.id)
            .limit(1)
        ).one()
        open_items = list(
            db.session.scalars(
                select(BoardItem.id)
                .where(BoardItem.unit_id == unit_id, BoardItem.state.in_(board.OPEN_STATES))
                .order_by(BoardItem.id)
                .limit(args.repeat + 2)
            )
        )
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        token = issue_token(db.session, admin)
        db.session.commit()

        # The bare SQL behind the figures, compiled once, run on the raw DBAPI cursor.
        def literal(stmt) -> str:
            return str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))

        # What the pages run: sums over the tally (figures._statement, as_of=None) ...
        overall_sql = literal(figures._statement(campaign, None, None, None)[0])
        per_unit_sql = literal(figures._statement(campaign, "unit", None, None)[0])
        # ... and what they ran before it: the aggregate over every organization.
        scan_sql = literal(
            figures._scoped(
                select(Organization.unit_id, *figures._sums(campaign, None)), campaign, None
            ).group_by(Organization.unit_id)
        )
        settings = services.settings_from(app.config)
        # The bulletin of the last report day whose cut-off has passed.
        due_on = max(
            p.due_on
            for p in half_monthly.periods(campaign)
            if snapshot.cutoff_of(campaign, p.due_on, settings.at) < clock.now()
        )
        number, bulletin_period = services.numbered_period(campaign, due_on)
        cutoff = snapshot.cutoff_of(campaign, due_on, settings.at)
        bulletin_data = snapshot.build(
            db.session, campaign, bulletin_period, number, cutoff, [], clock.now()
        )
        document = render.html(bulletin_data)
        listed = {
            key: list(rows)
            for key, rows in snapshot.lists(db.session, campaign, bulletin_period, cutoff).items()
        }
        # The earlier bulletins' snapshots, as a campaign that published them reads them back.
        earlier = []
        for p in half_monthly.periods(campaign):
            if p.due_on < due_on:
                n, of = services.numbered_period(campaign, p.due_on)
                at = snapshot.cutoff_of(campaign, p.due_on, settings.at)
                earlier.append(snapshot.build(db.session, campaign, of, n, at, list(earlier), at))
        period = half_monthly.current_period(campaign, today) or half_monthly.periods(campaign)[-1]
        db.session.rollback()
    # From here on no application context is pushed outside each call: the test client
    # pushes its own per request (as a server would), and the in-process steps get a fresh
    # one each, so nothing is served from an identity map left by an earlier call.
    item_page = open_items[0]
    to_close = iter(open_items[1:])
    client = app.test_client()
    response = client.post("/login", data={"username": "zhuanban", "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.status_code
    bearer = {"Authorization": f"Bearer {token}"}

    def get(path, headers=None):
        def run():
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.status_code)

        return run

    def close_one():
        item = next(to_close)
        response = client.post(
            f"/api/v1/campaigns/{cid}/items/{item}/closures",
            headers=bearer,
            data={
                "method": "standalone",
                "party_org_name": f"中共合成{item}支部委员会",
                "secretary": "张三",
                "formal_members": "3",
                "established_on": (today - timedelta(days=3)).isoformat(),
                "document": (io.BytesIO(PDF), "批复.pdf"),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 201, (response.status_code, response.get_data(True))

    raw = engine.raw_connection()

    def bare(sql):
        def run():
            cur = raw.cursor()
            cur.execute(sql)
            cur.fetchall()
            cur.close()
            raw.rollback()

        return run

    def in_context(fn):
        def run():
            with app.app_context():
                fn(db.session.get(Campaign, cid))

        return run

    @in_context
    def report_snapshot(campaign):
        unit = db.session.get(Unit, unit_id)
        half_monthly.snapshot(db.session, campaign, unit, period, clock.now())

    @in_context
    def coordinator_todo(campaign):
        with app.test_request_context():
            todo.coordinator_home(db.session, campaign, clock.now(campaign.timezone))

    @in_context
    def bulletin_forecast(campaign):
        # Alone, with its own figures as of the cut-off (the gather passes it the units' rows
        # it has read already).
        forecast.forecast(
            db.session, campaign, as_of=cutoff.astimezone(ZoneInfo(campaign.timezone)).date()
        )

    @in_context
    def gather(campaign):
        snapshot.build(db.session, campaign, bulletin_period, number, cutoff, [], clock.now())

    @in_context
    def gather_after_earlier(campaign):
        snapshot.build(db.session, campaign, bulletin_period, number, cutoff, earlier, clock.now())

    def bare_render():
        weasyprint.HTML(string=document).render().write_pdf()

    @in_context
    def write_attachment(campaign):
        lists = snapshot.lists(db.session, campaign, bulletin_period, cutoff)
        attachment.write(bulletin_data, lists)

    def bare_xlsx():
        wb = openpyxl.Workbook(write_only=True)
        for rows in listed.values():
            ws = wb.create_sheet()
            for row in rows:
                ws.append(row)
        wb.save(io.BytesIO())

    @in_context
    def generate(campaign):
        db.session.execute(delete(BulletinRun))
        db.session.execute(delete(Bulletin))
        db.session.commit()
        shutil.rmtree(settings.storage / "bulletins", ignore_errors=True)
        services.generate(db.session, campaign, due_on, settings, "cli")

    flask_ref = "minimal Flask endpoint"
    all_ref = "bare SQL: figures overall (tally)"
    unit_ref = "bare SQL: figures per unit (tally)"
    pdf_ref = "bare WeasyPrint render"
    xlsx_ref = "bare xlsx: the listed rows, openpyxl write-only"
    board_url = f"/campaigns/{cid}/units/{unit_code}/board"
    # name -> (fn, reference, repetitions)
    cases = {
        flask_ref: (get("/bench/ping"), None, args.repeat),
        all_ref: (bare(overall_sql), None, args.repeat),
        unit_ref: (bare(per_unit_sql), None, args.repeat),
        "bare SQL: ledger scan per unit (no tally)": (bare(scan_sql), None, args.repeat),
        "overview /campaigns/<id>": (get(f"/campaigns/{cid}"), unit_ref, args.repeat),
        "figures API (bearer token)": (
            get(f"/api/v1/campaigns/{cid}/figures", bearer),
            all_ref,
            args.repeat,
        ),
        "city board": (get(f"/campaigns/{cid}/board"), unit_ref, args.repeat),
        "coordinator 待办: todo.coordinator_home (in the overview)": (
            coordinator_todo,
            flask_ref,
            args.repeat,
        ),
        f"unit board {unit_code}, page 1": (get(board_url), flask_ref, args.repeat),
        f"unit board {unit_code}, ?overdue=1": (
            get(board_url + "?overdue=1"),
            flask_ref,
            args.repeat,
        ),
        f"unit board {unit_code}, ?kind=social": (
            get(board_url + "?kind=social"),
            flask_ref,
            args.repeat,
        ),
        "item page": (get(f"/campaigns/{cid}/items/{item_page}"), flask_ref, args.repeat),
        "closure submission (API, multipart PDF)": (close_one, flask_ref, args.repeat),
        f"report snapshot, half_monthly.snapshot ({unit_code})": (
            report_snapshot,
            all_ref,
            args.repeat,
        ),
        pdf_ref: (bare_render, None, args.bulletin_repeat),
        "bulletin forecast as of the cut-off: forecast.forecast, alone": (
            bulletin_forecast,
            pdf_ref,
            args.bulletin_repeat,
        ),
        "bulletin gather: reports.snapshot.build, no earlier bulletin": (
            gather,
            pdf_ref,
            args.bulletin_repeat,
        ),
        "bulletin gather: reports.snapshot.build, earlier bulletins published": (
            gather_after_earlier,
            pdf_ref,
            args.bulletin_repeat,
        ),
        xlsx_ref: (bare_xlsx, None, args.bulletin_repeat),
        "bulletin attachment: lists read + attachment.write": (
            write_attachment,
            xlsx_ref,
            args.bulletin_repeat,
        ),
        "bulletin generation: services.generate": (generate, pdf_ref, args.bulletin_repeat),
        **quality_cases(in_context, get, cid, pdf_ref, flask_ref, args.bulletin_repeat),
    }
    if args.only:
        kept = {name for name in cases if any(word in name for word in args.only)}
        kept |= {cases[name][1] for name in kept} - {None}
        cases = {name: case for name, case in cases.items() if name in kept}
    start_load = load()
    results = {}
    for name, (fn, ref, repeat) in cases.items():
        statements[0] = 0
        fn()  # warm-up, and the statements of one call
        per_call = statements[0]
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
        results[name] = (statistics.median(times), p95(times), ref, per_call, repeat)
        print(f"{name}: {statistics.median(times):.1f} ms", file=sys.stderr)
    raw.close()

    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(
        f"\n{args.orgs:,} organizations, {n_items:,} board items, {n_closures:,} closures, "
        f"{backend}; largest unit {unit_code} ({unit_orgs:,} organizations); "
        f"{'reused' if args.reuse else 'built'} in "
        f"{built_s:.0f} s; load average {start_load} at the start of timing, {load()} at the "
        f"end; the scheduler's jobs once before timing: "
        + ", ".join(f"{job} {secs:.1f} s" for job, secs in kept_s.items())
        + "\n"
    )
    print("| request | n | median ms | p95 ms | reference | × ref | SQL statements |")
    print("|---|---:|---:|---:|---|---:|---:|")
    for name, (median, top, ref, per_call, repeat) in results.items():
        ratio = f"{median / results[ref][0]:.1f}" if ref else "—"
        print(
            f"| {name} | {repeat} | {median:.1f} | {top:.1f} | {ref or '(reference)'} "
            f"| {ratio} | {per_call} |"
        )
    print(
        "\n× ref is median over the reference's median. SQL statements: one call, counted "
        "on the engine (the bare SQL references use the raw DBAPI cursor, so 0)."
    )
    print(f"\nMachine: {host}.")


if __name__ == "__main__":
    main()
