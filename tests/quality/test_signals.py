"""The data-quality signals, each on a hand-made ledger that triggers it and on one that must
not (expected values worked out by hand from the campaign's default thresholds).

The campaign is the 2026 edition of seed 004 (2026-08-14 to 2026-12-30, reports on the 10th
and 25th). Default thresholds: the same file on 2+ organizations; a burst is 5+ Party orgs
in the 3 days up to a report day and 3x the unit's own pace; quick is verified within 10
minutes, 10+ by one verifier; members raised to exactly 3 within 30 days before a closure;
more than 10 of one unit's organizations for one secretary or instructor; 3+ edits after approval; an
exclusion rate 2x the other units' with 5+ excluded.
"""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from campaign import audit
from campaign.board.models import BoardItem, Closure, ClosureStatus
from campaign.core.errors import ValidationFailed
from campaign.core.extensions import db
from campaign.core.vocab import Path, Target
from campaign.ledger import services as ledger
from campaign.ledger.models import LedgerStatus, UnitLedger
from campaign.quality import services as quality
from campaign.quality.models import QualitySignal, SignalCode, SignalStatus
from tests.conftest import make_campaign, make_org, make_unit, make_user
from tests.timeutil import at, shanghai

SHA_A = "a" * 64
SHA_B = "b" * 64


@pytest.fixture
def w(app):
    with at(2026, 10, 20, 10, 0):
        jiangan = make_unit("jiangan", "江岸区")
        wuchang = make_unit("wuchang", "武昌区")
        wuchang.position = 2
        campaign = make_campaign(2026)
        leader = make_user("jiangan_leader", "leader", jiangan)
        yield SimpleNamespace(jiangan=jiangan, wuchang=wuchang, campaign=campaign, leader=leader)


def closure(
    w,
    org,
    *,
    sha="",
    status=ClosureStatus.VERIFIED,
    submitted=None,
    decided=None,
    verifier=None,
    secretary="",
    formal=0,
):
    """A 销号 claim on ``org`` as the board would have stored it."""
    item = db.session.scalar(db.select(BoardItem).where(BoardItem.organization_id == org.id))
    item = item or BoardItem(
        campaign_id=w.campaign.id,
        unit_id=org.unit_id,
        organization_id=org.id,
        kind=org.kind,
        target=Target.PARTY_ORG,
        path=Path.STANDALONE,
    )
    db.session.add(item)
    db.session.flush()
    submitted = submitted or shanghai(2026, 10, 1, 9, 0)
    c = Closure(
        item_id=item.id,
        method="standalone",
        document_name="批复.pdf" if sha else "",
        document_sha256=sha,
        status=status,
        submitted_at=submitted,
        decided_at=decided
        if decided is not None
        else (submitted + timedelta(days=1) if status != ClosureStatus.PENDING else None),
        decided_by_id=verifier.id if verifier else None,
        secretary=secretary,
        formal_members=formal,
    )
    db.session.add(c)
    db.session.flush()
    return c


def found(w, code):
    return [f for f in quality.detect(db.session, w.campaign, date(2026, 10, 20)) if f.code == code]


def names(finding):
    return [r["name"] for r in finding.rows]  # in the order of the organizations


# ---- same evidence file --------------------------------------------------------------------


def test_one_file_on_closures_of_two_organizations_is_a_signal_for_each_unit(w):
    a = make_org(w.campaign, w.jiangan, name="甲")
    b = make_org(w.campaign, w.jiangan, name="乙")
    c = make_org(w.campaign, w.wuchang, name="丙")
    closure(w, a, sha=SHA_A)
    closure(w, b, sha=SHA_A)
    closure(w, c, sha=SHA_A, status=ClosureStatus.PENDING)
    signals = sorted(found(w, SignalCode.EVIDENCE_REUSED), key=lambda f: f.unit_id)
    assert [(f.unit_id, names(f)) for f in signals] == [
        (w.jiangan.id, ["甲", "乙"]),
        (w.wuchang.id, ["丙"]),
    ]
    assert "用于3个组织的销号（本单位2个，其他单位1个）" in signals[0].reason


def test_distinct_files_or_a_returned_claim_are_no_signal(w):
    a = make_org(w.campaign, w.jiangan, name="甲")
    b = make_org(w.campaign, w.jiangan, name="乙")
    closure(w, a, sha=SHA_A)
    closure(w, b, sha=SHA_B)
    # The same file on a claim sent back, and again on the organization's own new claim.
    closure(w, b, sha=SHA_A, status=ClosureStatus.RETURNED)
    closure(w, a, sha=SHA_A, status=ClosureStatus.PENDING)
    assert found(w, SignalCode.EVIDENCE_REUSED) == []


# ---- founding bursts before a report day -----------------------------------------------------


