"""JSON held in text columns becomes the JSON type

Columns that hold JSON nobody hashes or signs are declared JSON, so the code reads and writes
lists and dicts: import previews (problems, notices, summary, diff), change requests' proposed
values, closures' covered organizations and ledger rows before/after, spot-check draws and
checklists, half-monthly reports' frozen figures, the notification outbox's payloads.

On PostgreSQL the type is ``json``, not ``jsonb``: ``json`` keeps the text as written (key
order, which the figures and previews are shown in; the bytes a downgrade gives back), and
nothing queries inside these values, which is what ``jsonb`` would be for. On SQLite JSON is
stored as text as before; the tables are rebuilt (batch mode) so that an upgraded database
declares the same types as a new one, and the values are copied as they are (Alembic casts
nothing into JSON).

Stay text, because their exact bytes are hashed or signed: the audit entries' before/after
(the hash chain), the bulletin's snapshot (its SHA-256 is kept and checked).

Revision ID: e6b2c4d8f1a3
Revises: 0635caa97d87
Create Date: 2026-12-06 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e6b2c4d8f1a3'
down_revision = '0635caa97d87'
branch_labels = None
depends_on = None

COLUMNS = {
    'import_batch': ['problems', 'notices', 'summary', 'diff'],
    'change_request': ['payload'],
    'closure': ['covered_org_ids', 'ledger_before'],
    'spot_check': ['unit_ids', 'population_ids', 'drawn_ids'],
    'spot_check_result': ['checklist'],
    'unit_report': ['figures'],
    'notification_event': ['payload'],
}


def _retype(old: sa.types.TypeEngine, new: sa.types.TypeEngine, cast: str) -> None:
    # On SQLite a table is rebuilt once for all its columns (batch mode); on PostgreSQL each
    # column is altered in place, its text parsed once (USING).
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(
                    column,
                    type_=new,
                    existing_type=old,
                    existing_nullable=False,
                    postgresql_using=f'{column}::{cast}',
                )


def upgrade():
    _retype(sa.Text(), sa.JSON(), 'json')


def downgrade():
    _retype(sa.JSON(), sa.Text(), 'text')
