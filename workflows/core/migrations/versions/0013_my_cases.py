"""my cases: index the filer of each case

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30

我的案件 lists the cases a person filed or holds or did a task of; the filer is ``created_by``.
"""
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_instance_created_by', 'instance', ['created_by'])


def downgrade() -> None:
    op.drop_index('ix_instance_created_by', table_name='instance')
