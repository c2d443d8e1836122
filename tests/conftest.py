"""Fixtures: an app per database backend, clients, and data builders.

Database tests run once per backend in TEST_DATABASES ("sqlite,postgresql"
under `make test`); TEST_POSTGRES_URL points at the throwaway server.
"""

import copy
import os
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

# GONGJIAN_TEST_CLOCK=2030-01-01T10:00+08:00 runs the whole suite as if it were that day
# (`make test` passes the environment on). In this process time-machine moves the clock for
# the session, so the variable is taken out of the environment before campaign.core.clock reads
# it; a test that starts a process hands it the moment it wants (tests.timeutil.clock_env).
SUITE_CLOCK = os.environ.pop("GONGJIAN_TEST_CLOCK", "")

import pytest  # noqa: E402
import time_machine  # noqa: E402
from flask import Flask, current_app, g  # noqa: E402
from sqlalchemy import create_engine, inspect, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from campaign.core.accounts import create_user  # noqa: E402
from campaign.core.campaigns import create_from_template  # noqa: E402
from campaign.core.db import Base  # noqa: E402
from campaign.core.errors import Conflict  # noqa: E402
from campaign.core.extensions import db  # noqa: E402
from campaign.core.models import Campaign, Unit  # noqa: E402
from campaign.core.vocab import UnitKind  # noqa: E402
from campaign.ledger.services import add_organization  # noqa: E402

BACKENDS = [b for b in os.environ.get("TEST_DATABASES", "sqlite").split(",") if b]
PASSWORD = "correct-horse-battery"


def _database_url(backend: str, tmp_path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    if backend == "postgresql":
        url = os.environ.get("TEST_POSTGRES_URL")
        if not url:
            pytest.fail("TEST_DATABASES names postgresql but TEST_POSTGRES_URL is not set")
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        return _worker_database(url, worker) if worker else url
    pytest.fail(f"unknown backend {backend!r} in TEST_DATABASES")


_worker_urls: dict[str, str] = {}


def _worker_database(url: str, worker: str) -> str:
    """Under pytest-xdist, a database of its own per worker (created once), since every test
    drops and recreates the schema."""
    if url not in _worker_urls:
        base = make_url(url)
        name = f"{base.database}_{worker}"
        engine = create_engine(base, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        _worker_urls[url] = base.set(database=name).render_as_string(hide_password=False)
    return _worker_urls[url]


# The schema every test starts from, as a digest of the catalog: tables, columns, indexes
# and constraints of the public schema.
_SCHEMA_DIGEST = text(
    """
    SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
        SELECT table_name || '.' || column_name || ':' || data_type || is_nullable
        FROM information_schema.columns WHERE table_schema = 'public'
        UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
        UNION ALL SELECT conname || pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    ) AS catalog(x)
    """
)
_clean_digests: dict[str, str] = {}  # database URL -> digest right after create_all


def _clean_postgresql() -> None:
    """An empty database with the models' schema for every test: the tables emptied (and
    their ids restarted) when the schema is as create_all left it, else the schema dropped
    and created again (a migration test, say, changed it)."""
    url = db.engine.url.render_as_string(hide_password=False)
    with db.engine.begin() as conn:
        kept = _clean_digests.get(url)
        if kept is not None and kept == conn.execute(_SCHEMA_DIGEST).scalar():
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            return
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.create_all()
    with db.engine.connect() as conn:
        _clean_digests[url] = conn.execute(_SCHEMA_DIGEST).scalar()


@pytest.fixture(scope="session", autouse=True)
def suite_clock():
    """The whole session at GONGJIAN_TEST_CLOCK, ticking on from there (when it is set).
    A test's own time travel (tests.timeutil.at) nests inside and wins."""
    if not SUITE_CLOCK:
        yield None
        return
    with time_machine.travel(datetime.fromisoformat(SUITE_CLOCK), tick=True):
        yield SUITE_CLOCK


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


def _fresh_g_per_request():
    # The app context of a test stays pushed for the whole test and the test client reuses
    # it, so ``g`` (Flask-Login's cached user, Flask-WTF's CSRF token) would carry one
    # request's user into the next, even across clients. Production has one context per
    # request; so do the tests. First of all the hooks, so none of the app's own (the forced
    # password change) reads the user of the request before.
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


# One application per backend and test process, built once: building one (the URL map's
# compiled rules, the OpenAPI document) costs about half a second, which the suite paid
# per test. Each test gets it with the configuration as built (its own changes undone), its
# own storage and mail folders, and an empty database (below).
_apps: dict[str, tuple[Flask, dict]] = {}


def _shared_app(backend: str, tmp_path_factory) -> tuple[Flask, dict]:
    if backend not in _apps:
        home = tmp_path_factory.mktemp(f"app-{backend}")
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test-secret",
                "SQLALCHEMY_DATABASE_URI": _database_url(backend, home),
                # Events are still written; their delivery after each commit is switched on
                # by the notification tests, so other tests run no background sender.
                "NOTIFY_AFTER_COMMIT": False,
                # Real hashing, but cheap: the suite creates hundreds of users.
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            }
        )
        app.before_request_funcs.setdefault(None, []).insert(0, _fresh_g_per_request)
        _apps[backend] = (app, copy.deepcopy(dict(app.config)))
    return _apps[backend]


