"""Tests for campaign.rules (DOMAIN.md §5).

Every expected value here is worked out by hand from DOMAIN.md §5 (and the
seed 004 plan it summarises), not copied from the code's output:

- "有党员" counts formal + probationary; "3名以上正式党员" counts formal only;
  employee thresholds are inclusive ("50人以上" = 50 or more).
- 3+ formal members: standalone (单独组建); 1-2 members: joint; none: grow members.
- Enterprises: 50+ employees must have a member, 100+ a Party org; large
  internet / cultural-creative enterprises and qualifying rural new-type
  business entities must have a Party org.
- Social orgs: city-level 社会团体 (incl. 行业协会商会), private schools and
  hospitals with 30+ staff, law / accounting / tax firms must have a Party org.
- 空壳/僵尸/影子 enterprises leave the base, with a reason.
"""

from dataclasses import dataclass, replace
from types import SimpleNamespace

import pytest

from campaign.core.vocab import (
    EnterpriseCategory,
    OperatingStatus,
    OrgKind,
    PartyOrgStatus,
    Path,
    Target,
)
from campaign.rules import (
    Requirement,
    Thresholds,
    evaluate,
    functional_refusal,
    has_party_org,
    has_work_coverage,
    meets,
    suggested_path,
)


@dataclass(frozen=True)
class Org:
    """A ledger row's facts, with the attribute names of ``rules.OrgFacts``."""

    kind: str
    tags: tuple[str, ...]
    operating_status: str
    registration_level: str | None
    employees: int
    formal_members: int
    probationary_members: int
    party_org_status: str
    instructor: str
    mass_organizations: str
    members_elsewhere: int = 0


def make_org(
    kind="enterprise",
    category="other",
    tags=None,
    employees=0,
    formal=0,
    probationary=0,
    status="normal",
    level=None,
    party_org="none",
    instructor="",
    mass="",
    elsewhere=0,
):
    return Org(
        kind=kind,
        tags=tuple(tags) if tags is not None else (category,),
        operating_status=status,
        registration_level=level,
        employees=employees,
        formal_members=formal,
        probationary_members=probationary,
        party_org_status=party_org,
        instructor=instructor,
        mass_organizations=mass,
        members_elsewhere=elsewhere,
    )


def social(category="other", level="district", **kw):
    return make_org(kind="social", category=category, level=level, **kw)


DEFAULT = Thresholds()


def codes(req: Requirement) -> set[str]:
    """The rule codes that fired, read from both public views of them."""
    from_reasons = {r.code for r in req.reasons}
    from_string = set(req.rule_codes.split(",")) if req.rule_codes else set()
    assert from_reasons == from_string
    assert len(req.reasons) == len(from_reasons), "a rule fired twice"
    return from_reasons


def texts(req: Requirement) -> str:
    return " ".join(r.text for r in req.reasons)


# --------------------------------------------------------------------------
# Thresholds are settings
# --------------------------------------------------------------------------


def test_default_thresholds_are_seed_004():
    assert DEFAULT == Thresholds(
        member_required_employees=50,
        party_org_required_employees=100,
        standalone_formal_members=3,
        social_staff_threshold=30,
        large_enterprise_employees=50,
        rural_min_formal_members=1,
    )


def test_thresholds_of_reads_campaign_settings():
    campaign = SimpleNamespace(
        member_required_employees=15,
        party_org_required_employees=80,
        standalone_formal_members=3,
        social_staff_threshold=20,
        large_enterprise_employees=40,
        rural_min_formal_members=2,
        name="unrelated attribute",
    )
    assert Thresholds.of(campaign) == Thresholds(15, 80, 3, 20, 40, 2)


# --------------------------------------------------------------------------
# Enterprises: employee thresholds (inclusive)
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("employees", "target", "fired"),
    [
        pytest.param(0, Target.WORK_COVERAGE, {"work_coverage"}, id="0-work-coverage"),
        pytest.param(49, Target.WORK_COVERAGE, {"work_coverage"}, id="49-work-coverage"),
        pytest.param(50, Target.MEMBER, {"employees_member"}, id="50-member"),
        pytest.param(99, Target.MEMBER, {"employees_member"}, id="99-member"),
        pytest.param(100, Target.PARTY_ORG, {"employees_party_org"}, id="100-party-org"),
        pytest.param(500, Target.PARTY_ORG, {"employees_party_org"}, id="500-party-org"),
    ],
)
def test_enterprise_employee_thresholds(employees, target, fired):
    req = evaluate(make_org(employees=employees), DEFAULT)
    assert req.target is target
    assert codes(req) == fired
    assert req.path is Path.GROW_MEMBERS  # no members at all
    assert req.in_base


