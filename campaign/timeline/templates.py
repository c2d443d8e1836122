"""What each phase of a campaign template asks of the responsible units (deliverables),
as month/day due dates; the phases themselves are in campaign.core.templates."""

from dataclasses import dataclass

from campaign.core.templates import WUHAN_2016
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
DELIVERABLES = {WUHAN_2016.code: WUHAN_2016_DELIVERABLES}
