"""case chain heads on the case row, access chains, draft flags, indexes for lists at scale

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    with op.batch_alter_table('instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audit_seq', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('audit_head', sa.String(length=64), nullable=False, server_default=GENESIS))
        batch_op.drop_index('ix_instance_unit_id')  # a unit's open cases without its history
        batch_op.create_index('ix_instance_unit_status', ['unit_id', 'status'], unique=False)
    op.execute("UPDATE instance SET audit_seq = c.length, audit_head = c.head FROM audit_chain c "
               "WHERE c.name = 'case:' || CAST(instance.id AS VARCHAR)")
    op.execute("DELETE FROM audit_chain WHERE name LIKE 'case:%'")
    with op.batch_alter_table('audit_chain', schema=None) as batch_op:
        batch_op.alter_column('name', type_=sa.String(length=80), existing_type=sa.String(length=40))
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('chain', type_=sa.String(length=80), existing_type=sa.String(length=40))
        batch_op.drop_index('ix_audit_instance')
        reads = sa.text("action IN ('case.view', 'evidence.read')")
        batch_op.create_index('ix_audit_reads', ['instance_id', 'created_at', 'id'], unique=False,
                              sqlite_where=reads, postgresql_where=reads)
    ready_unclaimed = sa.text("state = 'ready' AND assignee IS NULL")
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('has_draft', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_index('ix_human_task_pool')
        batch_op.create_index('ix_human_task_pool', ['role_id', 'unit_id', 'due_at'], unique=False,
                              sqlite_where=ready_unclaimed, postgresql_where=ready_unclaimed)
        batch_op.drop_index('ix_human_task_due')
        due = sa.text("state = 'ready' AND due_at IS NOT NULL")
        batch_op.create_index('ix_human_task_due', ['due_at'], unique=False, sqlite_where=due, postgresql_where=due)
        batch_op.drop_index('ix_human_task_done_by')
        batch_op.create_index('ix_human_task_done_by', ['completed_by', 'state', 'completed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_column('has_draft')
        batch_op.drop_index('ix_human_task_done_by')
        batch_op.create_index('ix_human_task_done_by', ['completed_by', 'completed_at'], unique=False)
        batch_op.drop_index('ix_human_task_due')
        batch_op.create_index('ix_human_task_due', ['state', 'due_at'], unique=False)
        batch_op.drop_index('ix_human_task_pool')
        batch_op.create_index('ix_human_task_pool', ['role_id', 'state', 'unit_id', 'due_at'], unique=False)
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_reads')
        batch_op.create_index('ix_audit_instance', ['instance_id', 'seq'], unique=False)
    op.execute("INSERT INTO audit_chain (name, length, head) "
               "SELECT 'case:' || CAST(id AS VARCHAR), audit_seq, audit_head FROM instance WHERE audit_seq > 0")
    with op.batch_alter_table('instance', schema=None) as batch_op:
        batch_op.drop_index('ix_instance_unit_status')
        batch_op.create_index('ix_instance_unit_id', ['unit_id'], unique=False)
        batch_op.drop_column('audit_head')
        batch_op.drop_column('audit_seq')