def test_member_reason_text_mentions_threshold():
    req = evaluate(make_org(employees=50), DEFAULT)
    assert "50" in texts(req)
    assert "党员" in texts(req)


def test_party_org_reason_text_mentions_threshold():
    req = evaluate(make_org(employees=100), DEFAULT)
    assert "100" in texts(req)


@pytest.mark.parametrize(
    ("employees", "target"),
    [
        pytest.param(14, Target.WORK_COVERAGE, id="14-below"),
        pytest.param(15, Target.MEMBER, id="15-at"),
        pytest.param(49, Target.MEMBER, id="49-member-under-new-setting"),
    ],
)
def test_member_threshold_is_a_setting_seed_003(employees, target):
    t = Thresholds(member_required_employees=15)
    req = evaluate(make_org(employees=employees), t)
    assert req.target is target
    if target is Target.MEMBER:
        assert codes(req) == {"employees_member"}
        assert "15" in texts(req)
        assert "50" not in texts(req)


def test_party_org_threshold_is_a_setting():
    t = Thresholds(party_org_required_employees=80)
    assert evaluate(make_org(employees=79), t).target is Target.MEMBER
    req = evaluate(make_org(employees=80), t)
    assert req.target is Target.PARTY_ORG
    assert codes(req) == {"employees_party_org"}
    assert "80" in texts(req)


def test_enterprise_with_members_at_50_employees_still_targets_member():
    # Having a member does not change what the rules require; it changes meets().
    req = evaluate(make_org(employees=60, formal=1), DEFAULT)
    assert req.target is Target.MEMBER
    assert req.path is Path.JOINT


# --------------------------------------------------------------------------
# Formal vs probationary members
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formal", "probationary", "target", "path"),
    [
        pytest.param(0, 0, Target.WORK_COVERAGE, Path.GROW_MEMBERS, id="none"),
        pytest.param(0, 1, Target.WORK_COVERAGE, Path.JOINT, id="1-probationary"),
        pytest.param(1, 0, Target.WORK_COVERAGE, Path.JOINT, id="1-formal"),
        pytest.param(2, 0, Target.WORK_COVERAGE, Path.JOINT, id="2-formal"),
        pytest.param(2, 5, Target.WORK_COVERAGE, Path.JOINT, id="2-formal-5-probationary"),
        pytest.param(0, 7, Target.WORK_COVERAGE, Path.JOINT, id="0-formal-7-probationary"),
        pytest.param(3, 0, Target.STANDALONE, Path.STANDALONE, id="3-formal"),
        pytest.param(3, 4, Target.STANDALONE, Path.STANDALONE, id="3-formal-4-probationary"),
        pytest.param(10, 0, Target.STANDALONE, Path.STANDALONE, id="10-formal"),
    ],
)
def test_members_small_enterprise(formal, probationary, target, path):
    org = make_org(employees=10, formal=formal, probationary=probationary)
    req = evaluate(org, DEFAULT)
    assert req.target is target
    assert req.path is path
    assert suggested_path(org, DEFAULT) is path
    if target is Target.STANDALONE:
        assert codes(req) == {"formal_members"}
        assert "3" in texts(req)
    else:
        assert codes(req) == {"work_coverage"}


@pytest.mark.parametrize(
    "kind_kw",
    [
        pytest.param({}, id="enterprise"),
        pytest.param({"kind": "social", "level": "district"}, id="social-org"),
    ],
)
def test_three_formal_members_means_standalone_for_any_kind(kind_kw):
    req = evaluate(make_org(employees=5, formal=3, **kind_kw), DEFAULT)
    assert req.target is Target.STANDALONE
    assert req.path is Path.STANDALONE
    assert codes(req) == {"formal_members"}


def test_standalone_threshold_is_a_setting():
    t = Thresholds(standalone_formal_members=5)
    req4 = evaluate(make_org(formal=4), t)
    assert req4.target is Target.WORK_COVERAGE
    assert req4.path is Path.JOINT
    req5 = evaluate(make_org(formal=5), t)
    assert req5.target is Target.STANDALONE
    assert req5.path is Path.STANDALONE
    assert "5" in texts(req5)


