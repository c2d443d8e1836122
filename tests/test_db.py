"""insert_rows stores exactly what a Core insert of the same values stores, on either backend;
JSON columns store what the hand-written JSON stored."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import StatementError

from campaign import figures
from campaign.core.db import insert_rows, one_of
from campaign.core.extensions import db
from campaign.ledger.models import Organization
from notifications.models import Event
from tests.conftest import make_campaign, make_unit

STAMP = datetime(2026, 9, 10, 8, 30, 15, 123456, tzinfo=UTC)
REQUIRED = dict(
    district_name="",
    operating_status="normal",
    supervising_unit="",
    employees=0,
    formal_members=0,
    probationary_members=0,
    members_elsewhere=0,
    affiliation_settled=False,
    liaison_name="",
    liaison_unit="",
    investor="",
    party_org_status="none",
    party_org_name="",
    no_party_org_reason="",
    instructor="",
    mass_organizations="",
    measures="",
    responsible_person="",
    exclusion_note="",
    in_base=True,
    target="work_coverage",
    path="none",
    rule_codes="",
    coverage_means="any",
)
VARYING = ("name", "credit_code", "investor_is_member", "planned_on", "exclusion_decided_at")


def _rows(serials):
    return [
        (f"组织{n}", f"91420100{n:09d}X", n % 2 == 0, date(2026, 10, n), STAMP if n % 2 else None)
        for n in serials
    ]


def _stored(campaign_id):
    orgs = db.session.scalars(
        select(Organization)
        .where(Organization.campaign_id == campaign_id)
        .order_by(Organization.id)
    ).all()
    skip = {"id", "campaign_id"}
    return [
        {c.key: getattr(o, c.key) for c in Organization.__table__.c if c.key not in skip}
        for o in orgs
    ]


def stale(*campaigns) -> None:
    """Bulk writes say which campaigns' figures they changed (or the commit is refused)."""
    for campaign in campaigns:
        figures.stale(db.session, campaign)


def test_insert_rows_stores_what_a_core_insert_stores(app):
    unit = make_unit("a")
    core, fast = make_campaign(2026), make_campaign(2027)  # the same codes once in each
    shared = dict(REQUIRED, kind="enterprise", category="other", unit_id=unit.id)
    shared.update(created_at=STAMP, updated_at=STAMP)
    db.session.execute(
        Organization.__table__.insert(),
        [dict(zip(VARYING, r, strict=True), campaign_id=core.id, **shared) for r in _rows([1, 2])],
    )
    count = insert_rows(
        db.session,
        Organization.__table__,
        VARYING,
        _rows([1, 2]),
        shared=dict(shared, campaign_id=fast.id),
    )
    stale(core, fast)
    db.session.commit()
    db.session.expire_all()
    assert count == 2
    assert _stored(fast.id) == _stored(core.id)
    stored = _stored(fast.id)
    assert stored[0]["exclusion_decided_at"] == STAMP and stored[1]["exclusion_decided_at"] is None
    assert [s["investor_is_member"] for s in stored] == [False, True]
    assert stored[0]["planned_on"] == date(2026, 10, 1)


def test_insert_rows_refuses_to_skip_a_column_default(app):
    with pytest.raises(ValueError, match="created_at"):
        insert_rows(db.session, Organization.__table__, ["name"], [("x",)])


def test_insert_rows_with_no_rows_does_nothing(app):
    assert insert_rows(db.session, Organization.__table__, ["name"], []) == 0


def test_one_of_matches_tens_of_thousands_of_values_in_one_statement(app):
    # 40,000 values: past SQLite's 32,766 bound parameters, which column.in_() would hit.
    unit = make_unit("a")
    campaign = make_campaign(2026)
    shared = dict(REQUIRED, kind="enterprise", category="other", unit_id=unit.id)
    insert_rows(
        db.session,
        Organization.__table__,
        VARYING,
        _rows([1, 2, 3]),
        shared=dict(shared, campaign_id=campaign.id, created_at=STAMP, updated_at=STAMP),
    )
    codes = [f"91420100{n:09d}X" for n in range(2, 40_002)]  # holds the 2nd and 3rd
    statements = []

    def count(conn, cursor, sql, params, context, many):
        statements.append(sql)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        found = db.session.scalars(
            select(Organization.name).where(one_of(db.session, Organization.credit_code, codes))
        ).all()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert sorted(found) == ["组织2", "组织3"]
    assert len(statements) == 1
    ids = db.session.scalars(select(Organization.id).order_by(Organization.id)).all()
    picked = [*range(-40_000, 0), ids[0], ids[2]]
    assert db.session.scalars(
        select(Organization.name).where(one_of(db.session, Organization.id, picked))
    ).all() == ["组织1", "组织3"]
    assert (
        db.session.scalars(
            select(Organization.name).where(one_of(db.session, Organization.id, []))
        ).all()
        == []
    )


def test_insert_rows_processes_repeated_values_once_and_stores_what_core_stores(app):
    # 30 rows over two dates, two flags and one time (plus None): each processed once per value.
    unit = make_unit("a")
    core, fast = make_campaign(2026), make_campaign(2027)
    shared = dict(REQUIRED, kind="enterprise", category="other", unit_id=unit.id)
    shared.update(created_at=STAMP, updated_at=STAMP)
    rows = [
        (
            f"组织{n}",
            f"91420100{n:09d}X",
            n % 3 == 0,
            [None, date(2026, 10, 1), date(2026, 11, 30)][n % 3],
            STAMP if n % 2 else None,
        )
        for n in range(30)
    ]
    db.session.execute(
        Organization.__table__.insert(),
        [dict(zip(VARYING, r, strict=True), campaign_id=core.id, **shared) for r in rows],
    )
    insert_rows(
        db.session, Organization.__table__, VARYING, rows, shared=dict(shared, campaign_id=fast.id)
    )
    stale(core, fast)
    db.session.commit()
    db.session.expire_all()
    stored = _stored(fast.id)
    assert stored == _stored(core.id)
    assert [s["planned_on"] for s in stored[:3]] == [None, date(2026, 10, 1), date(2026, 11, 30)]
    assert [s["investor_is_member"] for s in stored[:4]] == [True, False, False, True]
    assert [s["exclusion_decided_at"] for s in stored[:2]] == [None, STAMP]


def test_json_columns_keep_dates_and_decimals_as_the_hand_written_json_did(app):
    """What the code wrote by hand before (``default=str`` or ISO dates; Chinese unescaped) is
    what a JSON column writes: a date reads back as "2026-09-10", a time in ISO form, a Decimal
    as its text; a value JSON cannot hold fails the flush instead of being stored as its repr."""
    event = Event(
        kind="report_due",
        payload={
            "unit": "江岸区",
            "due_on": date(2026, 9, 10),
            "at": datetime(2026, 9, 10, 8, 30, tzinfo=UTC),
            "share": Decimal("1.50"),
        },
    )
    db.session.add(event)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Event, event.id).payload == {
        "unit": "江岸区",
        "due_on": "2026-09-10",
        "at": "2026-09-10T08:30:00+00:00",
        "share": "1.50",
    }
    stored = db.session.scalar(
        text(f"SELECT CAST(payload AS TEXT) FROM notification_event WHERE id = {event.id}")
    )
    assert '"unit": "江岸区"' in stored  # not \u-escaped: half the bytes

    db.session.add(Event(kind="report_due", payload={"unit": object()}))
    # Raised by the serializer (psycopg calls it) or wrapped by SQLAlchemy (SQLite).
    with pytest.raises((TypeError, StatementError), match="object is not JSON serializable"):
        db.session.flush()
    db.session.rollback()
