"""Two leaders act on the same awaiting item at the same moment: exactly one act applies.

The act claims the pending closure first (a conditional UPDATE on its status), BoardItem
has a version column (optimistic locking), and the audit chain is locked per
transaction (an advisory lock on PostgreSQL, the database write lock on SQLite). Each
thread has its own app context, hence its own ``db.session`` and connection; a barrier
lines them up after both have loaded the item and its pending closure, so both start
from the same version. On SQLite the writes serialize on the database lock; the outcome
asserted is the same on both backends: one success, one Conflict (the pending closure was
claimed by the other: "没有待核验的销号"), and the ledger changed exactly once.
"""

import threading
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from campaign import audit, figures
from campaign.board import services as board
from campaign.board.inputs import ClosureClaim
from campaign.board.models import BoardItem, Closure
from campaign.core.errors import Conflict
from campaign.core.extensions import db
from campaign.core.models import Campaign, User
from campaign.ledger.models import Organization
from tests import documents
from tests.conftest import make_campaign, make_org, make_unit, make_user
from tests.timeutil import at

ROUNDS = 3  # the race is repeated on fresh items: one lucky interleaving proves little


def awaiting_items(app, n: int):
    """``n`` enterprises of 10 staff and 4 formal members (应单独组建), each with a
    standalone closure submitted and awaiting verification; all committed."""
    with at(2026, 11, 15, 10, 0):
        campaign = make_campaign()
        unit = make_unit("jiangan", "江岸区")
        leaders = [make_user(f"leader-{k}", "leader", unit) for k in (1, 2)]
        orgs = [
            make_org(campaign, unit, name=f"四党员{k}", employees=10, formal=4) for k in range(n)
        ]
        board.sync_items(db.session, campaign)
        for org in orgs:
            item = db.session.scalar(select(BoardItem).where(BoardItem.organization_id == org.id))
            board.submit_closure(
                db.session,
                item,
                ClosureClaim.from_form(
                    {
                        "method": "standalone",
                        "party_org_name": f"{org.name}党支部",
                        "secretary": "张书记",
                        "formal_members": "4",
                        "established_on": "2026-10-08",
                    }
                ),
                ("批复.pdf", documents.pdf(org.name)),
                None,
                Path(app.config["STORAGE_PATH"]),
            )
        db.session.commit()
        return campaign.id, [leader.id for leader in leaders], [org.id for org in orgs]


def race(app, org_id: int, user_ids: list[int], acts) -> list:
    """Run ``acts[k](session, item, user)`` in thread k, all released together; the outcome
    of each: "ok" or the exception raised (the session is rolled back then)."""
    barrier = threading.Barrier(len(acts), timeout=30)
    outcomes: list = [None] * len(acts)

    def worker(k: int) -> None:
        with app.app_context():
            session = db.session
            try:
                item = session.scalar(select(BoardItem).where(BoardItem.organization_id == org_id))
                assert board.pending_closure(item) is not None  # loaded before the race
                user = session.get(User, user_ids[k])
                barrier.wait()
                acts[k](session, item, user)
                session.commit()
                outcomes[k] = "ok"
            except Exception as error:  # noqa: BLE001 (the outcome is the assertion)
                session.rollback()
                outcomes[k] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(acts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return outcomes


def verify(session, item, user):
    board.verify_closure(session, item, user)


def send_back(session, item, user):
    board.return_closure(session, item, "批复文件未盖章", user)


def one_won(outcomes: list) -> int:
    """The index of the single winner; the loser failed the expected way."""
    winners = [k for k, o in enumerate(outcomes) if o == "ok"]
    losers = [o for o in outcomes if o != "ok"]
    assert len(winners) == 1, outcomes
    # The loser's claim of the pending closure found it decided: nothing awaiting any more.
    assert all(isinstance(o, Conflict) for o in losers), outcomes
    assert {o.message for o in losers} == {"没有待核验的销号"}
    return winners[0]


def test_two_verifications_of_the_same_closure_apply_it_once(app):
    campaign_id, user_ids, org_ids = awaiting_items(app, ROUNDS)
    campaign = db.session.get(Campaign, campaign_id)
    base = figures.overall(db.session, campaign).counts.with_party_org
    assert base == 0

    for n, org_id in enumerate(org_ids, start=1):
        outcomes = race(app, org_id, user_ids, [verify, verify])
        one_won(outcomes)

        db.session.expire_all()
        item = db.session.scalar(select(BoardItem).where(BoardItem.organization_id == org_id))
        assert item.state == "closed"
        assert item.version == 3  # 1 created, 2 submitted, 3 verified: one verification
        assert [c.status for c in item.closures] == ["verified"]
        org = db.session.get(Organization, org_id)
        assert (org.party_org_status, org.party_org_founded_on) == ("standalone", date(2026, 10, 8))
        assert figures.overall(db.session, campaign).counts.with_party_org == base + n
        for action in ("closure.verify", "organization.closure"):
            assert _count(action, org_id if action == "organization.closure" else item.id) == 1

    assert audit.verify_chain(db.session) is None


def test_a_verification_and_a_return_at_once_leave_one_consistent_outcome(app):
    campaign_id, user_ids, org_ids = awaiting_items(app, ROUNDS)
    campaign = db.session.get(Campaign, campaign_id)

    verified = 0
    for org_id in org_ids:
        winner = one_won(race(app, org_id, user_ids, [verify, send_back]))
        db.session.expire_all()
        item = db.session.scalar(select(BoardItem).where(BoardItem.organization_id == org_id))
        org = db.session.get(Organization, org_id)
        [closure] = item.closures
        if winner == 0:
            verified += 1
            assert (item.state, closure.status, org.party_org_status) == (
                "closed",
                "verified",
                "standalone",
            )
        else:
            assert (item.state, closure.status, org.party_org_status) == (
                "in_progress",
                "returned",
                "none",
            )
            assert item.last_reason == "批复文件未盖章"
        assert figures.overall(db.session, campaign).counts.with_party_org == verified

    closures = db.session.scalar(
        select(func.count()).select_from(Closure).where(Closure.status == "verified")
    )
    assert closures == verified
    assert audit.verify_chain(db.session) is None


def _count(action: str, obj_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(audit.AuditEntry)
        .where(audit.AuditEntry.action == action, audit.AuditEntry.object_id == str(obj_id))
    )