def test_probationary_member_counts_as_having_a_member():
    # 60 employees, 0 formal, 1 probationary: the "有党员" requirement is met
    # once there is also work coverage.
    org = make_org(employees=60, probationary=1, instructor="张三")
    req = evaluate(org, DEFAULT)
    assert req.target is Target.MEMBER
    assert req.path is Path.JOINT
    assert meets(org, req)


def test_probationary_members_do_not_make_standalone_even_with_party_org_requirement():
    # 120 employees, 2 formal + 5 probationary: must have a Party org, but not standalone.
    org = make_org(employees=120, formal=2, probationary=5)
    req = evaluate(org, DEFAULT)
    assert req.target is Target.PARTY_ORG
    assert req.path is Path.JOINT
    assert codes(req) == {"employees_party_org"}


# --------------------------------------------------------------------------
# Enterprises by type
# --------------------------------------------------------------------------


@pytest.mark.parametrize("category", ["internet", "cultural"])
@pytest.mark.parametrize(
    ("employees", "target", "fired"),
    [
        pytest.param(10, Target.WORK_COVERAGE, {"work_coverage"}, id="10"),
        pytest.param(49, Target.WORK_COVERAGE, {"work_coverage"}, id="49"),
        pytest.param(50, Target.PARTY_ORG, {"large_typed_enterprise"}, id="50"),
        pytest.param(99, Target.PARTY_ORG, {"large_typed_enterprise"}, id="99"),
        pytest.param(
            100,
            Target.PARTY_ORG,
            {"large_typed_enterprise", "employees_party_org"},
            id="100",
        ),
    ],
)
def test_large_internet_and_cultural_enterprises(category, employees, target, fired):
    req = evaluate(make_org(category=category, employees=employees), DEFAULT)
    assert req.target is target
    assert codes(req) == fired


def test_large_typed_reason_text_names_type_and_threshold():
    internet = texts(evaluate(make_org(category="internet", employees=50), DEFAULT))
    assert "互联网" in internet and "50" in internet
    cultural = texts(evaluate(make_org(category="cultural", employees=50), DEFAULT))
    assert "文化创意" in cultural and "50" in cultural


def test_large_enterprise_threshold_is_a_setting():
    t = Thresholds(large_enterprise_employees=30)
    assert evaluate(make_org(category="internet", employees=29), t).target is (Target.WORK_COVERAGE)
    req = evaluate(make_org(category="internet", employees=30), t)
    assert req.target is Target.PARTY_ORG
    assert codes(req) == {"large_typed_enterprise"}
    assert "30" in texts(req)


@pytest.mark.parametrize(
    "category",
    ["above_scale", "foreign", "other"],
    ids=["above-scale", "foreign", "other"],
)
def test_other_enterprise_types_are_not_required_by_type(category):
    # A 60-employee enterprise of another type only needs a member.
    req = evaluate(make_org(category=category, employees=60), DEFAULT)
    assert req.target is Target.MEMBER
    assert codes(req) == {"employees_member"}


def test_internet_enterprise_120_employees_4_formal_fires_three_rules():
    req = evaluate(make_org(category="internet", employees=120, formal=4), DEFAULT)
    assert req.target is Target.STANDALONE
    assert req.path is Path.STANDALONE
    assert codes(req) == {
        "formal_members",
        "employees_party_org",
        "large_typed_enterprise",
    }
    assert req.must_have_party_org and req.must_have_member and req.in_base


@pytest.mark.parametrize(
    ("formal", "probationary", "employees", "target", "fired", "path"),
    [
        pytest.param(
            0,
            0,
            5,
            Target.WORK_COVERAGE,
            {"work_coverage"},
            Path.GROW_MEMBERS,
            id="0-formal",
        ),
        pytest.param(
            0,
            2,
            5,
            Target.WORK_COVERAGE,
            {"work_coverage"},
            Path.JOINT,
            id="0-formal-2-probationary",
        ),
        pytest.param(1, 0, 5, Target.PARTY_ORG, {"rural_entity"}, Path.JOINT, id="1-formal"),
        pytest.param(2, 0, 0, Target.PARTY_ORG, {"rural_entity"}, Path.JOINT, id="2-formal"),
        pytest.param(
            3,
            0,
            5,
            Target.STANDALONE,
            {"formal_members", "rural_entity"},
            Path.STANDALONE,
            id="3-formal",
        ),
    ],
)
def test_rural_new_type_business_entity(formal, probationary, employees, target, fired, path):
    org = make_org(category="rural", employees=employees, formal=formal, probationary=probationary)
    req = evaluate(org, DEFAULT)
    assert req.target is target
    assert codes(req) == fired
    assert req.path is path


