"""`flask --app app audit verify`: says the change record is whole, or names the broken entry."""

import json
from pathlib import Path

from sqlalchemy import select, text

from campaign import audit
from campaign.board import services as board
from campaign.board.inputs import ClosureClaim, Plan
from campaign.board.models import BoardItem
from campaign.core.extensions import db
from tests import documents
from tests.conftest import make_campaign, make_org, make_unit
from tests.timeutil import at


def some_history(app):
    """A small history of 8 entries: campaign.create, organization.create ×3, item.plan,
    closure.submit, organization.closure, closure.verify."""
    with at(2026, 11, 15, 10, 0):
        campaign = make_campaign()
        unit = make_unit("jiangan", "江岸区")
        org = make_org(campaign, unit, name="四党员", employees=10, formal=4)
        make_org(campaign, unit, name="已达标", employees=10, instructor="张三")
        make_org(campaign, unit, name="空壳", employees=200, status="shell")
        board.sync_items(db.session, campaign)
        item = db.session.scalar(select(BoardItem))
        board.update_plan(
            db.session, item, Plan.from_form({"path": "standalone", "measures": "本月组建"}), None
        )
        board.submit_closure(
            db.session,
            item,
            ClosureClaim.from_form(
                {
                    "method": "standalone",
                    "party_org_name": "四党员公司党支部",
                    "secretary": "张书记",
                    "formal_members": "4",
                    "established_on": "2026-10-08",
                }
            ),
            ("批复.pdf", documents.pdf()),
            None,
            Path(app.config["STORAGE_PATH"]),
        )
        board.verify_closure(db.session, item, None)
        db.session.commit()
    return org


def ids() -> list[int]:
    return list(db.session.scalars(select(audit.AuditEntry.id).order_by(audit.AuditEntry.id)))


def test_an_empty_record_is_whole(runner):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "变更记录完整：0条" in result.output


def test_a_fresh_chain_is_whole(app, runner):
    some_history(app)
    actions = list(
        db.session.scalars(select(audit.AuditEntry.action).order_by(audit.AuditEntry.id))
    )
    assert actions == [
        "campaign.create",
        "organization.create",
        "organization.create",
        "organization.create",
        "item.plan",
        "closure.submit",
        "organization.closure",
        "closure.verify",
    ]
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "变更记录完整：8条，哈希链接无误，与签名的记录头一致。"


def test_an_entry_edited_by_sql_is_named(app, runner):
    org = some_history(app)
    entry = db.session.scalar(
        select(audit.AuditEntry).where(audit.AuditEntry.action == "organization.closure")
    )
    assert json.loads(entry.after)["party_org_status"] == "standalone"
    assert entry.object_id == str(org.id)
    forged = entry.after.replace('"standalone"', '"joint"')
    db.session.execute(
        text("UPDATE audit_entry SET after = :after WHERE id = :id"),
        {"after": forged, "id": entry.id},
    )
    db.session.commit()

    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert f"变更记录第{entry.id}条：记录内容与哈希不符（共8条）" in result.output
    assert "完整" not in result.output


def test_a_deleted_entry_names_the_one_after_it(app, runner):
    some_history(app)
    all_ids = ids()
    db.session.execute(text("DELETE FROM audit_entry WHERE id = :id"), {"id": all_ids[3]})
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert f"变更记录第{all_ids[4]}条：与上一条记录的链接不符（共7条）" in result.output


def test_the_first_break_is_named_when_two_entries_are_edited(app, runner):
    some_history(app)
    all_ids = ids()
    for entry_id in (all_ids[5], all_ids[1]):
        db.session.execute(
            text("UPDATE audit_entry SET actor = 'someone' WHERE id = :id"), {"id": entry_id}
        )
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert f"第{all_ids[1]}条" in result.output
    assert f"第{all_ids[5]}条" not in result.output
