"""The figures and the board tell one truth (rules.MET), on randomly generated ledgers.

For every unit and every target the rules give (应单独组建, 应建党组织, 应有党员, 实现工作覆盖),
the organizations the figures count as short of that target (``Counts.short``) are exactly
the board's open items of that target: when the unit's ledger is approved, and again after
units have claimed and verified closures of any kind (refused ones change nothing). The
ledger's tally matches a scan of the ledger, the 应建尽建 shortfall is the two Party-org
targets' items, and figures as of a past day count what the rules say of each organization
with the Party orgs founded by then.

Every example judges its ledger by a rule set drawn too: seed 004's, with rules of every field
a rule may have beyond it added now and then (work coverage by one means, two means asked
together, a due date, a share: which judges no organization, so no item is its).

Hypothesis draws the ledgers (examples few, and derandomized, so a run is the same on every
machine and takes some seconds per database); every example is a campaign of its own.
"""

from collections import Counter
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from campaign import figures, rules, rulesets
from campaign.board import services as board
from campaign.board.inputs import ClosureClaim
from campaign.board.models import OPEN_STATES, BoardItem
from campaign.core.errors import Conflict, ValidationFailed
from campaign.core.extensions import db
from campaign.core.rule_changes import change_rules
from campaign.core.vocab import (
    STATUSES_OF,
    EnterpriseCategory,
    PartyOrgStatus,
    SocialCategory,
    Target,
)
from campaign.ledger import services as ledger
from campaign.ledger.models import Organization
from tests import documents
from tests.conftest import make_campaign, make_org, make_unit, make_user
from tests.timeutil import at

BOARD_TARGETS = (Target.STANDALONE, Target.PARTY_ORG, Target.MEMBER, Target.WORK_COVERAGE)
# Around every threshold of seed 004 (30, 50, 100 staff).
STAFF = (0, 3, 29, 30, 49, 50, 99, 100, 160)
# What users type for a 指导员 or a mass organization: names, and blanks of every kind.
TEXTS = ("", " ", "\u3000", "\u00a0 ", "张三", "工会")
FOUNDED = (None, date(2015, 1, 1), date(2026, 9, 1), date(2026, 10, 20))
# Mostly in the base, and mostly without a Party org yet, as a ledger at the start; each kind
# with its own statuses (social organizations leave as 注销/撤销登记/长期停止活动).
STATUSES = {
    kind: ("normal",) * 5 + tuple(s.value for s in STATUSES_OF[kind] if s != "normal")
    for kind in ("enterprise", "social")
}
PARTY_ORGS = ("none",) * 4 + tuple(s.value for s in PartyOrgStatus if s != "none")
PAST_DAY = date(2026, 10, 1)  # for figures as of a past day: some Party orgs came later
PDF = ("批复.pdf", documents.pdf("property"))


@st.composite
def organizations(draw):
    """One ledger row's facts (any combination the ledger can hold)."""
    kind = draw(st.sampled_from(["enterprise", "social"]))
    enterprise = kind == "enterprise"
    formal = draw(st.integers(0, 5))
    categories = EnterpriseCategory if enterprise else SocialCategory
    return {
        "unit": draw(st.integers(0, 1)),
        "kind": kind,
        "category": draw(st.sampled_from([c.value for c in categories])),
        "status": draw(st.sampled_from(STATUSES[kind])),
        "level": None if enterprise else draw(st.sampled_from(["city", "district"])),
        "employees": draw(st.sampled_from(STAFF)),
        "formal": formal,
        "probationary": draw(st.integers(0, 2)),
        "elsewhere": draw(st.integers(0, formal)),
        # 功能型 for enterprises too: rows the ledger may hold from before, which meet nothing.
        "party_org": draw(st.sampled_from(PARTY_ORGS)),
        "founded_on": draw(st.sampled_from(FOUNDED)),
        "instructor": draw(st.sampled_from(TEXTS)),
        "mass": draw(st.sampled_from(TEXTS)),
    }


@st.composite
def rule_sets(draw):
    """Seed 004's rules and 0-2 more asking for work coverage by a means (so also two means
    together), of some staff, maybe with a due date."""
    data = rulesets.preset_data("seed-004")
    extra = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "means": st.sampled_from(list(rules.MEANS)),
                    "min": st.sampled_from((0, 30, 50)),
                    "kind": st.sampled_from((None, "enterprise", "social")),
                    "due": st.sampled_from((None, "2026-10-01", "standalone_due_on")),
                }
            ),
            max_size=2,
        )
    )
    for i, e in enumerate(extra):
        rule = {"code": f"coverage_{i}", "target": "work_coverage", "why": "测试"}
        rule |= {"employees": {"min": e["min"]}, "means": e["means"]}
        rule |= {k: e[k] for k in ("kind", "due") if e[k] is not None}
        data["rules"].append(rule)
    if draw(st.booleans()):
        share = {
            "code": "share",
            "why": "测试",
            "figure": "比例",
            "share": draw(st.integers(1, 100)),
        }
        share["target"] = draw(st.sampled_from([t.value for t in BOARD_TARGETS]))
        share["employees"] = {"min": draw(st.sampled_from((0, 50, 100)))}
        data["rules"].append(share)
    return data


METHODS = ("standalone", "joint", "functional", "work_coverage")
# The methods a unit would try for an item of each target (and, now and then, any other).
TRIED = {
    Target.STANDALONE: ("standalone", "functional"),
    Target.PARTY_ORG: ("joint", "standalone", "functional"),
    Target.MEMBER: ("work_coverage", "joint"),
    Target.WORK_COVERAGE: ("work_coverage", "joint"),
}


