"""supervision: case facts for lists and counts, supervision notices

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

import workflows.core.models

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('filed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('decision_due', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('decided_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('decision_kind', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('penalty_type', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('fine_amount', sa.Numeric(precision=14, scale=2), nullable=True))
        batch_op.add_column(sa.Column('confiscation_amount', sa.Numeric(precision=14, scale=2), nullable=True))
        batch_op.add_column(sa.Column('review_result', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('closed_at', workflows.core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_instance_created', ['created_at'], unique=False)
        # A unit's cases newest first, without reading and sorting the unit's whole history: all of
        # them, or those of one status (without created_at in the latter, SQLite took the former
        # for a unit's running cases and walked the unit's history to find them).
        batch_op.create_index('ix_instance_unit_created', ['unit_id', 'created_at'], unique=False)
        batch_op.drop_index('ix_instance_unit_status')
        batch_op.create_index('ix_instance_unit_status', ['unit_id', 'status', 'created_at'], unique=False)
        # Open cases' model version and handling limit read from the index, not from the case rows
        # (on SQLite behind the serialized state, in its overflow pages).
        batch_op.drop_index('ix_instance_status')
        batch_op.create_index('ix_instance_status', ['status', 'model_version', 'decision_due', 'decided_on'],
                              unique=False)
        batch_op.create_index('ix_instance_closed', ['closed_at'], unique=False)
        batch_op.create_index('ix_instance_decided', ['decided_on'], unique=False)
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.create_index('ix_human_task_completed', ['completed_at'], unique=False)
        batch_op.create_index('ix_human_task_spec_created', ['spec_id', 'created_at'], unique=False)
    op.execute("UPDATE instance SET closed_at = updated_at WHERE status IN ('completed', 'terminated')")
    op.create_table('supervision_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('sent_by', sa.String(length=60), nullable=False),
    sa.Column('sent_at', workflows.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_by', sa.String(length=60), nullable=True),
    sa.Column('acknowledged_at', workflows.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('supervision_notice', schema=None) as batch_op:
        batch_op.create_index('ix_supervision_open', ['instance_id', 'acknowledged_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('supervision_notice', schema=None) as batch_op:
        batch_op.drop_index('ix_supervision_open')
    op.drop_table('supervision_notice')
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_spec_created')
        batch_op.drop_index('ix_human_task_completed')
    with op.batch_alter_table('instance', schema=None) as batch_op:
        batch_op.drop_index('ix_instance_decided')
        batch_op.drop_index('ix_instance_closed')
        batch_op.drop_index('ix_instance_status')
        batch_op.create_index('ix_instance_status', ['status'], unique=False)
        batch_op.drop_index('ix_instance_unit_status')
        batch_op.create_index('ix_instance_unit_status', ['unit_id', 'status'], unique=False)
        batch_op.drop_index('ix_instance_unit_created')
        batch_op.drop_index('ix_instance_created')
        for column in ('closed_at', 'review_result', 'confiscation_amount', 'fine_amount', 'penalty_type',
                       'decision_kind', 'decided_on', 'decision_due', 'filed_on'):
            batch_op.drop_column(column)
