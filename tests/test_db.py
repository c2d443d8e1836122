"""insert_rows stores exactly what a Core insert of the same values stores, on either backend."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from campaign.db import insert_rows
from campaign.extensions import db
from campaign.ledger.models import Organization
from tests.conftest import make_campaign, make_unit

STAMP = datetime(2026, 9, 10, 8, 30, 15, 123456, tzinfo=UTC)
REQUIRED = dict(
    district_name="",
    operating_status="normal",
    supervising_unit="",
    employees=0,
    formal_members=0,
    probationary_members=0,
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