def _founded(w, unit, days):
    for d in days:
        make_org(w.campaign, unit, formal=3, party_org="standalone", founded_on=d)


def test_party_orgs_founded_in_a_burst_before_the_10th_are_a_signal(w):
    # One a week from 08-17 (10 over the campaign, none in 10-08..10-10), then 6 on 10-08..10-10:
    # pace outside the window 10 / (68 - 3) days, 0.46 expected in 3 days; 6 >= 5 and >= 3x.
    _founded(w, w.jiangan, [date(2026, 8, 17) + timedelta(weeks=i) for i in range(7)])
    _founded(w, w.jiangan, [date(2026, 10, 12), date(2026, 10, 15), date(2026, 10, 19)])
    _founded(
        w, w.jiangan, [date(2026, 10, 8)] * 2 + [date(2026, 10, 9)] * 2 + [date(2026, 10, 10)] * 2
    )
    (signal,) = found(w, SignalCode.FOUNDING_BURST)
    assert signal.unit_id == w.jiangan.id and signal.key == "2026-10-10"
    assert signal.total == 6
    assert "10月10日报送截止前3天内成立党组织6个" in signal.reason
    assert "同期约0.5个" in signal.reason


def test_a_steady_pace_or_a_small_burst_is_no_signal(w):
    # 江岸: one every day from 08-14 to 10-20 (3 a window, its own pace). 武昌: 4 on 10-10, but
    # 4 is under the minimum of 5.
    _founded(w, w.jiangan, [date(2026, 8, 14) + timedelta(days=i) for i in range(68)])
    _founded(w, w.wuchang, [date(2026, 10, 10)] * 4)
    assert found(w, SignalCode.FOUNDING_BURST) == []


# ---- quick verification in bulk -----------------------------------------------------------------


def _verified_after(w, count, minutes):
    for i in range(count):
        org = make_org(w.campaign, w.jiangan, name=f"快{i}")
        submitted = shanghai(2026, 10, 15, 9, i)
        closure(
            w,
            org,
            submitted=submitted,
            decided=submitted + timedelta(minutes=minutes),
            verifier=w.leader,
        )


def test_ten_closures_verified_within_minutes_by_one_leader_are_a_signal(w):
    _verified_after(w, 10, 2)
    (signal,) = found(w, SignalCode.QUICK_VERIFICATION)
    assert signal.unit_id == w.jiangan.id and signal.total == 10
    assert signal.key == f"verifier:{w.leader.id}"
    assert signal.rows[0]["detail"] == "提交后2分钟核验"
    assert "有10个销号在提交后10分钟内即核验通过" in signal.reason


def test_nine_quick_ones_or_ten_slow_ones_are_no_signal(w):
    _verified_after(w, 9, 2)
    _verified_after(w, 10, 11)
    assert found(w, SignalCode.QUICK_VERIFICATION) == []


# ---- members raised to the standalone threshold; employees lowered below one ------------


def _edit(w, org, when, **data):
    with at(*when):
        ledger.update_organization(db.session, w.campaign, org, data, user=w.leader)


def test_members_raised_to_exactly_three_before_a_closure_are_a_signal(w):
    org = make_org(w.campaign, w.jiangan, name="凑数", employees=40, formal=1)
    _edit(w, org, (2026, 9, 25, 10, 0), formal_members=3)
    closure(w, org, submitted=shanghai(2026, 10, 1, 9, 0), formal=3)
    (signal,) = found(w, SignalCode.MEMBERS_TO_THRESHOLD)
    assert signal.key == f"org:{org.id}"
    assert signal.rows[0]["detail"] == "正式党员1→3（2026-09-25）"
    assert "9月25日由1名改为3名" in signal.reason


def test_members_raised_past_three_or_long_before_are_no_signal(w):
    past = make_org(w.campaign, w.jiangan, name="四名", formal=1)
    _edit(w, past, (2026, 9, 25, 10, 0), formal_members=4)
    closure(w, past, submitted=shanghai(2026, 10, 1, 9, 0), formal=4)
    early = make_org(w.campaign, w.jiangan, name="早已三名", formal=1)
    _edit(w, early, (2026, 8, 20, 10, 0), formal_members=3)  # 42 days before the claim
    closure(w, early, submitted=shanghai(2026, 10, 1, 9, 0), formal=3)
    assert found(w, SignalCode.MEMBERS_TO_THRESHOLD) == []


def _approve(w, unit, when):
    db.session.add(
        UnitLedger(
            campaign_id=w.campaign.id,
            unit_id=unit.id,
            status=LedgerStatus.APPROVED,
            reviewed_at=shanghai(*when),
        )
    )
    db.session.flush()