def claims(target: Target):
    """A closure a unit might claim for an item of ``target``: its method (None: none yet),
    the formal members it states, and its 指导员."""
    return st.fixed_dictionaries(
        {
            "method": st.sampled_from((None, *TRIED[target], *METHODS)),
            "members": st.integers(0, 5),
            "instructor": st.sampled_from(["", "王指导员"]),
            "mass": st.sampled_from(["", "工会"]),
        }
    )


def _raw(claim: dict, covered: str) -> dict:
    if claim["method"] == "work_coverage":
        return {
            "method": "work_coverage",
            "instructor": claim["instructor"],
            "mass_organizations": claim["mass"],
        }
    return {
        "method": claim["method"],
        "joint_form": "区域联建",
        "party_org_name": "测试党支部",
        "secretary": "张书记",
        "formal_members": str(claim["members"]),
        "established_on": "2026-10-08",
        "covered_codes": covered,
    }


def _assert_one_truth(campaign, units) -> None:
    """Figures and board agree for every unit and target, now and as of a past day."""
    db.session.expire_all()
    counts = {u.id: f.counts for u, f in figures.by_unit(db.session, campaign)}
    items = db.session.scalars(select(BoardItem).where(BoardItem.campaign_id == campaign.id))
    open_items = Counter((i.unit_id, i.target) for i in items if i.state in OPEN_STATES)
    orgs = db.session.scalars(
        select(Organization).where(Organization.campaign_id == campaign.id, Organization.in_base)
    ).all()
    assert not any("share" in o.rule_codes.split(",") for o in orgs)  # a share judges none
    for unit in units:
        c = counts[unit.id]
        for target in BOARD_TARGETS:
            assert c.short(target) == open_items[(unit.id, target)], (unit.code, target, c)
        assert c.required - c.required_met == c.short(Target.STANDALONE) + c.short(Target.PARTY_ORG)
    assert figures.LEDGER_TALLY.matches(db.session, campaign)

    # As of a past day: the same conditions, a Party org founded later being none yet.
    then = {u.id: f.counts for u, f in figures.by_unit(db.session, campaign, as_of=PAST_DAY)}
    expected: Counter = Counter()
    for org in orgs:
        later = org.party_org_founded_on is not None and org.party_org_founded_on > PAST_DAY
        facts = rules.as_if(org, party_org_status=PartyOrgStatus.NONE) if later else org
        if org.target in BOARD_TARGETS and not rules.met(facts, org.target):
            expected[(org.unit_id, org.target)] += 1
    for unit in units:
        for target in BOARD_TARGETS:
            assert then[unit.id].short(target) == expected[(unit.id, target)], (unit.code, target)


def test_the_figures_count_as_short_exactly_what_the_board_holds_open(app):
    storage = Path(app.config["STORAGE_PATH"])
    units = [make_unit("jiangan", "江岸区"), make_unit("wuchang", "武昌区")]
    operators = [make_user(f"{u.code}-op", "operator", u) for u in units]
    leaders = [make_user(f"{u.code}-leader", "leader", u) for u in units]
    coordinator = make_user("city", "coordinator")
    db.session.commit()

    @settings(
        max_examples=30,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        rows=st.lists(organizations(), min_size=1, max_size=12),
        rule_set=rule_sets(),
        data=st.data(),
    )
    def check(rows, rule_set, data):
        with at(2026, 11, 15, 10, 0):
            campaign = make_campaign(2026)
            change_rules(db.session, campaign, rule_set, user=None)
            made = [
                make_org(
                    campaign, units[row["unit"]], **{k: v for k, v in row.items() if k != "unit"}
                )
                for row in rows
            ]
            db.session.commit()
            for unit in units:
                if any(o.unit_id == unit.id for o in made):
                    ledgers = ledger.unit_ledger(db.session, campaign, unit)
                    ledger.submit_ledger(db.session, ledgers, operators[units.index(unit)])
                    ledger.approve_ledger(db.session, ledgers, coordinator)
            db.session.commit()
            _assert_one_truth(campaign, units)

            # Units claim closures, any method, covering other organizations of theirs: in
            # the order of the rows, so that an example replays alike.
            item_ids = db.session.scalars(
                select(BoardItem.id)
                .where(BoardItem.campaign_id == campaign.id)
                .order_by(BoardItem.organization_id)
            ).all()
            for item_id in item_ids:
                item = db.session.get(BoardItem, item_id)
                claim = data.draw(claims(item.target))
                if claim["method"] is None or item.state not in OPEN_STATES:
                    continue
                n = units.index(item.unit)
                others = sorted(
                    o.credit_code
                    for o in made
                    if o.unit_id == item.unit_id and o.id != item.organization_id
                )
                covered = ",".join(
                    data.draw(st.lists(st.sampled_from(others), max_size=2, unique=True))
                    if others
                    else []
                )
                try:
                    board.submit_closure(
                        db.session,
                        item,
                        ClosureClaim.from_form(_raw(claim, covered)),
                        PDF,
                        operators[n],
                        storage,
                    )
                    db.session.commit()
                    board.verify_closure(db.session, db.session.get(BoardItem, item_id), leaders[n])
                    db.session.commit()
                except (ValidationFailed, Conflict):
                    db.session.rollback()
                    pending = board.pending_closure(db.session.get(BoardItem, item_id))
                    if pending is not None:  # filed, then refused at verification
                        board.return_closure(
                            db.session, db.session.get(BoardItem, item_id), "不符合", leaders[n]
                        )
                        db.session.commit()
            _assert_one_truth(campaign, units)

    check()