def test_rural_threshold_is_a_setting():
    t = Thresholds(rural_min_formal_members=2)
    assert evaluate(make_org(category="rural", formal=1), t).target is Target.WORK_COVERAGE
    req = evaluate(make_org(category="rural", formal=2), t)
    assert req.target is Target.PARTY_ORG
    assert codes(req) == {"rural_entity"}


# --------------------------------------------------------------------------
# Social organizations
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "employees",
    [49, 50, 99, 100, 120, 1000],
)
def test_enterprise_employee_rules_do_not_apply_to_social_orgs(employees):
    req = evaluate(social("other", employees=employees), DEFAULT)
    assert req.target is Target.WORK_COVERAGE
    assert codes(req) == {"work_coverage"}
    assert req.path is Path.GROW_MEMBERS
    assert not req.must_have_member


def test_social_org_type_names_that_look_like_enterprise_types_are_ignored():
    # A city-level 其他 social org with 120 staff and no members: work coverage only.
    req = evaluate(social("other", level="city", employees=120), DEFAULT)
    assert req.target is Target.WORK_COVERAGE
    assert codes(req) == {"work_coverage"}


@pytest.mark.parametrize("category", ["school", "hospital"])
@pytest.mark.parametrize(
    ("employees", "target"),
    [
        pytest.param(0, Target.WORK_COVERAGE, id="0"),
        pytest.param(29, Target.WORK_COVERAGE, id="29"),
        pytest.param(30, Target.PARTY_ORG, id="30"),
        pytest.param(200, Target.PARTY_ORG, id="200"),
    ],
)
@pytest.mark.parametrize("level", ["city", "district"])
def test_private_schools_and_hospitals_with_30_staff(category, employees, target, level):
    req = evaluate(social(category, level=level, employees=employees), DEFAULT)
    assert req.target is target
    if target is Target.PARTY_ORG:
        assert codes(req) == {"staffed_social_org"}
        assert "30" in texts(req)
        assert {"school": "民办学校", "hospital": "民办医院"}[category] in texts(req)
    else:
        assert codes(req) == {"work_coverage"}


def test_social_staff_threshold_is_a_setting():
    t = Thresholds(social_staff_threshold=20)
    assert evaluate(social("school", employees=19), t).target is Target.WORK_COVERAGE
    req = evaluate(social("school", employees=20), t)
    assert req.target is Target.PARTY_ORG
    assert "20" in texts(req)


@pytest.mark.parametrize(
    ("category", "label"),
    [
        ("law_firm", "律师事务所"),
        ("accounting_firm", "会计师事务所"),
        ("tax_firm", "税务师事务所"),
    ],
    ids=["law", "accounting", "tax"],
)
@pytest.mark.parametrize("employees", [0, 2, 500])
@pytest.mark.parametrize("level", ["city", "district"])
def test_law_accounting_tax_firms_of_any_size(category, label, employees, level):
    req = evaluate(social(category, level=level, employees=employees), DEFAULT)
    assert req.target is Target.PARTY_ORG
    assert codes(req) == {"professional_firm"}
    assert label in texts(req)
    assert req.path is Path.GROW_MEMBERS


@pytest.mark.parametrize(
    ("category", "level", "target", "fired"),
    [
        pytest.param(
            "association",
            "city",
            Target.PARTY_ORG,
            {"city_social_group"},
            id="city-association",
        ),
        pytest.param(
            "trade_association",
            "city",
            Target.PARTY_ORG,
            {"city_social_group"},
            id="city-trade-association",
        ),
        pytest.param(
            "association",
            "district",
            Target.WORK_COVERAGE,
            {"work_coverage"},
            id="district-association",
        ),
        pytest.param(
            "trade_association",
            "district",
            Target.WORK_COVERAGE,
            {"work_coverage"},
            id="district-trade-association",
        ),
        pytest.param(
            "association",
            None,
            Target.WORK_COVERAGE,
            {"work_coverage"},
            id="association-level-unknown",
        ),
        pytest.param(
            "foundation",
            "city",
            Target.WORK_COVERAGE,
            {"work_coverage"},
            id="city-foundation",
        ),
        pytest.param(
            "foundation",
            "district",
            Target.WORK_COVERAGE,
            {"work_coverage"},
            id="district-foundation",
        ),
        pytest.param("other", "city", Target.WORK_COVERAGE, {"work_coverage"}, id="city-other"),
    ],
)
def test_city_level_social_groups(category, level, target, fired):
    req = evaluate(social(category, level=level, employees=10), DEFAULT)
    assert req.target is target
    assert codes(req) == fired
    if target is Target.PARTY_ORG:
        assert "市级社会团体" in texts(req)


