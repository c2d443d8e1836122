"""One name for each of an organization's fields: the 附表 columns, the messages about a
column's text, the import preview and the change record read the same table
(campaign/ledger/fields.py). No database needed."""

from campaign.core.vocab import OrgKind
from campaign.display import audit_values
from campaign.ledger import excel, fields
from campaign.ledger.models import Organization
from tests.ledger.conftest import ENTERPRISE_HEADERS, PHASE_HEADERS, SOCIAL_HEADERS


def test_the_sheets_keep_the_headers_users_know():
    """Spelled out by hand in tests/ledger/conftest.py: a renamed label must not rename a
    column of the 附表."""
    for spec, headers in (
        (excel.SHEETS[OrgKind.ENTERPRISE], ENTERPRISE_HEADERS),
        (excel.SHEETS[OrgKind.SOCIAL], SOCIAL_HEADERS),
    ):
        assert [c.header for c in spec.columns] == list(headers) + PHASE_HEADERS


def test_every_field_of_a_sheet_and_every_labelled_column_has_one_label():
    for spec in excel.SHEETS.values():
        for column in spec.columns:
            assert column.field in fields.LABELS, column.field
    for column in Organization.__table__.columns:
        if "label" in column.info:
            assert column.info["label"] == fields.LABELS[column.name], column.name


def test_the_change_record_names_an_organizations_fields_as_the_ledger_does():
    shown = audit_values(
        '{"party_org_founded_on": "2026-09-01", "name": "江岸甲", "investor_is_member": true}'
    )
    # In the ledger's order, whatever order the entry keeps them in.
    assert shown == "组织名称：江岸甲；出资人（负责人）是否党员：是；党组织成立时间：2026-09-01"
