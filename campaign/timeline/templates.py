"""What each phase of a campaign template asks of the responsible units (deliverables),
as month/day due dates; the phases themselves are in campaign.core.templates."""

from dataclasses import dataclass

from campaign.core.templates import SEED_000, WUHAN_2016
from campaign.timeline.models import Audience, Fulfilment


@dataclass(frozen=True)
class DeliverableTemplate:
    phase: str  # phase code
    code: str
    name: str
    audience: Audience
    due: tuple[int, int]
    description: str = ""
    fulfilled_by: Fulfilment = Fulfilment.UPLOAD


WUHAN_2016_DELIVERABLES = (
    DeliverableTemplate(
        "training",
        "work_plan",
        "区工作方案（含专班名单）",
        Audience.DISTRICTS,
        (8, 17),
        "培训会后，各区委组织部会同区直有关部门制定工作方案，抽调人员组成工作专班，将工作方案（含专班名单）报市委组织部。",
    ),
    DeliverableTemplate(
        "training",
        "dept_plan",
        "部门工作方案",
        Audience.DEPARTMENTS,
        (8, 17),
        "市直有关部门细化工作方案，明确专人负责，并报市委组织部。",
    ),
    DeliverableTemplate(
        "survey",
        "ledger",
        "排查摸底台账（附表1、附表2）",
        Audience.ALL,
        (8, 26),
        "各区报送区级非公有制经济组织台账（附表1）和社会组织台账（附表2）；市直机关工委、市民政局报送市级社会组织台账（附表2）。以台账报送审核为准。",
        fulfilled_by=Fulfilment.LEDGER,
    ),
    DeliverableTemplate(
        "acceptance",
        "dept_responsibility",
        "落实专项工作责任情况报告",
        Audience.DEPARTMENTS,
        (11, 30),
        "各相关市直部门11月底向市委组织部报送落实“百日攻坚行动”专项工作责任情况。",
    ),
    DeliverableTemplate(
        "acceptance",
        "acceptance_report",
        "检查验收情况报告",
        Audience.DISTRICTS,
        (12, 5),
        "区委组织部对本区非公企业集中组建情况进行检查验收，报送验收情况。",
    ),
    DeliverableTemplate(
        "lookback",
        "lookback_summary",
        "“回头看”工作总结",
        Audience.ALL,
        (12, 30),
        "巩固成果、查漏补缺、总结经验。",
    ),
)
# Seed 000's 方法步骤, its "X月X日前" milestones given the dates of core.templates.SEED_000.
SEED_000_DELIVERABLES = (
    DeliverableTemplate(
        "prepare",
        "work_plan",
        "实施方案（含工作负责人和联络员）",
        Audience.ALL,
        (4, 30),
        "各县（市）区、市直有关部门结合实际制定各自实施方案，明确工作负责人和联络员并报市委组织部组织科备案。",
    ),
    DeliverableTemplate(
        "build",
        "ledger",
        "集中排查台账（附表1、附表2）",
        Audience.ALL,
        (6, 30),
        "完成集中排查和台账建立工作，并实现有3名以上正式党员的非公经济组织和社会组织单独建立党组织。以台账报送审核为准。",
        fulfilled_by=Fulfilment.LEDGER,
    ),
    DeliverableTemplate(
        "build",
        "district_ledger",
        "辖区总台账",
        Audience.DISTRICTS,
        (8, 31),
        "结合市直有关部门排查情况，建成本辖区非公经济组织和社会组织总台账，并实现有党员的非公经济组织和社会组织党组织应建尽建。",
    ),
    DeliverableTemplate(
        "build",
        "summary",
        "巩固提升活动总结材料",
        Audience.ALL,
        (10, 31),
        "实现党组织和党的工作覆盖率目标，做好党组织书记、党务工作者轮训，认真总结活动开展情况并报送总结材料。",
    ),
)
DELIVERABLES = {
    WUHAN_2016.code: WUHAN_2016_DELIVERABLES,
    SEED_000.code: SEED_000_DELIVERABLES,
}