def test_social_org_with_three_formal_members_and_type_rule_fires_both():
    req = evaluate(social("association", level="city", employees=10, formal=3), DEFAULT)
    assert req.target is Target.STANDALONE
    assert codes(req) == {"formal_members", "city_social_group"}


def test_social_org_many_members_two_formal_joint():
    req = evaluate(social("law_firm", employees=8, formal=2, probationary=5), DEFAULT)
    assert req.target is Target.PARTY_ORG
    assert req.path is Path.JOINT


def test_enterprise_rules_by_type_do_not_apply_to_social_orgs():
    # A social org coded "rural" / "internet" would be bad data; the enterprise
    # type rules must not fire for it anyway.
    assert codes(evaluate(social("internet", employees=200), DEFAULT)) == {"work_coverage"}
    assert codes(evaluate(social("rural", formal=1), DEFAULT)) == {"work_coverage"}


def test_social_type_rules_do_not_apply_to_enterprises():
    # Conversely, an enterprise never fires the social-org rules.
    req = evaluate(make_org(category="other", level="city", employees=40), DEFAULT)
    assert codes(req) == {"work_coverage"}


# --------------------------------------------------------------------------
# Exclusions
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "label"),
    [("shell", "空壳"), ("zombie", "僵尸"), ("shadow", "影子")],
    ids=["shell", "zombie", "shadow"],
)
@pytest.mark.parametrize(
    "facts",
    [
        pytest.param({}, id="empty"),
        pytest.param({"employees": 500}, id="500-employees"),
        pytest.param(
            {"employees": 120, "formal": 5, "category": "internet"},
            id="large-internet-5-formal",
        ),
        pytest.param({"category": "rural", "formal": 2}, id="rural-2-formal"),
    ],
)
def test_shell_zombie_shadow_enterprises_leave_the_base(status, label, facts):
    org = make_org(status=status, **facts)
    req = evaluate(org, DEFAULT)
    assert req.target is Target.EXCLUDED
    assert not req.in_base
    assert not req.must_have_party_org
    assert not req.must_have_member
    assert req.path is Path.NONE
    # never silently: one reason, naming the status
    assert codes(req) == {"excluded_status"}
    assert label in texts(req)
    assert meets(org, req)


@pytest.mark.parametrize(
    ("employees", "target"),
    [(10, Target.WORK_COVERAGE), (60, Target.MEMBER), (150, Target.PARTY_ORG)],
    ids=["10", "60", "150"],
)
def test_suspended_enterprise_stays_in_the_base(employees, target):
    req = evaluate(make_org(status="suspended", employees=employees), DEFAULT)
    assert req.in_base
    assert req.target is target
    assert "excluded_status" not in codes(req)


@pytest.mark.parametrize("status", ["normal", "shell", "zombie", "shadow", "suspended"])
def test_an_enterprise_status_never_excludes_a_social_org(status):
    req = evaluate(social("law_firm", status=status, employees=5), DEFAULT)
    assert req.in_base
    assert req.target is Target.PARTY_ORG
    assert codes(req) == {"professional_firm"}


@pytest.mark.parametrize(
    ("status", "label"),
    [("deregistered", "注销"), ("revoked", "撤销登记"), ("inactive", "长期停止活动")],
)
def test_social_orgs_deregistered_revoked_or_inactive_leave_the_base(status, label):
    # A city-level 社会团体 with 3 formal members would have to set up its own Party org.
    org = social("association", level="city", status=status, formal=3, employees=40)
    req = evaluate(org, DEFAULT)
    assert (req.target, req.in_base, req.path) == (Target.EXCLUDED, False, Path.NONE)
    assert codes(req) == {"excluded_status"}
    assert texts(req) == f"社会组织已{label}，不纳入党建基数"


@pytest.mark.parametrize("status", ["deregistered", "revoked", "inactive"])
def test_a_social_status_never_excludes_an_enterprise(status):
    req = evaluate(make_org(status=status, employees=150), DEFAULT)
    assert (req.target, req.in_base) == (Target.PARTY_ORG, True)


