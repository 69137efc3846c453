"""audit keys: keyed event links (the key's id on each event) and the case seal an event carries

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

Events written before this revision keep ``key_id`` NULL: their links are plain SHA-256 and still
verify. ``sanxiang init`` then records once, keyed, a digest of every chain's unkeyed part
(``audit.anchor`` on the system chain): after that, an unkeyed event that the anchor does not
vouch for is a forgery.
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('seal', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_column('seal')
        batch_op.drop_column('key_id')
