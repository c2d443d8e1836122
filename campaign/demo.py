"""The demo campaign: Wuhan's real districts and departments, a synthetic ledger, demo users.

Deterministic (a fixed seed), so every demo looks the same and tests can rely on it.
`flask --app app demo load` runs it; `make run` calls it on an empty database.
"""

import math
import random
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask.cli import AppGroup
from sqlalchemy import func, insert, select

from campaign import audit, figures, rules, rulesets
from campaign.board import services as board
from campaign.board.models import BoardItem, Closure, ClosureMethod, ClosureStatus, ItemState
from campaign.core import clock
from campaign.core.accounts import create_user
from campaign.core.campaigns import build_deadline, create_from_template
from campaign.core.db import Session
from campaign.core.extensions import db
from campaign.core.models import Campaign, Unit, User
from campaign.core.templates import TEMPLATES
from campaign.core.vocab import (
    STATUSES_OF,
    Affiliation,
    EnterpriseCategory,
    LiaisonRole,
    OperatingStatus,
    OrgKind,
    PartyOrgStatus,
    RegistrationLevel,
    Role,
    SocialCategory,
    UnitKind,
)
from campaign.forecast import services as forecast
from campaign.half_monthly import services as half_monthly
from campaign.half_monthly.inputs import ReportText
from campaign.ledger import creditcode, excel
from campaign.ledger.models import LedgerStatus, Organization, UnitLedger
from campaign.ledger.services import apply_rules, note_exclusion
from campaign.quality import services as quality
from campaign.timeline.models import Deliverable, Review, Task, TaskStatus, TaskSubmission

DEMO_PASSWORD = "gongjian-demo"
SEED = 20160814

# (code, name, streets/towns, parks); districts in the city's customary order.
DISTRICTS = [
    (
        "jiangan",
        "江岸区",
        [
            "大智街道",
            "一元街道",
            "车站街道",
            "四唯街道",
            "永清街道",
            "球场街道",
            "后湖街道",
            "谌家矶街道",
        ],
        [],
    ),
    (
        "jianghan",
        "江汉区",
        [
            "民族街道",
            "花楼街道",
            "水塔街道",
            "民权街道",
            "满春街道",
            "唐家墩街道",
            "常青街道",
            "北湖街道",
        ],
        [],
    ),
    (
        "qiaokou",
        "硚口区",
        [
            "古田街道",
            "韩家墩街道",
            "宗关街道",
            "汉水桥街道",
            "宝丰街道",
            "荣华街道",
            "汉中街道",
            "六角亭街道",
        ],
        [],
    ),
    (
        "hanyang",
        "汉阳区",
        [
            "建桥街道",
            "鹦鹉街道",
            "洲头街道",
            "五里墩街道",
            "琴断口街道",
            "江汉二桥街道",
            "四新街道",
        ],
        [],
    ),
    (
        "wuchang",
        "武昌区",
        [
            "积玉桥街道",
            "杨园街道",
            "徐家棚街道",
            "粮道街道",
            "中华路街道",
            "首义路街道",
            "南湖街道",
            "中南路街道",
        ],
        [],
    ),
    (
        "qingshan",
        "青山区",
        [
            "红卫路街道",
            "冶金街道",
            "新沟桥街道",
            "厂前街道",
            "钢花村街道",
            "工人村街道",
            "武东街道",
        ],
        [],
    ),
    (
        "hongshan",
        "洪山区",
        [
            "珞南街道",
            "关山街道",
            "狮子山街道",
            "张家湾街道",
            "梨园街道",
            "卓刀泉街道",
            "洪山街道",
            "和平街道",
        ],
        [],
    ),
    (
        "dongxihu",
        "东西湖区",
        ["吴家山街道", "将军路街道", "慈惠街道", "走马岭街道", "径河街道", "金银湖街道"],
        ["武汉临空港经济技术开发区"],
    ),
    ("hannan", "汉南区", ["纱帽街道", "邓南街道", "东荆街道", "湘口街道"], []),
    (
        "caidian",
        "蔡甸区",
        ["蔡甸街道", "奓山街道", "永安街道", "侏儒山街道", "大集街道", "张湾街道"],
        [],
    ),
    (
        "jiangxia",
        "江夏区",
        ["纸坊街道", "金口街道", "乌龙泉街道", "郑店街道", "五里界街道"],
        ["江夏经济开发区"],
    ),
    (
        "huangpi",
        "黄陂区",
        ["前川街道", "祁家湾街道", "横店街道", "罗汉寺街道", "滠口街道", "武湖街道", "天河街道"],
        [],
    ),
    (
        "xinzhou",
        "新洲区",
        ["邾城街道", "阳逻街道", "仓埠街道", "汪集街道", "李集街道"],
        ["阳逻经济开发区"],
    ),
    (
        "donghu",
        "东湖新技术开发区",
        ["关东街道", "佛祖岭街道", "豹澥街道", "花山街道", "九峰街道"],
        ["光谷软件园", "光谷生物城"],
    ),
    (
        "wedz",
        "武汉经济技术开发区",
        ["沌口街道", "沌阳街道", "军山街道", "官莲湖街道"],
        ["汽车及零部件产业园"],
    ),
]
# City departments keeping a ledger of city-level social organizations (附表2).
LEDGER_DEPARTMENTS = [("mzj", "市民政局"), ("jggw", "市直机关工委")]
# Verifying departments (DOMAIN.md §3); no ledger of their own.
OTHER_DEPARTMENTS = [
    ("tzb", "市委统战部"),
    ("gsj", "市工商局"),
    ("swj", "市商务局"),
    ("jxw", "市经信委"),
    ("gsl", "市工商联"),
    ("jyj", "市教育局"),
    ("wjw", "市卫生计生委"),
    ("sfj", "市司法局"),
    ("czj", "市财政局"),
    ("dsj", "市地税局"),
]
SUPERVISORS = [
    "市教育局",
    "市卫生计生委",
    "市司法局",
    "市财政局",
    "市地税局",
    "市科技局",
    "市文化局",
    "市体育局",
]