# --------------------------------------------------------------------------
# Requirement properties
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "in_base", "party_org", "member"),
    [
        (Target.EXCLUDED, False, False, False),
        (Target.STANDALONE, True, True, True),
        (Target.PARTY_ORG, True, True, True),
        (Target.MEMBER, True, False, True),
        (Target.WORK_COVERAGE, True, False, False),
    ],
    ids=lambda v: v.value if isinstance(v, Target) else None,
)
def test_requirement_properties(target, in_base, party_org, member):
    req = Requirement(target, Path.NONE, ())
    assert req.in_base is in_base
    assert req.must_have_party_org is party_org
    assert req.must_have_member is member


# --------------------------------------------------------------------------
# suggested_path
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formal", "probationary", "path"),
    [
        pytest.param(0, 0, Path.GROW_MEMBERS, id="0+0-grow"),
        pytest.param(0, 1, Path.JOINT, id="0+1-joint"),
        pytest.param(1, 0, Path.JOINT, id="1+0-joint"),
        pytest.param(2, 0, Path.JOINT, id="2+0-joint"),
        pytest.param(2, 5, Path.JOINT, id="2+5-joint"),
        pytest.param(3, 0, Path.STANDALONE, id="3+0-standalone"),
        pytest.param(4, 2, Path.STANDALONE, id="4+2-standalone"),
    ],
)
@pytest.mark.parametrize("kind", ["enterprise", "social"])
def test_suggested_path(formal, probationary, path, kind):
    org = make_org(kind=kind, formal=formal, probationary=probationary)
    assert suggested_path(org, DEFAULT) is path


def test_suggested_path_reads_standalone_threshold():
    org = make_org(formal=3)
    assert suggested_path(org, Thresholds(standalone_formal_members=4)) is Path.JOINT


# --------------------------------------------------------------------------
# has_party_org / has_work_coverage
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [("none", False), ("standalone", True), ("joint", True), ("functional", True)],
)
def test_has_party_org(status, expected):
    assert has_party_org(make_org(party_org=status)) is expected


@pytest.mark.parametrize(
    ("party_org", "instructor", "mass", "expected"),
    [
        pytest.param("none", "", "", False, id="nothing"),
        pytest.param("none", "   ", "", False, id="blank-instructor"),
        pytest.param("none", "\t\n\u3000", "", False, id="whitespace-incl-ideographic"),
        pytest.param("none", "", "  ", False, id="blank-mass"),
        pytest.param("none", "张三", "", True, id="instructor"),
        pytest.param("none", "", "工会", True, id="union"),
        pytest.param("none", "", "共青团、妇联", True, id="youth-league-women"),
        pytest.param("standalone", "", "", True, id="standalone-org"),
        pytest.param("joint", "", "", True, id="joint-org"),
        pytest.param("functional", "", "", True, id="functional-org"),
    ],
)
def test_has_work_coverage(party_org, instructor, mass, expected):
    org = make_org(party_org=party_org, instructor=instructor, mass=mass)
    assert has_work_coverage(org) is expected


# --------------------------------------------------------------------------
# meets
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("party_org", "expected"),
    [
        pytest.param("none", False, id="none"),
        pytest.param("standalone", True, id="standalone"),
        pytest.param("joint", False, id="joint"),
        # An enterprise may not have a 功能型 Party org at all (seed 004 allows one to social
        # organizations made up mainly of people from 机关事业单位).
        pytest.param("functional", False, id="functional"),
    ],
)
def test_an_enterprise_meets_standalone_only_by_a_standalone_org(party_org, expected):
    org = make_org(employees=20, formal=3, party_org=party_org, instructor="张三", mass="工会")
    req = evaluate(org, DEFAULT)
    assert req.target is Target.STANDALONE
    assert meets(org, req) is expected


@pytest.mark.parametrize(
    ("party_org", "expected"),
    [
        pytest.param("none", False, id="none"),
        pytest.param("standalone", True, id="standalone"),
        pytest.param("joint", True, id="joint"),
    ],
)
@pytest.mark.parametrize(
    "facts",
    [
        pytest.param({"employees": 150, "formal": 2}, id="enterprise-150"),
        pytest.param(
            {"kind": "social", "category": "law_firm", "employees": 3, "formal": 1},
            id="law-firm",
        ),
        pytest.param(
            {
                "kind": "social",
                "category": "association",
                "level": "city",
                "probationary": 1,
            },
            id="city-association",
        ),
    ],
)
def test_meets_party_org_by_a_standalone_or_joint_org(party_org, expected, facts):
    org = make_org(party_org=party_org, **facts)
    req = evaluate(org, DEFAULT)
    assert req.target is Target.PARTY_ORG
    assert meets(org, req) is expected


