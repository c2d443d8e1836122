"""What each of an organization's fields is called: one label per field, for the pages, the
附表 (Excel) and the change record.

The two 附表 name a few columns after the kind of organization (企业名称 / 社会组织名称,
出资人（负责人） / 负责人); ``header`` gives a sheet's name for a field, the label elsewhere.
No Flask here.
"""

from campaign.core.vocab import OrgKind

LABELS: dict[str, str] = {
    "kind": "类型",
    "name": "组织名称",
    "credit_code": "统一社会信用代码",
    "district_name": "所在区",
    "area_name": "街道（乡镇）/园区",
    "area_id": "街道（乡镇）/园区",
    "unit_id": "责任单位",
    "category": "类别",
    "tags": "类别",
    "operating_status": "经营状态",
    "registration_level": "登记层级",
    "supervising_unit": "业务主管单位",
    "employees": "从业人员数",
    "formal_members": "正式党员数",
    "probationary_members": "预备党员数",
    "members_elsewhere": "组织关系在外党员数",
    "investor": "出资人（负责人）",
    "investor_is_member": "出资人（负责人）是否党员",
    "party_org_status": "党组织状态",
    "party_org_name": "党组织名称",
    "party_org_founded_on": "党组织成立时间",
    "no_party_org_reason": "未建原因",
    "instructor": "党建工作指导员",
    "mass_organizations": "群团组织",
    "measures": "推进措施",
    "planned_on": "计划完成时间",
    "responsible_person": "责任人",
    "exclusion_note": "剔除理由",
    "affiliation": "党组织隶属关系",
    "affiliation_settled": "隶属关系是否理顺",
    "affiliation_settled_on": "隶属关系理顺时间",
    "liaison_role": "选派类别",
    "liaison_name": "第一书记（指导员）姓名",
    "liaison_unit": "第一书记（指导员）所在单位",
    "liaison_assigned_on": "选派时间",
    "exclusion_decided_by_id": "剔除决定人",
}

# Where a 附表 names a column otherwise than LABELS (the forms users know: kept exactly).
SHEET_HEADERS: dict[OrgKind, dict[str, str]] = {
    OrgKind.ENTERPRISE: {
        "name": "企业名称",
        "category": "企业类别",
        "tags": "企业类别",
        "investor_is_member": "出资人是否党员",
    },
    OrgKind.SOCIAL: {
        "name": "社会组织名称",
        "investor": "负责人",
        "investor_is_member": "负责人是否党员",
    },
}


def label(field: str) -> str:
    """The field's label (the field's own name when it has none)."""
    return LABELS.get(field, field)


def header(field: str, kind: OrgKind) -> str:
    """The column header of ``field`` on the 附表 of ``kind``."""
    return SHEET_HEADERS[kind].get(field) or LABELS[field]