NAME_HEADS = list("鸿华兴瑞恒泰丰盛荣达信诚德裕安宏博远嘉成汇通顺昌隆江汉楚天黄鹤晴川长江东湖光谷")
NAME_TRADES = {
    EnterpriseCategory.ABOVE_SCALE: ["机械制造", "建材", "钢构", "食品", "医药", "物流"],
    EnterpriseCategory.FOREIGN: ["汽车配件", "电子", "精密仪器", "化工"],
    EnterpriseCategory.INTERNET: ["网络科技", "信息技术", "数据科技", "软件"],
    EnterpriseCategory.CULTURAL: ["文化传媒", "创意设计", "影视", "动漫"],
    EnterpriseCategory.RURAL: ["农业专业合作社", "家庭农场", "生态农业"],
    EnterpriseCategory.OTHER: ["商贸", "建筑工程", "物业管理", "餐饮管理", "装饰工程", "人力资源"],
}
SOCIAL_NAMES = {
    SocialCategory.ASSOCIATION: "{head}{x}研究会",
    SocialCategory.SCHOOL: "{head}{x}学校",
    SocialCategory.HOSPITAL: "{head}{x}医院",
    SocialCategory.LAW_FIRM: "湖北{head}{x}律师事务所",
    SocialCategory.ACCOUNTING_FIRM: "{head}{x}会计师事务所",
    SocialCategory.TAX_FIRM: "{head}{x}税务师事务所",
    SocialCategory.FOUNDATION: "{head}{x}公益基金会",
    SocialCategory.TRADE_ASSOCIATION: "{city}{x}行业协会",
    SocialCategory.OTHER: "{head}{x}服务中心",
}
SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华红建国志文斌"

# When in the build phase a unit set up its Party orgs: a share of the window drawn evenly is
# moved to this share, so that some units speed up, some stall and most keep a steady pace
# (the forecast's backtest has something to tell apart).
PACES = {
    "steady": lambda x: x,
    "speeding_up": math.sqrt,  # few at first, more and more
    "stalling": lambda x: 0.55 * x,  # all in the first half, then nothing
    "slowing": lambda x: 1 - (1 - x) ** 2,  # many at first, fewer and fewer
}


def unit_paces(codes: list[str]) -> dict[str, str]:
    """Each unit's pace, drawn from its own generator (the ledger's draws stay as they were)."""
    draw = random.Random(SEED + 1)
    return {code: draw.choices(list(PACES), weights=[5, 3, 2, 2])[0] for code in codes}


