"""Campaign templates: the phases of a city plan, as month/day windows.

``wuhan-2016`` is seed 004 (中共武汉市委组织部, 2016-08-14); ``seed-000`` is seed 000's
three-stage plan (前期筹备, 组织实施 with its dated milestones, 考核验收), whose "X月X日"
dates are filled with a plausible year's schedule a coordinator re-dates; ``blank`` has no
phases. A campaign made from one keeps the months and days and takes its own year; the
bulletin's texts (报头, 标题, 主送) are the template's, as the campaign's own settings.
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
    label: str = ""  # what the create form says of it
    # The bulletin: its 发文机关标志 (empty: the issuing body with 文件), the subject of its
    # title (关于…的通报), whom it is addressed to (主送; empty: from the responsible units'
    # kinds), the prefix of its 发文字号; "{city}" is the campaign's city.
    masthead: str = ""
    bulletin_subject: str = "{name}工作进展情况"
    addressees: str = ""
    document_prefix: str = ""


WUHAN_2016 = CampaignTemplate(
    code="wuhan-2016",
    name="{city}非公有制经济组织和社会组织党组织集中组建“百日攻坚行动”（{year}年）",
    city_name="武汉市",
    issuing_body="中共武汉市委组织部",
    label="武汉市“百日攻坚行动”（2016，八个阶段）",
    bulletin_subject="全市“两新”组织党组织集中组建“百日攻坚行动”工作进展情况",
    document_prefix="武组专",
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

SEED_000 = CampaignTemplate(
    code="seed-000",
    name="{city}非公经济组织和社会组织党建巩固提升活动（{year}年）",
    city_name="某市",
    issuing_body="中共某市委组织部",
    label="党建巩固提升活动（三个阶段：前期筹备、组织实施、考核验收）",
    bulletin_subject="全市非公经济组织和社会组织党建巩固提升活动进展情况",
    addressees="各县（市）区委组织部，市直有关部门",
    starts=(4, 1),
    ends=(12, 31),
    phases=(
        PhaseTemplate(
            "prepare",
            "前期筹备",
            (4, 1),
            (4, 30),
            "各县（市）区、市直有关部门结合实际制定各自实施方案，明确工作负责人和联络员，"
            "报市委组织部组织科备案。",
        ),
        PhaseTemplate(
            "build",
            "组织实施",
            (5, 1),
            (10, 31),
            "同步推进巩固提升活动：6月30日前完成集中排查和台账建立，有3名以上正式党员的"
            "组织单独建立党组织；8月31日前建成本辖区总台账，有党员的组织党组织应建尽建；"
            "10月31日前实现党组织和党的工作覆盖率目标，完成党组织书记、党务工作者轮训，"
            "报送总结材料。",
        ),
        PhaseTemplate(
            "acceptance",
            "考核验收",
            (11, 1),
            (12, 31),
            "市委组织部联合工商、民政等部门，通过查阅资料、听取汇报等形式考核验收，"
            "对成效显著的表彰，对工作较差的通报批评并责令限期整改。",
        ),
    ),
)

BLANK = CampaignTemplate(
    code="blank",
    name="{city}“两新”组织党建工作（{year}年）",
    city_name="某市",
    issuing_body="中共某市委组织部",
    label="空白（不含阶段，自行添加）",
    starts=(1, 1),
    ends=(12, 31),
    phases=(),
)

TEMPLATES = {t.code: t for t in (WUHAN_2016, SEED_000, BLANK)}