_sqlite_schema: dict[str, int] = {}  # database URL -> PRAGMA schema_version after create_all


def _clean_sqlite() -> None:
    """An empty database with the models' schema: its tables emptied when the schema is as
    create_all left it (rowids then start again at 1), else the file made anew."""
    url = str(db.engine.url)
    with db.engine.begin() as conn:
        kept = _sqlite_schema.get(url)
        clean = kept is not None and kept == conn.exec_driver_sql("PRAGMA schema_version").scalar()
        if clean:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
            # The planner's statistics an earlier test's bulk write left (campaign.core.
            # statistics): none, as in a fresh database.
            analyzed = conn.exec_driver_sql("DELETE FROM sqlite_stat1").rowcount
    if clean:
        if analyzed:  # the pooled connections hold them as they were read: closed
            db.engine.dispose()
        return
    db.engine.dispose()
    Path(db.engine.url.database or "").unlink(missing_ok=True)
    db.create_all()
    with db.engine.begin() as conn:
        # sqlite_stat1 made now, empty: the first ANALYZE of a test (campaign.core.statistics)
        # would otherwise change the schema's version, and the next test make the file anew.
        conn.exec_driver_sql("ANALYZE")
        conn.exec_driver_sql("DELETE FROM sqlite_stat1")
    with db.engine.connect() as conn:
        _sqlite_schema[url] = conn.exec_driver_sql("PRAGMA schema_version").scalar()


@pytest.fixture
def app(backend, tmp_path, tmp_path_factory):
    from campaign.core import accounts

    app, built = _shared_app(backend, tmp_path_factory)
    app.config.clear()
    app.config.update(copy.deepcopy(built))
    app.config["STORAGE_PATH"] = str(tmp_path / "storage")
    app.config["MAIL_FOLDER"] = str(tmp_path / "mail")
    # create_app sets it from the configuration; a test's own create_app may have changed it.
    accounts.HASH_METHOD = app.config["PASSWORD_HASH_METHOD"]
    with app.app_context():
        if backend == "postgresql":
            _clean_postgresql()
        else:
            _clean_sqlite()
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()
            app.config.clear()
            app.config.update(copy.deepcopy(built))


# ---- data built once per process and copied back for later tests ------------------------------
#
# A module's tests often start from the same data (a ledger worked out by hand, the demo city),
# which took 0.1-3 s to build per test. ``built_once`` builds it the first time a process asks (per
# backend), keeps the database's content and the stored files as the build left them, and copies
# them back for every later test: the test starts from the same rows (the same ids, the same rows
# in the same order on disk, the sequences where the build left them), the same files, and the
# same value returned by the build. SQLite's file is copied whole (its planner's statistics too);
# PostgreSQL's tables are copied by COPY, which leaves its planner's statistics of them as for
# any emptied table (what the planner then chooses, not what a query returns).