demo_cli = AppGroup("demo", help="演示数据。")


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def create_units(session: Session) -> dict[str, Unit]:
    """The city, its districts with streets and parks, and its departments."""
    units: dict[str, Unit] = {}
    city = Unit(code="city", name="市委组织部", kind=UnitKind.CITY, position=0)
    session.add(city)
    position = 1
    for code, name, streets, parks in DISTRICTS:
        district = Unit(
            code=code,
            name=name,
            kind=UnitKind.DISTRICT,
            parent=city,
            is_responsible=True,
            position=position,
        )
        units[code] = district
        for i, area in enumerate(streets + parks, start=1):
            kind = UnitKind.PARK if area in parks else UnitKind.STREET
            units[f"{code}-{i:02d}"] = Unit(
                code=f"{code}-{i:02d}", name=area, kind=kind, parent=district, position=i
            )
        position += 1
    for code, name in LEDGER_DEPARTMENTS:
        units[code] = Unit(
            code=code,
            name=name,
            kind=UnitKind.DEPARTMENT,
            parent=city,
            is_responsible=True,
            position=position,
        )
        position += 1
    for code, name in OTHER_DEPARTMENTS:
        units[code] = Unit(
            code=code, name=name, kind=UnitKind.DEPARTMENT, parent=city, position=position
        )
        position += 1
    session.add_all(units.values())
    session.flush()
    return units


def _employees(rng: random.Random, category) -> int:
    if category == EnterpriseCategory.ABOVE_SCALE:
        return rng.randint(60, 900)
    if category == EnterpriseCategory.FOREIGN:
        return rng.randint(20, 600)
    if category in (EnterpriseCategory.INTERNET, EnterpriseCategory.CULTURAL):
        return int(rng.lognormvariate(3.4, 0.9))
    return int(rng.lognormvariate(2.6, 1.0))


def registration_level(unit: Unit, kind: str) -> str | None:
    """登记层级 of a synthetic social organization: a district's are district-level, the
    city departments' city-level; enterprises have none."""
    if kind != OrgKind.SOCIAL:
        return None
    return RegistrationLevel.DISTRICT if unit.kind == UnitKind.DISTRICT else RegistrationLevel.CITY


