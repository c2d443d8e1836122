"""Campaign templates: the phases of a city plan, as month/day windows.

``wuhan-2016`` is seed 004 (中共武汉市委组织部, 2016-08-14); a campaign made
from it keeps the months and days and takes its own year.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class PhaseTemplate:
    code: str
    name: str
    starts: tuple[int, int]  # (month, day)
    ends: tuple[int, int]
    deliverable: str


@dataclass(frozen=True)
class CampaignTemplate:
    code: str
    name: str  # with {city} and {year}
    city_name: str
    issuing_body: str
    starts: tuple[int, int]
    ends: tuple[int, int]
    phases: tuple[PhaseTemplate, ...]


WUHAN_2016 = CampaignTemplate(
    code="wuhan-2016",
    name="{city}非公有制经济组织和社会组织党组织集中组建“百日攻坚行动”（{year}年）",
    city_name="武汉市",
    issuing_body="中共武汉市委组织部",
    starts=(8, 14),
    ends=(12, 30),
    phases=(
        PhaseTemplate(
            "plan",
            "制定实施方案",
            (8, 14),
            (8, 15),
            "市委组织部会同有关部门制定实施方案，组建市级工作专班。",
        ),
        PhaseTemplate(
            "training",
            "召开培训会议",
            (8, 16),
            (8, 17),
            "召开培训会议；会后各区制定工作方案（含专班名单）报市委组织部，市直有关部门细化工作方案并报市委组织部。",
        ),
        PhaseTemplate(
            "survey",
            "全面排查摸底",
            (8, 18),
            (8, 26),
            "各区报送非公有制经济组织台账（附表1）和社会组织台账（附表2）；市直机关工委、市民政局报送市级社会组织台账（附表2）。审核通过后作为党建基数。",
        ),
        PhaseTemplate(
            "build",
            "抓好集中组建",
            (8, 27),
            (11, 20),
            "对纳入党建基数的“两新”组织实行挂图作战、销号管理，组建一个销号一个。",
        ),
        PhaseTemplate(
            "affiliation",
            "理顺隶属关系",
            (8, 18),
            (11, 20),
            "非公经济组织党组织以属地管理为主；市级社会组织以行业和主管部门管理为主，区级及以下社会组织以属地管理为主。",
        ),
        PhaseTemplate(
            "coverage",
            "扩大工作覆盖",
            (8, 27),
            (11, 20),
            "未建党组织的选派党建工作指导员、组建群团组织；新组建党组织配备第一书记或党建工作指导员。",
        ),
        PhaseTemplate(
            "acceptance",
            "组织检查验收",
            (11, 21),
            (12, 5),
            "区委组织部检查验收非公企业销号情况；市委组织部会同统战、工商、商务、经信、工商联等部门随机抽查。",
        ),
        PhaseTemplate(
            "lookback",
            "建立长效机制",
            (12, 6),
            (12, 30),
            "做好“回头看”：巩固成果、查漏补缺、总结经验。",
        ),
    ),
)

TEMPLATES = {WUHAN_2016.code: WUHAN_2016}