T = TypeVar("T")


@dataclass
class _Kept:
    value: Any
    files: dict[tuple[str, str], bytes]  # (config key, path relative to its folder) -> content
    sqlite: sqlite3.Connection | None = None  # the database, copied into memory
    schema_as_built: bool = False  # SQLite: the copy's schema is the one create_all made
    tables: list[tuple[str, bytes]] | None = None  # PostgreSQL: (table, its rows as COPY data)
    sequences: list[tuple[str, int]] | None = None  # PostgreSQL: (sequence, its last value)


_kept: dict[tuple[str, str], _Kept] = {}
_FOLDERS = ("STORAGE_PATH", "MAIL_FOLDER")


@pytest.fixture
def built_once(app) -> Callable[[str, Callable[[], T]], T]:
    """``built_once(key, build)``: ``build()``'s value, with the database and the stored files
    as ``build`` left them.

    The first test of the process (per backend) that asks for ``key`` runs ``build``, which
    returns plain data (ids, numbers, tokens, or rows passed through ``refs``; no paths of its
    test); what it wrote is committed. Later tests get a copy of that value, and the database
    (emptied by the ``app`` fixture) and the folders of their own filled with what ``build``
    left there. ``build`` must depend on nothing but ``key``: the clock it runs at is its own
    (time travel), or it must not matter to the tests that share it.

    A fixture may build on what another one built (a draft on its ledger): its ``build`` starts
    from the database the other left, and is kept whole; copied back, that replaces the
    other's. The rows the test's session holds are read again from the copy.

    A fixture, not a function to import: test modules import this file again under another
    name (tests.conftest), and the state kept here is the one the ``app`` fixture uses.
    """
    used = False

    def built_once(key: str, build: Callable[[], T]) -> T:
        nonlocal used
        again, used = used, True
        return _built_once(key, build, again)

    return built_once


def _built_once(key: str, build: Callable[[], T], again: bool) -> T:
    slot = (key, db.engine.dialect.name)
    if slot not in _kept:
        value = build()
        db.session.commit()  # what the test would have read in its session: kept
        _kept[slot] = _keep(value)
        return copy.deepcopy(value)
    saved = _kept[slot]
    db.session.rollback()  # the rows it holds are read again from the copy
    if again and saved.sqlite is None:  # PostgreSQL's tables are filled by COPY: emptied first
        _clean_postgresql()
    _put_back(saved)
    return copy.deepcopy(saved.value)


def _keep(value: Any) -> _Kept:
    files = {}
    for name in _FOLDERS:
        folder = Path(current_app.config[name])
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    files[(name, str(path.relative_to(folder)))] = path.read_bytes()
    saved = _Kept(copy.deepcopy(value), files)
    raw = db.engine.raw_connection()
    try:
        if db.engine.dialect.name == "sqlite":
            version = raw.driver_connection.execute("PRAGMA schema_version").fetchone()[0]
            saved.schema_as_built = version == _sqlite_schema.get(str(db.engine.url))
            saved.sqlite = sqlite3.connect(":memory:")
            raw.driver_connection.backup(saved.sqlite)
        else:
            saved.tables, saved.sequences = [], []
            with raw.driver_connection.cursor() as cursor:
                for table in db.metadata.sorted_tables:  # parents before their children
                    cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{table.name}")')
                    if not cursor.fetchone()[0]:
                        continue
                    with cursor.copy(f'COPY "{table.name}" TO STDOUT (FORMAT BINARY)') as out:
                        data = b"".join(bytes(chunk) for chunk in out)
                    saved.tables.append((table.name, data))
                cursor.execute(
                    "SELECT sequencename, last_value FROM pg_sequences"
                    " WHERE schemaname = 'public' AND last_value IS NOT NULL"
                )
                saved.sequences = list(cursor.fetchall())
            raw.driver_connection.rollback()
    finally:
        raw.close()
    return saved


