"""`flask db upgrade` builds exactly the schema the models describe, on every backend."""

import hashlib
import json
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from types import SimpleNamespace

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, stamp, upgrade
from sqlalchemy import Text, insert, inspect, select, text, type_coerce

from campaign import audit
from campaign.audit import AuditEntry
from campaign.board.models import BoardItem, Closure, SpotCheck, SpotCheckResult
from campaign.core.extensions import db
from campaign.half_monthly.models import UnitReport
from campaign.ledger.models import ChangeRequest, ImportBatch
from notifications.models import Event
from reports.models import Bulletin
from tests.conftest import make_campaign, make_org, make_unit


def test_upgrade_from_empty_matches_models(app, backend):
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade()
    with db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata
        )
    assert diff == []
    assert {"campaign", "phase", "unit", "user", "organization", "audit_entry"} <= set(
        inspect(db.engine).get_table_names()
    )


def test_users_get_a_session_key_each_on_upgrade(app, backend):
    """Users created before session keys each get their own random key; nobody is left
    with an empty one (which no cookie could match, or every cookie could)."""
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(revision="b7d2e4f6a8c0")
    with db.engine.begin() as conn:
        for n in (1, 2):
            conn.execute(
                text(
                    'INSERT INTO "user" (username, display_name, password_hash, role, email,'
                    " active, created_at) VALUES (:u, :u, 'x', 'admin', '', true,"
                    " '2026-11-01 09:00:00')"
                ),
                {"u": f"u{n}"},
            )
    upgrade(revision="d41f7a2c9e15")
    with db.engine.connect() as conn:
        keys = conn.execute(text('SELECT session_key FROM "user" ORDER BY id')).scalars().all()
    assert len(keys) == 2 and len(set(keys)) == 2
    assert all(len(k) == 32 for k in keys)  # 24 random bytes, URL-safe base64


def test_existing_users_and_units_carry_on_after_the_accounts_upgrade(app, backend):
    """Users from before 241792fd1ae3 keep their passwords without a forced change, have no
    phone and no recorded login; existing units stay active; no city profile appears."""
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(revision="0635caa97d87")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO unit (code, name, kind, is_responsible, position)"
                " VALUES ('jiangan', '江岸区', 'district', true, 1)"
            )
        )
        conn.execute(
            text(
                'INSERT INTO "user" (username, display_name, password_hash, role, email,'
                " active, created_at, session_key) VALUES ('li', '李', 'x', 'operator', '',"
                " true, '2026-11-01 09:00:00', 'k')"
            )
        )
    upgrade(revision="241792fd1ae3")
    with db.engine.connect() as conn:
        user = conn.execute(
            text('SELECT phone, must_change_password, last_login_at FROM "user"')
        ).one()
        unit_active = conn.execute(text("SELECT active FROM unit")).scalar()
        profiles = conn.execute(text("SELECT count(*) FROM city_profile")).scalar()
    assert (user.phone, bool(user.must_change_password), user.last_login_at) == ("", False, None)
    assert bool(unit_active) is True and profiles == 0