# Seed 004: "以机关事业单位人员为主体组成的社会组织等，可以建立功能型党组织，党员按照一方隶属…
# 不重复进行党内统计": a social organization more than half of whose formal members keep their
# Party relationship elsewhere meets its duty with a 功能型 Party org, whatever the duty;
# an enterprise never does, nor a social organization whose members are mainly its own.
@pytest.mark.parametrize(
    ("facts", "target", "expected"),
    [
        pytest.param(
            {"kind": "social", "level": "district", "employees": 40, "formal": 4, "elsewhere": 3},
            Target.STANDALONE,
            True,
            id="social-4-formal-3-elsewhere",
        ),
        pytest.param(
            {"kind": "social", "level": "district", "employees": 40, "formal": 3, "elsewhere": 3},
            Target.STANDALONE,
            True,
            id="social-all-elsewhere",
        ),
        pytest.param(
            {"kind": "social", "level": "district", "employees": 40, "formal": 4, "elsewhere": 2},
            Target.STANDALONE,
            False,
            id="social-exactly-half-elsewhere",
        ),
        pytest.param(
            {"kind": "social", "level": "district", "employees": 40, "formal": 3},
            Target.STANDALONE,
            False,
            id="social-none-elsewhere",
        ),
        pytest.param(
            {"kind": "social", "category": "law_firm", "employees": 3, "formal": 1, "elsewhere": 1},
            Target.PARTY_ORG,
            True,
            id="law-firm-1-of-1-elsewhere",
        ),
        pytest.param(
            {"kind": "social", "category": "law_firm", "employees": 3, "formal": 1},
            Target.PARTY_ORG,
            False,
            id="law-firm-own-member",
        ),
        pytest.param(
            # Probationary members only: no formal member keeps a relationship elsewhere.
            {"kind": "social", "category": "association", "level": "city", "probationary": 1},
            Target.PARTY_ORG,
            False,
            id="city-association-probationary-only",
        ),
        pytest.param(
            {"employees": 150, "formal": 2, "elsewhere": 2},
            Target.PARTY_ORG,
            False,
            id="enterprise-150",
        ),
        pytest.param(
            {"employees": 20, "formal": 4, "elsewhere": 4},
            Target.STANDALONE,
            False,
            id="enterprise-4-formal",
        ),
    ],
)
def test_a_functional_org_meets_the_duty_only_where_the_seed_allows_one(facts, target, expected):
    org = make_org(party_org="functional", **facts)
    req = evaluate(org, DEFAULT)
    assert req.target is target
    assert meets(org, req) is expected
    assert (functional_refusal(org) is None) is expected


def test_functional_refusals_say_why_in_chinese():
    assert functional_refusal(make_org(employees=150, formal=4, elsewhere=4)) == (
        "功能型党组织适用于以机关事业单位人员为主体组成的社会组织，非公企业不能建立功能型党组织"
    )
    assert functional_refusal(social(formal=4, elsewhere=2)) == (
        "功能型党组织适用于以机关事业单位人员为主体组成的社会组织：组织关系在外的正式党员"
        "（2名）须超过正式党员（4名）的一半"
    )


def test_members_elsewhere_do_not_change_the_target():
    # They are formal members working here: 3 of them still make 应单独组建 (a 功能型 Party org
    # then meets it), and the rules' verdict reads the same facts as before.
    req = evaluate(social(formal=3, elsewhere=3), DEFAULT)
    assert req.target is Target.STANDALONE and req.path is Path.STANDALONE


def test_meets_party_org_not_by_work_coverage_alone():
    org = make_org(employees=150, formal=1, instructor="张三", mass="工会")
    req = evaluate(org, DEFAULT)
    assert req.target is Target.PARTY_ORG
    assert not meets(org, req)


