"""What the ledger's pages accept besides files and comments: the schemas the services'
typed values are read with (campaign.core.inputs)."""

from marshmallow import Schema

from campaign.core.inputs import Choice, text
from campaign.core.vocab import EXCLUDED_STATUSES, OperatingStatus
from campaign.ledger.models import Organization

NOT_EXCLUDED = "剔除类型应为空壳、僵尸或影子企业"


class ExclusionSchema(Schema):
    """An enterprise taken out of the base (or put back): as what, and why."""

    status = Choice(
        OperatingStatus,
        NOT_EXCLUDED,
        optional=True,
        load_default=None,
        metadata={
            "enum": [s.value for s in EXCLUDED_STATUSES],
            "description": "；".join(f"{s.value}：{s.label}" for s in EXCLUDED_STATUSES),
        },
    )
    reason = text(Organization.exclusion_note, load_default="")