def test_stored_file_paths_under_the_storage_root_become_relative(app, backend, tmp_path):
    """Rows written before d3f1a7c9e2b4 kept absolute paths: those under STORAGE_PATH are
    made relative (and back on downgrade); one outside it is left as it was.

    The rows are written through today's models into today's schema, which is then said to be
    at the revision before (the migration changes data only), so columns added since do not
    stand in the way."""
    stamp(revision="d3a1f0c9e842")
    root = Path(app.config["STORAGE_PATH"])
    elsewhere = tmp_path / "old-disk" / "closures" / "1-feedbeef.pdf"
    campaign = make_campaign()
    unit = make_unit("jiangan", "江岸区")
    org = make_org(campaign, unit, employees=120)
    item = BoardItem(
        campaign_id=campaign.id,
        unit_id=unit.id,
        organization_id=org.id,
        kind="enterprise",
        target="party_org",
        path="grow_members",
    )
    db.session.add(item)
    db.session.flush()
    db.session.add_all(
        [
            Closure(item_id=item.id, method="joint", document_path=f"{root}/closures/1-ab.pdf"),
            Closure(item_id=item.id, method="joint", document_path=str(elsewhere)),
            Closure(item_id=item.id, method="joint", document_path=""),
            UnitReport(
                campaign_id=campaign.id,
                unit_id=unit.id,
                due_on=date(2026, 9, 10),
                submitted_at=datetime(2026, 9, 10, 1, tzinfo=UTC),
                figures={},
                attachment_path=f"{root}/reports/jiangan-2026-09-10-cd.png",
            ),
            Bulletin(
                campaign_id=campaign.id,
                number=1,
                due_on=date(2026, 9, 10),
                cutoff_at=datetime(2026, 9, 10, 10, tzinfo=UTC),
                title="通报",
                snapshot="{}",
                snapshot_sha256="0" * 64,
                pdf_path=f"{root}/bulletins/1/2026-01-ef.pdf",
                pdf_sha256="0" * 64,
                pdf_pages=1,
                xlsx_path=f"{root}/bulletins/1/2026-01-ef.xlsx",
                xlsx_sha256="0" * 64,
                trigger="manual",
            ),
        ]
    )
    db.session.commit()
    db.session.remove()

    def paths():
        db.session.expire_all()
        bulletin = db.session.scalar(select(Bulletin))
        return (
            list(db.session.scalars(select(Closure.document_path).order_by(Closure.id))),
            db.session.scalar(select(UnitReport.attachment_path)),
            (bulletin.pdf_path, bulletin.xlsx_path),
        )

    assert paths() == (
        [f"{root}/closures/1-ab.pdf", str(elsewhere), ""],
        f"{root}/reports/jiangan-2026-09-10-cd.png",
        (f"{root}/bulletins/1/2026-01-ef.pdf", f"{root}/bulletins/1/2026-01-ef.xlsx"),
    )
    db.session.remove()
    upgrade(revision="d3f1a7c9e2b4")
    assert paths() == (
        ["closures/1-ab.pdf", str(elsewhere), ""],
        "reports/jiangan-2026-09-10-cd.png",
        ("bulletins/1/2026-01-ef.pdf", "bulletins/1/2026-01-ef.xlsx"),
    )
    db.session.remove()
    downgrade(revision="d3a1f0c9e842")
    assert paths() == (
        [f"{root}/closures/1-ab.pdf", str(elsewhere), ""],
        f"{root}/reports/jiangan-2026-09-10-cd.png",
        (f"{root}/bulletins/1/2026-01-ef.pdf", f"{root}/bulletins/1/2026-01-ef.xlsx"),
    )


# Rows as the code before e6b2c4d8f1a3 wrote them (json.dumps by hand into text columns):
# Chinese kept (ensure_ascii=False) except in the demo's closures, dates as ISO text, the
# outbox's keys sorted.
OLD_PREVIEW = (
    '[{"action": "add", "credit_code": "914201020000791938", "name": "江岸甲",'
    ' "values": ["江岸甲", 45, "2026-09-01"], "where": ["附表1 非公企业", 3]}]'
)
OLD_SUMMARY = '{"add": 1, "update": 0, "remove": 0, "same": 0, "untouched": 0, "editable": true}'
OLD_LEDGER_BEFORE = json.dumps(  # as demo.py wrote it: \\u-escaped
    {
        "7": {
            "before": {"party_org_status": "none", "party_org_founded_on": None},
            "after": {"party_org_status": "standalone", "party_org_founded_on": "2026-09-01"},
            "name": "江岸甲",
        }
    },
    default=str,
)
OLD_FIGURES = '{"unit": {"code": "jiangan", "name": "江岸区"}, "figures": {"counts": {"base": 2}}}'
OLD_PAYLOAD = '{"campaign_id": 1, "due_on": "2026-10-25", "number": 5, "unit": "江岸区"}'


