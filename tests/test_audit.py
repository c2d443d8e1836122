"""The change record is append-only and chained: an edit behind the app's back shows."""

from datetime import date

from sqlalchemy import text

from campaign import audit
from campaign.core.extensions import db
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


def test_many_entries_at_once_keep_who_when_before_after_and_the_chain(app):
    audit.record(db.session, user="op", action="x.first", obj_type="x", obj_id=1)
    added = audit.record_many(
        db.session,
        user="importer",
        entries=[
            {"action": "x.create", "obj_type": "x", "obj_id": 2, "after": {"名称": "甲", "n": 1}},
            {
                "action": "x.update",
                "obj_type": "x",
                "obj_id": 3,
                "before": {"on": date(2026, 9, 10)},
                "after": {"on": None},
            },
            {"action": "x.remove", "obj_type": "x", "obj_id": 4, "before": {"n": 2}},
        ],
    )
    audit.record(db.session, user=None, action="x.last", obj_type="x", obj_id=5)
    db.session.commit()
    assert added == 3 and audit.record_many(db.session, user="importer", entries=[]) == 0
    entries = db.session.scalars(db.select(audit.AuditEntry).order_by(audit.AuditEntry.id)).all()
    assert [(e.actor, e.object_id, e.before, e.after) for e in entries] == [
        ("op", "1", "{}", "{}"),
        ("importer", "2", "{}", '{"n": 1, "名称": "甲"}'),
        ("importer", "3", '{"on": "2026-09-10"}', '{"on": null}'),
        ("importer", "4", '{"n": 2}', "{}"),
        ("system", "5", "{}", "{}"),
    ]
    assert entries[1].at.tzinfo is not None and entries[1].at == entries[3].at
    assert audit.verify_chain(db.session) is None