def test_employees_lowered_below_a_threshold_after_the_base_is_a_signal(w):
    org = make_org(w.campaign, w.jiangan, name="减员", employees=120)
    _approve(w, w.jiangan, (2026, 8, 26, 18, 0))
    _edit(w, org, (2026, 9, 3, 10, 0), employees=98)
    (signal,) = found(w, SignalCode.EMPLOYEES_BELOW_THRESHOLD)
    assert signal.rows[0]["detail"] == "从业人员120→98（2026-09-03）"
    assert "降到“应建党组织”的100人以下" in signal.reason


def test_employees_lowered_before_the_base_or_not_below_are_no_signal(w):
    before = make_org(w.campaign, w.jiangan, name="审核前", employees=120)
    _edit(w, before, (2026, 8, 20, 10, 0), employees=98)
    still = make_org(w.campaign, w.jiangan, name="仍在门槛", employees=120)
    _approve(w, w.jiangan, (2026, 8, 26, 18, 0))
    _edit(w, still, (2026, 9, 3, 10, 0), employees=101)
    assert found(w, SignalCode.EMPLOYEES_BELOW_THRESHOLD) == []


# ---- one person across many organizations ---------------------------------------------------


def test_one_instructor_in_more_of_a_units_organizations_than_set_is_a_signal(w):
    w.campaign.signal_person_orgs = 5
    for i in range(6):
        make_org(w.campaign, w.jiangan, name=f"江{i}", instructor="王 五" if i % 2 else "王五")
    # The same name in another district is counted there: 4 in 武昌区 is within 5.
    for i in range(4):
        make_org(w.campaign, w.wuchang, name=f"武{i}", instructor="王五")
    (signal,) = found(w, SignalCode.SAME_PERSON)
    assert (signal.unit_id, signal.total, signal.key) == (w.jiangan.id, 6, "instructor:王五")
    assert "“王五”在本单位6个组织任党建工作指导员，超过5个的合理数量" in signal.reason


def test_one_secretary_of_eleven_closures_is_a_signal_and_ten_is_not(w):
    # The default: more than 10 of one unit's organizations.
    for _ in range(11):
        closure(w, make_org(w.campaign, w.jiangan), secretary="李四")
    for _ in range(10):
        closure(w, make_org(w.campaign, w.jiangan), secretary="赵六")
    for _ in range(10):
        make_org(w.campaign, w.jiangan, instructor="钱七")
    (signal,) = found(w, SignalCode.SAME_PERSON)
    assert signal.key == "secretary:李四" and signal.total == 11


# ---- the approved base edited often, or excluded far above the city ------------------------


def test_a_row_edited_three_times_after_approval_is_a_signal(w):
    often = make_org(w.campaign, w.jiangan, name="常改", employees=10)
    twice = make_org(w.campaign, w.jiangan, name="两改", employees=10)
    _edit(w, twice, (2026, 8, 20, 10, 0), employees=11)  # before approval: not counted
    _approve(w, w.jiangan, (2026, 8, 26, 18, 0))
    for day, n in ((1, 11), (2, 12), (3, 13)):
        _edit(w, often, (2026, 9, day, 10, 0), employees=n)
    for day, n in ((1, 12), (2, 13)):
        _edit(w, twice, (2026, 9, day, 10, 0), employees=n)
    (signal,) = found(w, SignalCode.FREQUENT_EDITS)
    assert names(signal) == ["常改"]
    assert signal.rows[0]["detail"] == "基数确定后修改3次"


def test_edits_of_an_unapproved_ledger_are_no_signal(w):
    org = make_org(w.campaign, w.jiangan, employees=10)
    for day, n in ((1, 11), (2, 12), (3, 13), (4, 14)):
        _edit(w, org, (2026, 9, day, 10, 0), employees=n)
    assert found(w, SignalCode.FREQUENT_EDITS) == []


def _ledger(w, unit, kept, shells):
    for _ in range(kept):
        make_org(w.campaign, unit)
    for _ in range(shells):
        make_org(w.campaign, unit, status="shell")
    db.session.commit()  # the kept counts are recounted at commit


def test_a_unit_excluding_far_more_than_the_others_is_a_signal(w):
    # 江岸 6 of 20 (30%), 武昌 1 of 20 (5%): 30% >= 2 x 5%, 6 >= 5.
    _ledger(w, w.jiangan, 14, 6)
    _ledger(w, w.wuchang, 19, 1)
    (signal,) = found(w, SignalCode.HIGH_EXCLUSION)
    assert signal.unit_id == w.jiangan.id and signal.total == 6
    assert "剔除率30.0%，其他单位合计为5.0%" in signal.reason


def test_units_excluding_alike_are_no_signal(w):
    # 江岸 6 of 20 (30%), 武昌 4 of 20 (20%): 30% < 2 x 20%.
    _ledger(w, w.jiangan, 14, 6)
    _ledger(w, w.wuchang, 16, 4)
    assert found(w, SignalCode.HIGH_EXCLUSION) == []


# ---- rows that contradict themselves ---------------------------------------------------