def _old_rows(campaign, unit, item) -> None:
    """One row of each table with JSON kept as text, written as text (the revision before)."""
    at = datetime(2026, 11, 1, 1, tzinfo=UTC)
    as_text = partial(type_coerce, type_=Text)
    with db.engine.begin() as conn:
        conn.execute(
            insert(ImportBatch.__table__).values(
                campaign_id=campaign.id,
                unit_id=unit.id,
                filename="台账.xlsx",
                sha256="0" * 64,
                size=1,
                status="previewed",
                problems=as_text("[]"),
                notices=as_text('["第3行「备注」：已忽略"]'),
                summary=as_text(OLD_SUMMARY),
                diff=as_text(OLD_PREVIEW),
            )
        )
        conn.execute(
            insert(ChangeRequest.__table__).values(
                campaign_id=campaign.id,
                unit_id=unit.id,
                action="update",
                credit_code="91420102000158385L",
                payload=as_text('{"name": "江岸甲", "employees": 45, "founded_on": null}'),
                requested_at=at,
            )
        )
        closure_id = conn.execute(
            insert(Closure.__table__)
            .values(
                item_id=item.id,
                method="standalone",
                document_name="批复.pdf",
                document_path="closures/1.pdf",
                document_sha256="0" * 64,
                status="verified",
                submitted_at=at,
                covered_org_ids=as_text("[12, 13]"),
                ledger_before=as_text(OLD_LEDGER_BEFORE),
            )
            .returning(Closure.__table__.c.id)
        ).scalar_one()
        check_id = conn.execute(
            insert(SpotCheck.__table__)
            .values(
                campaign_id=campaign.id,
                seed=7,
                size_value=2,
                unit_ids=as_text("[]"),
                population_ids=as_text("[3, 5, 8]"),
                drawn_ids=as_text("[3, 8]"),
                created_at=at,
            )
            .returning(SpotCheck.__table__.c.id)
        ).scalar_one()
        conn.execute(
            insert(SpotCheckResult.__table__).values(
                spot_check_id=check_id,
                closure_id=closure_id,
                result="fail",
                checklist=as_text('{"document": true, "members": false}'),
            )
        )
        conn.execute(
            insert(UnitReport.__table__).values(
                campaign_id=campaign.id,
                unit_id=unit.id,
                due_on=date(2026, 9, 10),
                submitted_at=at,
                figures=as_text(OLD_FIGURES),
                attachment_name="",
                attachment_path="",
                attachment_sha256="",
            )
        )
        conn.execute(
            insert(Event.__table__).values(kind="bulletin_published", payload=as_text(OLD_PAYLOAD))
        )


OLD_TEXT = {
    ("import_batch", "notices"): '["第3行「备注」：已忽略"]',
    ("import_batch", "summary"): OLD_SUMMARY,
    ("import_batch", "diff"): OLD_PREVIEW,
    ("change_request", "payload"): '{"name": "江岸甲", "employees": 45, "founded_on": null}',
    ("closure", "covered_org_ids"): "[12, 13]",
    ("closure", "ledger_before"): OLD_LEDGER_BEFORE,
    ("spot_check", "drawn_ids"): "[3, 8]",
    ("spot_check_result", "checklist"): '{"document": true, "members": false}',
    ("unit_report", "figures"): OLD_FIGURES,
    ("notification_event", "payload"): OLD_PAYLOAD,
}


def test_json_kept_as_text_reads_back_the_same_after_the_upgrade(app, backend):
    """Rows written before e6b2c4d8f1a3 kept JSON in text columns: after the upgrade the same
    values read back through the models as lists and dicts (Chinese as it was, \\u-escaped or
    not; keys in the order written), and the downgrade gives back the very text.

    The campaign, unit, organization and item are written through today's models at the head
    and the schema then taken down to the revision before (columns added since are dropped by
    their own downgrades), so those columns do not stand in the way."""
    stamp()  # the schema was made by create_all: it is at the head revision
    campaign = make_campaign()
    unit = make_unit("jiangan", "江岸区")
    org = make_org(campaign, unit, name="江岸甲")
    item = BoardItem(
        campaign_id=campaign.id,
        unit_id=unit.id,
        organization_id=org.id,
        kind=org.kind,
        target=org.target,
        path=org.path,
    )
    db.session.add(item)
    db.session.commit()
    ids = SimpleNamespace(id=campaign.id), SimpleNamespace(id=unit.id), SimpleNamespace(id=item.id)
    db.session.remove()
    downgrade(revision="0635caa97d87")
    _old_rows(*ids)

    upgrade()
    batch = db.session.scalar(select(ImportBatch))
    assert (batch.problems, batch.notices) == ([], ["第3行「备注」：已忽略"])
    assert batch.summary == {
        "add": 1,
        "update": 0,
        "remove": 0,
        "same": 0,
        "untouched": 0,
        "editable": True,
    }
    assert batch.summary_text == "新增1，修改0，未变0，删除0"
    assert batch.diff == [
        {
            "action": "add",
            "credit_code": "914201020000791938",
            "name": "江岸甲",
            "values": ["江岸甲", 45, "2026-09-01"],
            "where": ["附表1 非公企业", 3],
        }
    ]
    request = db.session.scalar(select(ChangeRequest))
    assert request.payload == {"name": "江岸甲", "employees": 45, "founded_on": None}
    closure = db.session.scalar(select(Closure))
    assert closure.covered_org_ids == [12, 13]
    assert closure.ledger_before == {
        "7": {
            "before": {"party_org_status": "none", "party_org_founded_on": None},
            "after": {"party_org_status": "standalone", "party_org_founded_on": "2026-09-01"},
            "name": "江岸甲",
        }
    }
    check = db.session.scalar(select(SpotCheck))
    assert (check.unit_ids, check.population_ids, check.drawn_ids) == ([], [3, 5, 8], [3, 8])
    result = db.session.scalar(select(SpotCheckResult))
    assert result.checklist == {"document": True, "members": False}
    figures = db.session.scalar(select(UnitReport)).figures
    assert figures == {
        "unit": {"code": "jiangan", "name": "江岸区"},
        "figures": {"counts": {"base": 2}},
    }
    assert list(figures) == ["unit", "figures"]
    payload = db.session.scalar(select(Event)).payload
    assert payload == {"campaign_id": 1, "due_on": "2026-10-25", "number": 5, "unit": "江岸区"}
    db.session.remove()

    downgrade(revision="0635caa97d87")
    with db.engine.connect() as conn:
        for (table, column), stored in OLD_TEXT.items():
            assert conn.execute(text(f"SELECT {column} FROM {table}")).scalar() == stored