def _synthetic_org(
    rng, serial, kind, unit, area, level, skill: float, progress: float, window, pace=None
):
    """One ledger row. ``skill`` is how well the unit does; ``progress`` how far the campaign is;
    ``pace`` when in the window its Party orgs were set up (``PACES``)."""
    pace = pace or PACES["steady"]
    head = rng.choice(NAME_HEADS) + rng.choice(NAME_HEADS)
    if kind == OrgKind.ENTERPRISE:
        category = rng.choices(list(NAME_TRADES), weights=[8, 3, 6, 4, 5, 30])[0]
        name = f"武汉{head}{rng.choice(NAME_TRADES[category])}有限公司"
        if category == EnterpriseCategory.RURAL:
            name = f"{area.name[:2]}{head}{rng.choice(NAME_TRADES[category])}"
        employees = _employees(rng, category)
        status = rng.choices(STATUSES_OF[kind], weights=[92, 2, 2, 1, 3])[0]
    else:
        category = rng.choices(list(SocialCategory), weights=[10, 8, 5, 5, 3, 2, 2, 6, 10])[0]
        name = SOCIAL_NAMES[category].format(
            head=head, x=rng.choice("一二三新华中东西南北"), city="武汉市"
        )
        employees = int(rng.lognormvariate(2.7, 0.9))
        status = OperatingStatus.NORMAL
    employees = max(1, employees)
    member_chance = min(0.95, 0.15 + employees / 200)
    formal = 0
    if rng.random() < member_chance:
        formal = min(employees, max(1, int(rng.expovariate(1 / max(1.0, employees / 25)))))
    probationary = 1 if rng.random() < 0.08 else 0
    org = dict(
        kind=kind.value,
        name=f"{name}",
        credit_code=creditcode.make(serial, kind="91" if kind == OrgKind.ENTERPRISE else "52"),
        unit_id=unit.id,
        area_id=area.id if area else None,
        district_name=unit.name if unit.kind == UnitKind.DISTRICT else "",
        category=category.value,
        tags=[category.value],
        operating_status=status.value,
        registration_level=level.value if level else None,
        supervising_unit=rng.choice(SUPERVISORS)
        if level == RegistrationLevel.CITY and unit.code == "jggw"
        else "",
        employees=employees,
        formal_members=formal,
        probationary_members=probationary,
        members_elsewhere=0,
        investor=_person(rng),
        investor_is_member=rng.random() < 0.1,
        party_org_status=PartyOrgStatus.NONE.value,
        party_org_name="",
        party_org_founded_on=None,
        no_party_org_reason="",
        instructor="",
        mass_organizations="",
        measures="",
        planned_on=None,
        responsible_person=_person(rng),
    )
    # Before the campaign: some already had a Party org; during it, more were set up.
    had_before = formal >= 3 and rng.random() < 0.45 or formal >= 1 and rng.random() < 0.15
    # Joint Party orgs also cover organizations with no member of their own.
    reach = 0.95 if formal + probationary else 0.75
    built_now = not had_before and rng.random() < progress * skill * reach
    start, today = window
    if had_before or built_now:
        joint = formal < 3 or rng.random() < 0.1
        org["party_org_status"] = (
            PartyOrgStatus.JOINT if joint else PartyOrgStatus.STANDALONE
        ).value
        if kind == OrgKind.SOCIAL and rng.random() < 0.1 and formal:
            # 功能型: staffed from 机关事业单位, its members' relationships kept there.
            org["party_org_status"] = PartyOrgStatus.FUNCTIONAL.value
            org["members_elsewhere"] = formal
        org["party_org_name"] = f"中共{name}{'联合' if joint else ''}支部委员会"
        if had_before:
            org["party_org_founded_on"] = date(
                start.year - rng.randint(1, 12), rng.randint(1, 12), rng.randint(1, 28)
            )
        else:
            span = max(0, (today - start).days)
            drawn = rng.randint(0, span)  # evenly over the window, then the unit's pace
            org["party_org_founded_on"] = start + timedelta(
                days=round(pace(drawn / (span or 1)) * span)
            )
    else:
        if rng.random() < 0.35 + 0.4 * progress * skill:
            org["instructor"] = _person(rng)
        if rng.random() < 0.3:
            org["mass_organizations"] = rng.choice(["工会", "共青团", "工会、妇联", "工会、共青团"])
        org["no_party_org_reason"] = "无党员" if formal + probationary == 0 else "党员不足3名"
        org["measures"] = (
            "选派党建工作指导员，发展党员" if formal + probationary == 0 else "联合组建"
        )
        org["planned_on"] = start + timedelta(days=rng.randint(20, 100))
    org.update(_phase_fields(org, serial, unit, level, skill, progress, window))
    return org


_LIAISON_UNITS = ("组织部", "商务局", "经信局", "市场监管局", "民政局", "司法局", "工商联")


def _phase_fields(
    org: dict, serial: int, unit: Unit, level, skill: float, progress: float, window
) -> dict:
    """Seed 004 phases 5 and 6 on one row: its Party org's 隶属关系 (属地 for enterprises and
    district-level social organizations, 行业/主管部门 for city-level ones, as the plan's
    principle has it; a few otherwise), whether it is put right, and the 第一书记 or 指导员 sent
    to a Party org set up in the campaign. Drawn from the row's own generator, so the rest of
    the demo (and the figures tests read from it) stays as it was."""
    fields: dict = dict(excel.NO_PHASES)
    founded = org["party_org_founded_on"]
    if org["party_org_status"] == PartyOrgStatus.NONE.value or founded is None:
        return fields
    rng = random.Random(SEED * 1_000_003 + serial)
    start, today = window
    expected = (
        rng.choice([Affiliation.INDUSTRY, Affiliation.DEPARTMENT])
        if level == RegistrationLevel.CITY
        else Affiliation.TERRITORIAL
    )
    fields["affiliation"] = (
        expected if rng.random() < 0.85 else rng.choice(list(Affiliation))
    ).value
    since = max(start, founded)
    if today > since and rng.random() < 0.25 + 0.6 * progress * skill:
        fields["affiliation_settled"] = True
        fields["affiliation_settled_on"] = since + timedelta(
            days=rng.randint(1, (today - since).days)
        )
    if founded >= start and rng.random() < 0.3 + 0.6 * skill:
        role = LiaisonRole.FIRST_SECRETARY if rng.random() < 0.6 else LiaisonRole.INSTRUCTOR
        fields.update(
            liaison_role=role.value,
            liaison_name=_person(rng),
            liaison_unit=f"{unit.name}{rng.choice(_LIAISON_UNITS)}",
            liaison_assigned_on=founded
            + timedelta(days=rng.randint(0, max(0, (today - founded).days))),
        )
    return fields