def test_rows_that_contradict_themselves_are_signals_and_sound_rows_are_not(w):
    make_org(w.campaign, w.jiangan, name="党员多", employees=3, formal=3, probationary=1)
    make_org(w.campaign, w.jiangan, name="正好", employees=4, formal=3, probationary=1)
    make_org(w.campaign, w.jiangan, name="空支部", employees=30, party_org="standalone")
    make_org(w.campaign, w.jiangan, name="联建无党员", employees=30, party_org="joint")
    make_org(w.campaign, w.jiangan, name="有党员", employees=30, formal=3, party_org="standalone")
    (more,) = found(w, SignalCode.MEMBERS_EXCEED_EMPLOYEES)
    assert names(more) == ["党员多"] and more.rows[0]["detail"] == "党员4名，从业人员3人"
    (empty,) = found(w, SignalCode.PARTY_ORG_WITHOUT_MEMBERS)
    assert names(empty) == ["空支部"]


def test_a_party_org_founded_after_the_closure_that_counted_it_is_a_signal(w):
    late = make_org(
        w.campaign,
        w.jiangan,
        name="后成立",
        formal=3,
        party_org="standalone",
        founded_on=date(2026, 10, 5),
    )
    closure(w, late, decided=shanghai(2026, 10, 2, 23, 30))  # 15:30 UTC: the same day
    same = make_org(
        w.campaign,
        w.jiangan,
        name="当天",
        formal=3,
        party_org="standalone",
        founded_on=date(2026, 10, 3),
    )
    closure(w, same, decided=shanghai(2026, 10, 3, 0, 30))  # 10-02 16:30 UTC
    make_org(
        w.campaign,
        w.wuchang,
        name="未来",
        formal=3,
        party_org="standalone",
        founded_on=date(2026, 11, 1),
    )
    signals = sorted(found(w, SignalCode.FOUNDED_AFTER_COUNTED), key=lambda f: f.unit_id)
    assert [names(f) for f in signals] == [["后成立"], ["未来"]]
    assert signals[0].rows[0]["detail"] == "成立日期2026-10-05，销号核验于2026-10-02"


# ---- stored, judged, recorded --------------------------------------------------------------


def test_signals_are_stored_judged_with_a_note_recorded_and_reopened_when_rows_grow(w):
    a = make_org(w.campaign, w.jiangan, name="甲")
    b = make_org(w.campaign, w.jiangan, name="乙")
    closure(w, a, sha=SHA_A)
    closure(w, b, sha=SHA_A)
    coordinator = make_user("coord", "coordinator")
    with at(2026, 10, 20, 10, 0):
        result = quality.refresh(db.session, w.campaign)
    assert (result.new, result.active) == (1, 1)
    (signal,) = db.session.scalars(db.select(QualitySignal)).all()
    assert signal.status == SignalStatus.OPEN and signal.total == 2

    with pytest.raises(ValidationFailed, match="请填写核实说明"):
        quality.review(db.session, signal, SignalStatus.CHECKED_OK, " ", coordinator)
    with at(2026, 10, 21, 9, 0):
        quality.review(
            db.session, signal, SignalStatus.CHECKED_OK, "两家为联合组建，共用批复", coordinator
        )
    entry = db.session.scalars(
        db.select(audit.AuditEntry).where(audit.AuditEntry.action == "quality_signal.review")
    ).one()
    assert entry.actor == "coord"
    assert entry.before == '{"note": "", "status": "open"}'
    assert entry.after == '{"note": "两家为联合组建，共用批复", "status": "checked_ok"}'
    assert quality.open_counts(db.session, w.campaign) == {}

    # Found again unchanged: stays judged. A third organization with the same file: open again.
    quality.refresh(db.session, w.campaign)
    assert signal.status == SignalStatus.CHECKED_OK
    closure(w, make_org(w.campaign, w.jiangan, name="丙"), sha=SHA_A)
    result = quality.refresh(db.session, w.campaign)
    assert result.reopened == 1 and signal.status == SignalStatus.OPEN and signal.total == 3
    assert quality.open_counts(db.session, w.campaign) == {w.jiangan.id: 1}

    # No longer found: kept, inactive, not counted.
    for c in db.session.scalars(db.select(Closure)):
        c.status = ClosureStatus.REVOKED
    result = quality.refresh(db.session, w.campaign)
    assert result.gone == 1 and signal.active is False
    assert quality.open_counts(db.session, w.campaign) == {}


def test_a_refresh_is_due_only_when_something_was_recorded_since(w):
    assert quality.is_stale(db.session, w.campaign)
    quality.refresh(db.session, w.campaign)
    assert not quality.is_stale(db.session, w.campaign)
    make_org(w.campaign, w.jiangan)  # recorded: organization.create
    assert quality.is_stale(db.session, w.campaign)