def test_upgrade_signs_the_head_of_a_chain_written_before_it(app, runner):
    """A chain written by the release before the signed head verifies after `db upgrade`:
    the upgrade signs its head with the instance's SECRET_KEY (whatever the chain was then is
    taken as the start)."""
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(revision="7b0e4de458c3")
    moment = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    prev = ""
    with db.engine.begin() as conn:
        for n in (1, 2, 3):
            before, after = "{}", f'{{"n": {n}}}'
            content = f"{prev}|2026-11-20T02:00:00+00:00||coord|x.create|x|{n}|{before}|{after}"
            digest = hashlib.sha256(content.encode()).hexdigest()
            conn.execute(
                insert(AuditEntry.__table__).values(
                    at=moment,
                    actor="coord",
                    action="x.create",
                    object_type="x",
                    object_id=str(n),
                    before=before,
                    after=after,
                    prev_hash=prev,
                    hash=digest,
                )
            )
            prev = digest
    upgrade()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "变更记录完整：3条，哈希链接无误，与签名的记录头一致。"
    assert audit.signed_head(db.session)["last_hash"] == prev


def test_the_phases_upgrade_counts_the_new_party_orgs_in_the_tally(app, backend):
    # a7f3c91e5d42 adds the tally's counts of seed 004's phases 5 and 6: nothing is put right
    # or sent yet, and of two Party orgs the one founded since the campaign began is new.
    from campaign import figures

    unit = make_unit("jiangan", "江岸区")
    campaign = make_campaign(2026)
    make_org(campaign, unit, formal=3, party_org="standalone", founded_on=date(2026, 9, 10))
    make_org(campaign, unit, formal=3, party_org="standalone", founded_on=date(2015, 6, 1))
    db.session.commit()
    stamp(revision="a7f3c91e5d42")
    downgrade(revision="5c1e9a7b3d20")
    upgrade(revision="a7f3c91e5d42")
    db.session.expire_all()
    assert figures.phase_counts(db.session, campaign) == figures.PhaseCounts(
        party_orgs=2, new_party_orgs=1
    )


def test_a_stored_preset_rule_set_gets_its_figures_on_upgrade(app, backend):
    # c4e9b2d7f1a5: a campaign whose rule set was stored from seed 004 before rules named
    # figures gets the two the preset names now (50人 有党员, 100人 有党组织), so its overview
    # and bulletin keep them; a rule a city edited so that it no longer has the bound the name
    # quotes is left without one.
    from campaign import figures, rulesets

    campaign = make_campaign(2026)
    stored = rulesets.preset_data("seed-004")
    for rule in stored["rules"]:
        rule.pop("figure", None)
        if rule["code"] == "employees_party_org":
            rule["employees"] = {"max": 10}
            rule["why"] = "小企业"
    campaign.rule_set = stored
    db.session.commit()
    stamp(revision="c4e9b2d7f1a5")
    downgrade(revision="a3f8c2d9e4b6")
    upgrade(revision="c4e9b2d7f1a5")
    db.session.expire_all()
    data = db.session.get(type(campaign), campaign.id).rule_set
    assert {r["code"]: r["figure"] for r in data["rules"] if "figure" in r} == {
        "employees_member": "{employees}人以上企业有党员率"
    }
    assert [f.name for f in figures.rule_figures(db.session, campaign)] == ["50人以上企业有党员率"]
    downgrade(revision="a3f8c2d9e4b6")
    db.session.expire_all()
    assert not any(
        "figure" in r for r in db.session.get(type(campaign), campaign.id).rule_set["rules"]
    )
    upgrade(revision="c4e9b2d7f1a5")
