"""What the ledger's pages accept besides files and comments: the schemas the services'
typed values are read with (campaign.core.inputs)."""

from marshmallow import Schema

from campaign.core.inputs import Choice, text
from campaign.core.vocab import EXCLUDED_STATUSES, EXITS, OperatingStatus, OrgKind
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