def _put_back(saved: _Kept) -> None:
    if saved.sqlite is not None:
        db.engine.dispose()
        raw = db.engine.raw_connection()
        try:
            saved.sqlite.backup(raw.driver_connection)
            # The copy moves the schema's version on (so that other connections read it again):
            # the schema is still the one create_all made, which the next test keeps.
            if saved.schema_as_built:
                version = raw.driver_connection.execute("PRAGMA schema_version").fetchone()[0]
                _sqlite_schema[str(db.engine.url)] = version
        finally:
            raw.close()
    else:
        raw = db.engine.raw_connection()
        try:
            with raw.driver_connection.cursor() as cursor:
                for name, data in saved.tables or []:
                    with cursor.copy(f'COPY "{name}" FROM STDIN (FORMAT BINARY)') as into:
                        into.write(data)
                for sequence, last in saved.sequences or []:
                    cursor.execute("SELECT setval(%s, %s, true)", (f'"{sequence}"', last))
            raw.driver_connection.commit()
        finally:
            raw.close()
    for (name, relative), content in saved.files.items():
        path = Path(current_app.config[name]) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


@pytest.fixture
def demo_city(built_once) -> Campaign:
    """The demo (campaign.demo, a fiftieth of its size) as loaded for 2026-11-22 with the clock
    stopped at 10:00 that day, built once per process: its campaign."""

    def build() -> int:
        from campaign import demo
        from tests.timeutil import at

        with at(2026, 11, 22, 10):
            campaign = demo.load(db.session, today=date(2026, 11, 22), size=0.02)
            db.session.commit()
            return campaign.id

    return db.session.get_one(Campaign, built_once("demo 2026-11-22 size 0.02", build))


@dataclass(frozen=True)
class _Row:
    cls: type
    key: Any


def refs(value: Any) -> Any:
    """``value`` as ``built_once`` keeps it: each row in it (also in a dict, list or tuple, or a
    SimpleNamespace) replaced by its class and primary key; ``loaded`` reads them again."""
    return _each(value, Base, lambda row: _Row(type(row), inspect(row).identity[0]))


def loaded(value: Any) -> Any:
    """What ``refs`` kept, its rows read in the test's session."""
    return _each(value, _Row, lambda kept: db.session.get(kept.cls, kept.key))