def ledgers_reviewed_at(campaign: Campaign, today: date) -> datetime:
    """When the demo's ledgers were reviewed: the end of the survey phase (08-26, 18:00)."""
    survey = next((p.ends_on for p in campaign.phases if p.code == "survey"), campaign.starts_on)
    return datetime.combine(survey, time(18), ZoneInfo(campaign.timezone))


def approve_ledgers(session: Session, campaign: Campaign, units: list, today: date) -> None:
    """The survey phase is over: every unit's ledger was reviewed (08-26) and is its base."""
    reviewed = ledgers_reviewed_at(campaign, today)
    for unit in units:
        session.add(
            UnitLedger(
                campaign_id=campaign.id,
                unit_id=unit.id,
                status=LedgerStatus.APPROVED,
                submitted_at=reviewed,
                reviewed_at=reviewed,
                review_comment="审核通过",
            )
        )


def placement(today: date) -> int:
    """Days to move the template's dates (of ``today``'s year) by so that ``today`` falls in
    集中组建: none when it does already, else about three fifths into the phase (a month and
    more of history behind, five weeks to go)."""
    build = next(p for p in TEMPLATES["wuhan-2016"].phases if p.code == "build")
    starts, ends = date(today.year, *build.starts), date(today.year, *build.ends)
    if starts <= today <= ends:
        return 0
    return (today - (starts + timedelta(days=(ends - starts).days * 3 // 5))).days


def load(session: Session, today: date | None = None, size: float = 1.0) -> Campaign:
    """Create the whole demo: units, campaign, ledger, users, as of ``today``.

    Given a day (tests, `demo load --as-of`), the campaign is that year's, on the template's
    dates. Without one the day is today and the campaign is placed so that today falls in
    集中组建 (``placement``): whatever the date, a newcomer sees a campaign in full swing."""
    rng = random.Random(SEED)
    shift = 0 if today else placement(clock.today())
    today = today or clock.today()
    units = create_units(session)
    campaign = create_from_template(
        session, "wuhan-2016", today.year, user="demo", shift_days=shift
    )
    # As if set up in Gongjian when the campaign began: the scheduler then makes up the
    # bulletins of the half-months already past (it never makes up periods before set-up).
    campaign.created_at = datetime.combine(
        campaign.starts_on, time(0), tzinfo=ZoneInfo(campaign.timezone)
    )
    build_start = next(p.starts_on for p in campaign.phases if p.code == "build")
    span = (build_deadline(campaign) - build_start).days
    progress = max(0.0, min(1.0, (today - build_start).days / span))
    window = (build_start, min(today, campaign.ends_on))
    rule_set = rulesets.rule_set_of(campaign)

    rows, serial = [], 1
    plan = [(units[code], int(170 * size), int(40 * size)) for code, *_ in DISTRICTS]
    plan += [(units["mzj"], 0, int(60 * size)), (units["jggw"], 0, int(90 * size))]
    paces = unit_paces([unit.code for unit, _, _ in plan])
    for unit, n_enterprises, n_social in plan:
        areas = [u for key, u in units.items() if u.parent_id == unit.id]
        skill = rng.uniform(0.7, 1.0)
        pace = PACES[paces[unit.code]]
        for kind, n in ((OrgKind.ENTERPRISE, n_enterprises), (OrgKind.SOCIAL, n_social)):
            for _ in range(n):
                area = rng.choice(areas) if areas else None
                level = registration_level(unit, kind)
                org = _synthetic_org(
                    rng, serial, kind, unit, area, level, skill, progress, window, pace
                )
                org.update(apply_rules(org, rule_set), campaign_id=campaign.id)
                rows.append(org)
                serial += 1
    session.execute(insert(Organization), rows)
    figures.stale(session, campaign)
    approve_ledgers(session, campaign, [unit for unit, _, _ in plan], today)
    audit.record(
        session,
        user="demo",
        action="demo.load",
        obj_type="campaign",
        obj_id=campaign.id,
        after={"organizations": len(rows)},
    )
    for username, role, unit_code, name in demo_users():
        email = f"{username}@gongjian.example"  # reserved domain: mails go to the folder/catcher
        create_user(
            session,
            *(username, role, DEMO_PASSWORD, unit_code, name, email),
            actor="demo",
            published_password=True,
        )
    session.flush()
    _exclusions(session, campaign, ledgers_reviewed_at(campaign, today))
    _history(session, campaign, [unit for unit, _, _ in plan], rng, today)
    _board(session, campaign, rng, build_start)
    # What the scheduler finds first after start, found now: the 数据质量 page, the
    # overview's forecast and the bulletins the scheduler makes up read them.
    session.flush()
    quality.refresh(session, campaign, "demo")
    forecast.refresh(session, campaign)
    return campaign


def _exclusions(session: Session, campaign: Campaign, reviewed: datetime) -> None:
    """Why each organization the ledgers filed with an exit status (rules.EXITS: 空壳、僵尸、影子
    enterprises, 注销 etc. social organizations) is out of the base: noted as decided when the
    ledgers were approved. The demo is a generated history and sets the statuses directly (the
    rows were inserted in bulk, past the service that notes it on each row): a live import or
    the 剔除 button keeps such an enterprise in the base until 工商 confirms its proposal
    (``services.propose_exclusion``, ``importing._propose_exits``); the demo files none."""
    coordinator = session.scalar(select(User).where(User.role == Role.COORDINATOR))
    excluded = session.scalars(
        select(Organization).where(
            Organization.campaign_id == campaign.id, Organization.in_base.is_(False)
        )
    )
    for org in excluded:
        note_exclusion(org, "台账审核", coordinator)
        org.exclusion_decided_at = reviewed
    session.flush()


def _closure_rows(org: Organization) -> dict:
    """What a demo closure changed: the row without its Party org, and the row as it is."""
    after = audit.snapshot(org, board.PARTY_FIELDS)
    before = {
        **after,
        "party_org_status": "none",
        "party_org_name": "",
        "party_org_founded_on": None,
    }
    return {"before": before, "after": after}


def _board(session: Session, campaign: Campaign, rng: random.Random, build_start: date) -> None:
    """The wall chart: closed items for Party orgs set up during the campaign, the rest open."""
    tz = ZoneInfo(campaign.timezone)
    built = session.scalars(
        select(Organization).where(
            Organization.campaign_id == campaign.id,
            Organization.in_base,
            Organization.party_org_founded_on >= build_start,
        )
    ).all()
    for org in built:
        if not rules.met(org, org.target):
            continue  # short of its target all the same (a joint org where it needs its own)
        item = BoardItem(
            campaign_id=campaign.id,
            unit_id=org.unit_id,
            organization_id=org.id,
            kind=org.kind,
            target=org.target,
            path=org.path,
            state=ItemState.CLOSED,
            responsible_person=org.responsible_person,
        )
        assert org.party_org_founded_on is not None  # selected by its founding date
        at = datetime.combine(org.party_org_founded_on, time(rng.randint(9, 17)), tz)
        item.closures = [
            Closure(
                method=ClosureMethod(org.party_org_status),
                party_org_name=org.party_org_name,
                established_on=org.party_org_founded_on,
                formal_members=org.formal_members,
                secretary=_person(rng),
                document_name="（演示数据无附件）",
                status=ClosureStatus.VERIFIED,
                submitted_at=at,
                decided_at=at + timedelta(days=1),
                ledger_before={str(org.id): _closure_rows(org)},
            )
        ]
        session.add(item)
    session.flush()
    board.sync_items(session, campaign)
    for item in session.scalars(select(BoardItem).where(BoardItem.state == ItemState.TODO)):
        roll = rng.random()
        if roll < 0.45:
            item.state = ItemState.IN_PROGRESS
            item.measures = item.measures or "选派党建工作指导员，联系上级党组织，推进联合组建"
        if item.planned_on is None:
            item.planned_on = build_start + timedelta(days=rng.randint(20, 110))
    session.flush()


def _history(
    session: Session, campaign: Campaign, units: list[Unit], rng: random.Random, today: date
) -> None:
    """Deliverables and half-monthly reports up to ``today``: mostly on time, some late, a few missing."""
    tz = ZoneInfo(campaign.timezone)

    def moment_near(day: date, late: bool) -> datetime:
        offset = rng.randint(1, 4) if late else -rng.randint(0, 3)
        return datetime.combine(
            day + timedelta(days=offset), time(rng.randint(9, 17), rng.randint(0, 59)), tz
        )

    for task in session.scalars(
        select(Task).join(Deliverable).where(Deliverable.campaign_id == campaign.id)
    ):
        if task.due_on >= today or rng.random() < 0.06:
            continue  # not due yet, or (rarely) never delivered: overdue
        at = moment_near(task.due_on, rng.random() < 0.15)
        if at.date() >= today:
            continue
        session.add(
            TaskSubmission(
                task=task,
                note="按要求报送",
                submitted_at=at,
                review=Review.ACCEPTED,
                reviewed_at=at + timedelta(hours=20),
                review_comment="通过",
            )
        )
        task.status = TaskStatus.ACCEPTED
    operators = {
        u.unit_id: u for u in session.scalars(select(User).where(User.role == Role.OPERATOR))
    }
    for period in half_monthly.periods(campaign):
        if period.due_on >= today:
            break
        for unit in units:
            if rng.random() < 0.07:
                continue  # missed this period
            at = moment_near(period.due_on, rng.random() < 0.12)
            # A placed campaign may start a day or two before its first due day: a report is
            # filed within its period, never before it opens.
            at = max(at, datetime.combine(period.starts_on, time(9), tz))
            if at.date() >= today:
                continue
            new = "、".join(
                rng.sample(
                    [
                        "新建联合党支部",
                        "选派党建工作指导员",
                        "组建工会",
                        "发展党员",
                        "理顺隶属关系",
                    ],
                    2,
                )
            )
            half_monthly.submit_report(
                session,
                campaign,
                unit,
                period.due_on,
                ReportText(
                    progress=f"本期{new}，按计划推进挂图作战、销号管理。",
                    problems=rng.choice(
                        ["部分小微企业无党员，组建难度大。", "个别企业出资人支持不够。", ""]
                    ),
                    next_steps="继续推进应建尽建，做好销号台账。",
                ),
                None,
                operators.get(unit.id, "demo"),
                Path("/nonexistent"),
                at=at,
            )
    session.flush()


def demo_users() -> list[tuple[str, str, str | None, str]]:
    """(username, role, unit code, display name) of every demo account."""
    return [
        ("zhuanban", Role.COORDINATOR.value, "city", "市级专班 王主任"),
        ("lingdao", Role.LEADERSHIP.value, None, "市委组织部 李部长"),
        ("admin", Role.ADMIN.value, None, "系统管理员"),
        ("jiangan_tianbao", Role.OPERATOR.value, "jiangan", "江岸区 填报员"),
        ("jiangan_fuze", Role.LEADER.value, "jiangan", "江岸区 负责人"),
        ("wuchang_tianbao", Role.OPERATOR.value, "wuchang", "武昌区 填报员"),
        ("minzheng_tianbao", Role.OPERATOR.value, "mzj", "市民政局 填报员"),
    ]


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="数据库已有行动、单位或用户时不做任何事")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="按该日生成（该年的行动，模板日期）；默认今天，行动排在今天处于集中组建阶段",
)
@click.option("--size", type=float, default=1.0, help="规模（1.0 约3300个组织）")
def load_command(if_empty: bool, as_of: datetime | None, size: float) -> None:
    """Load the demo campaign (Wuhan) with a synthetic ledger and demo users, placed so that
    today falls in 集中组建 (or as of --as-of, on that year's template dates).

    Only into an empty database: one set up with `flask init` (a city unit, an admin) has
    no campaign yet and is not empty."""
    has_data = any(
        (db.session.scalar(select(func.count()).select_from(model)) or 0) > 0
        for model in (Campaign, Unit, User)
    )
    if has_data:
        if if_empty:
            click.echo("数据库已有数据，跳过演示数据加载。")
            return
        raise click.ClickException("数据库已有数据；演示数据只能载入空数据库。")
    campaign = load(db.session, as_of.date() if as_of else None, size)
    db.session.commit()
    count = db.session.scalar(select(func.count()).select_from(Organization))
    click.echo(f"已载入演示行动：{campaign.name}（{count}个组织）")


@demo_cli.command("logins")
def logins_command() -> None:
    """Print the demo accounts that exist in this database."""
    names = {u for (u,) in db.session.execute(select(User.username))}
    accounts = [a for a in demo_users() if a[0] in names]
    if not accounts:
        click.echo("没有演示账号。")
        return
    click.echo(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
    for username, role, _unit, name in accounts:
        click.echo(f"  {username:<18} {Role(role).label:<6} {name}")