@pytest.mark.parametrize(
    ("formal", "probationary", "party_org", "instructor", "mass", "expected"),
    [
        pytest.param(0, 0, "none", "", "", False, id="nothing"),
        pytest.param(0, 0, "none", "张三", "工会", False, id="coverage-no-member"),
        pytest.param(1, 0, "none", "", "", False, id="member-no-coverage"),
        pytest.param(1, 0, "none", "  ", "", False, id="member-blank-instructor"),
        pytest.param(1, 0, "none", "张三", "", True, id="formal-instructor"),
        pytest.param(0, 1, "none", "张三", "", True, id="probationary-instructor"),
        pytest.param(0, 1, "none", "", "工会", True, id="probationary-union"),
        pytest.param(2, 0, "joint", "", "", True, id="joint-org"),
        pytest.param(1, 1, "functional", "", "", True, id="functional-org"),
    ],
)
def test_meets_member(formal, probationary, party_org, instructor, mass, expected):
    org = make_org(
        employees=60,
        formal=formal,
        probationary=probationary,
        party_org=party_org,
        instructor=instructor,
        mass=mass,
    )
    req = evaluate(org, DEFAULT)
    assert req.target is Target.MEMBER
    assert meets(org, req) is expected


@pytest.mark.parametrize(
    ("party_org", "instructor", "mass", "expected"),
    [
        pytest.param("none", "", "", False, id="nothing"),
        pytest.param("none", " ", " ", False, id="blank"),
        pytest.param("none", "李四", "", True, id="instructor"),
        pytest.param("none", "", "妇联", True, id="mass-org"),
        pytest.param("joint", "", "", True, id="joint-org"),
        pytest.param("standalone", "", "", True, id="standalone-org"),
        pytest.param("functional", "", "", True, id="functional-org"),
    ],
)
@pytest.mark.parametrize(
    "facts",
    [
        pytest.param({"employees": 10}, id="small-enterprise"),
        pytest.param({"kind": "social", "employees": 120}, id="social-other-120"),
    ],
)
def test_meets_work_coverage(party_org, instructor, mass, expected, facts):
    org = make_org(party_org=party_org, instructor=instructor, mass=mass, **facts)
    req = evaluate(org, DEFAULT)
    assert req.target is Target.WORK_COVERAGE
    assert meets(org, req) is expected


def test_meets_work_coverage_needs_no_member():
    org = make_org(employees=10, instructor="李四")
    assert meets(org, evaluate(org, DEFAULT))


def test_meets_uses_the_requirement_given():
    # meets() judges against the requirement passed in, so a stored requirement
    # can be re-checked after the facts change.
    org = make_org(employees=10, instructor="李四")
    stricter = Requirement(Target.PARTY_ORG, Path.GROW_MEMBERS, ())
    assert not meets(org, stricter)
    assert meets(replace(org, party_org_status="joint"), stricter)


# --------------------------------------------------------------------------
# Values are the stored codes and compare with plain strings
# --------------------------------------------------------------------------


def test_evaluate_accepts_enum_members_as_facts():
    org = make_org(
        kind=OrgKind.ENTERPRISE,
        category=EnterpriseCategory.INTERNET,
        status=OperatingStatus.NORMAL,
        employees=60,
        party_org=PartyOrgStatus.JOINT,
    )
    req = evaluate(org, DEFAULT)
    assert req.target is Target.PARTY_ORG
    assert codes(req) == {"large_typed_enterprise"}
    assert meets(org, req)


class _Recording:
    """An organization that notes every fact the rules read from it."""

    def __init__(self, org: Org, read: set[str]):
        self._org, self._read = org, read

    def __getattr__(self, name: str):
        self._read.add(name)
        return getattr(self._org, name)


def test_evaluate_reads_only_the_evaluated_facts():
    # An import evaluates each combination of EVALUATED_FACTS once and reuses the verdict:
    # a rule reading another fact must be added there.
    from itertools import product

    from campaign.core.vocab import RegistrationLevel, SocialCategory
    from campaign.rules import EVALUATED_FACTS

    read: set[str] = set()
    orgs = [
        make_org(category=c, status=s, employees=e, formal=f, probationary=p)
        for c, s, e, f, p in product(
            EnterpriseCategory, OperatingStatus, (0, 30, 50, 100), (0, 1, 3), (0, 1)
        )
    ] + [
        social(category=c, level=level, employees=e, formal=f, probationary=p)
        for c, level, e, f, p in product(SocialCategory, RegistrationLevel, (0, 30), (0, 3), (0, 1))
    ]
    for org in orgs:
        evaluate(_Recording(org, read), DEFAULT)
    assert read <= set(EVALUATED_FACTS)
    assert "employees" in read and "probationary_members" in read


def test_blank_means_the_same_in_python_and_in_sql():
    # rules.WHITESPACE is what str.strip() strips, so the SQL reading trims the same.
    import sys

    from campaign.rules import WHITESPACE

    assert set(WHITESPACE) == {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()}
