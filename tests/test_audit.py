"""The change record is append-only and chained: an edit behind the app's back shows."""

from sqlalchemy import text

from campaign import audit
from campaign.extensions import db
from tests.conftest import make_campaign, make_org, make_unit


def test_chain_verifies_and_an_edit_by_sql_breaks_it(app):
    campaign = make_campaign()
    unit = make_unit("a")
    org = make_org(campaign, unit, employees=120)
    make_org(campaign, unit, employees=5)
    db.session.commit()
    assert audit.verify_chain(db.session) is None

    entry = db.session.scalar(
        db.select(audit.AuditEntry).where(
            audit.AuditEntry.object_id == str(org.id),
            audit.AuditEntry.object_type == "organization",
        )
    )
    assert '"employees": 120' in entry.after
    db.session.execute(
        text("UPDATE audit_entry SET after = replace(after, '120', '20') WHERE id = :id"),
        {"id": entry.id},
    )
    db.session.commit()
    db.session.expire_all()
    broken = audit.verify_chain(db.session)
    assert broken is not None and broken.entry_id == entry.id


def test_deleting_an_entry_breaks_the_link_of_the_next(app):
    campaign = make_campaign()
    unit = make_unit("a")
    for n in range(3):
        make_org(campaign, unit, employees=n)
    db.session.commit()
    ids = list(db.session.scalars(db.select(audit.AuditEntry.id).order_by(audit.AuditEntry.id)))
    db.session.execute(text("DELETE FROM audit_entry WHERE id = :id"), {"id": ids[1]})
    db.session.commit()
    broken = audit.verify_chain(db.session)
    assert broken.entry_id == ids[2] and "链接" in broken.problem