def _each(value: Any, kind: type, change: Callable[[Any], Any]) -> Any:
    """``value`` with ``change(v)`` for each ``v`` of ``kind`` in it, however nested."""
    if isinstance(value, kind):
        return change(value)
    if isinstance(value, SimpleNamespace):
        return SimpleNamespace(**_each(vars(value), kind, change))
    if isinstance(value, dict):
        return {k: _each(v, kind, change) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_each(v, kind, change) for v in value)
    return value


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the form at ``path``, as a browser would read it."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    """Log in through the real form (with its CSRF token)."""
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
    )


# ---- data builders (CTFd's gen_user style) ----------------------------------


def make_unit(
    code: str, name: str | None = None, kind=UnitKind.DISTRICT, parent=None, responsible=True
) -> Unit:
    unit = Unit(code=code, name=name or code, kind=kind, parent=parent, is_responsible=responsible)
    db.session.add(unit)
    db.session.flush()
    return unit


def make_user(username: str, role: str, unit: Unit | None = None, password: str = PASSWORD):
    return create_user(db.session, username, role, password, unit.code if unit else None)


def make_campaign(year: int = 2026, **settings):
    try:
        campaign = create_from_template(db.session, "wuhan-2016", year)
    except Conflict:
        # A campaign of the same name and year is not created twice (a form posted twice): a
        # test that makes several in one database names the others by their number.
        count = db.session.scalar(text("SELECT count(*) FROM campaign"))
        values = {"name": f"测试行动{count + 1}（{year}年）"}
        campaign = create_from_template(db.session, "wuhan-2016", year, values=values)
    for key, value in settings.items():
        setattr(campaign, key, value)
    db.session.flush()
    return campaign


_serial = iter(range(1, 10**7))


def make_org(
    campaign,
    unit: Unit,
    *,
    kind="enterprise",
    category="other",
    employees=10,
    formal=0,
    probationary=0,
    elsewhere=0,
    party_org="none",
    status="normal",
    level=None,
    instructor="",
    mass="",
    area=None,
    founded_on: date | None = None,
    name=None,
):
    from campaign.ledger import creditcode

    serial = next(_serial)
    return add_organization(
        db.session,
        campaign,
        dict(
            unit_id=unit.id,
            area_id=area.id if area else None,
            kind=kind,
            name=name or f"测试组织{serial}",
            credit_code=creditcode.make(serial),
            category=category,
            operating_status=status,
            registration_level=level,
            employees=employees,
            formal_members=formal,
            probationary_members=probationary,
            members_elsewhere=elsewhere,
            party_org_status=party_org,
            party_org_founded_on=founded_on,
            instructor=instructor,
            mass_organizations=mass,
        ),
        user=None,
    )


def approve_base(campaign, unit: Unit):
    """The unit's ledger submitted by its operator ("op") and approved by the coordinator
    ("coord"): its base is settled and the board holds its items. (coordinator, operator)."""
    from campaign.ledger import services as ledger

    coordinator = make_user("coord", "coordinator")
    operator = make_user("op", "operator", unit)
    unit_ledger = ledger.unit_ledger(db.session, campaign, unit)
    ledger.submit_ledger(db.session, unit_ledger, operator)
    ledger.approve_ledger(db.session, unit_ledger, coordinator)
    db.session.commit()
    return coordinator, operator


def open_items(campaign) -> dict[str, str]:
    """Organization name -> the target of its open board item (read afresh)."""
    from campaign.board.models import OPEN_STATES, BoardItem
    from campaign.ledger.models import Organization

    db.session.expire_all()
    rows = db.session.execute(
        select(Organization.name, BoardItem.target)
        .join(BoardItem, BoardItem.organization_id == Organization.id)
        .where(BoardItem.campaign_id == campaign.id, BoardItem.state.in_(OPEN_STATES))
    )
    return dict(rows.tuples().all())


def make_two_districts():
    """江岸区 (4 orgs, one a shell company, and the street 二七街道) and 武昌区 (2 orgs).

    江岸: 甲 120 staff, 3 formal, 单独组建 (founded 06-01); 乙 60 staff, 1 formal, 联合组建
    (founded 10-01); 丙 20 staff, 指导员 only; 丁 200 staff, 空壳 (out of the base).
    武昌: 甲 150 staff, nothing; 乙 律师事务所, 2 formal, 联合组建.
    """
    jiangan = make_unit("jiangan", "江岸区")
    wuchang = make_unit("wuchang", "武昌区")
    wuchang.position = 2
    make_unit("erqi", "二七街道", kind=UnitKind.STREET, parent=jiangan, responsible=False)
    campaign = make_campaign(2026)
    make_org(
        campaign,
        jiangan,
        name="江岸甲",
        employees=120,
        formal=3,
        party_org="standalone",
        founded_on=date(2026, 6, 1),
    )
    make_org(
        campaign,
        jiangan,
        name="江岸乙",
        employees=60,
        formal=1,
        party_org="joint",
        founded_on=date(2026, 10, 1),
    )
    make_org(campaign, jiangan, name="江岸丙", employees=20, instructor="张三")
    make_org(campaign, jiangan, name="江岸丁", employees=200, status="shell")
    make_org(campaign, wuchang, name="武昌甲", employees=150)
    make_org(
        campaign,
        wuchang,
        name="武昌乙",
        kind="social",
        category="law_firm",
        level="district",
        employees=10,
        formal=2,
        party_org="joint",
    )
    return SimpleNamespace(jiangan=jiangan, wuchang=wuchang, campaign=campaign)
