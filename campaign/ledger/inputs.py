"""What the ledger's pages accept besides files and comments: the schemas the services'
typed values are read with (campaign.core.inputs)."""

from marshmallow import Schema, fields

from campaign.core.inputs import Choice, Day, text
from campaign.core.vocab import (
    EXCLUDED_STATUSES,
    EXITS,
    Affiliation,
    LiaisonRole,
    OperatingStatus,
    OrgKind,
)
from campaign.ledger.fields import LABELS
from campaign.ledger.models import Organization


def exits_text(kind: str) -> str:
    """The statuses with which an organization of ``kind`` leaves the base, as a user reads them."""
    return "、".join(s.label for s in EXITS[kind])


NOT_EXCLUDED = (
    f"剔除类型应为：非公企业{exits_text(OrgKind.ENTERPRISE)}；社会组织{exits_text(OrgKind.SOCIAL)}"
)


class ExclusionSchema(Schema):
    """An organization taken out of the base (or put back): as what, and why. Each kind
    leaves with its own statuses (vocab.EXITS); the service refuses the other kind's."""

    status = Choice(
        OperatingStatus,
        NOT_EXCLUDED,
        optional=True,
        load_default=None,
        metadata={
            "enum": [s.value for s in EXCLUDED_STATUSES],
            "description": "；".join(
                f"{OrgKind(kind).label}：" + "、".join(f"{s.value}（{s.label}）" for s in statuses)
                for kind, statuses in EXITS.items()
            ),
        },
    )
    reason = text(Organization.exclusion_note, load_default="")


def _choices(enum: type[Affiliation] | type[LiaisonRole], field: str) -> str:
    return f"「{LABELS[field]}」应为：" + "、".join(m.label for m in enum) + "（或不填）"


class PhasesSchema(Schema):
    """Seed 004 phases 5 and 6 on one organization, as its page's form sends them (the 附表's
    columns of the same names); checked together by the service (excel.phase_problems)."""

    affiliation = Choice(
        Affiliation, _choices(Affiliation, "affiliation"), optional=True, load_default=None
    )
    affiliation_settled = fields.Boolean(
        truthy={"是", "true", "1"},
        falsy={"否", "false", "0", ""},
        load_default=False,
        error_messages={"invalid": f"「{LABELS['affiliation_settled']}」应为“是”或“否”"},
    )
    affiliation_settled_on = Day(LABELS["affiliation_settled_on"], optional=True, load_default=None)
    liaison_role = Choice(
        LiaisonRole, _choices(LiaisonRole, "liaison_role"), optional=True, load_default=None
    )
    liaison_name = text(Organization.liaison_name, load_default="")
    liaison_unit = text(Organization.liaison_unit, load_default="")
    liaison_assigned_on = Day(LABELS["liaison_assigned_on"], optional=True, load_default=None)
