"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa
import workflows.core.models


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_chain',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.Column('head', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('chain', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=60), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('created_at', workflows.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('chain', 'seq')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_instance', ['instance_id', 'seq'], unique=False)

    op.create_table('case_counter',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    op.create_table('deadline_setting',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('label_zh', sa.String(length=100), nullable=False),
    sa.Column('basis', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('evidence',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('mime', sa.String(length=100), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('uploaded_by', sa.String(length=60), nullable=False),
    sa.Column('uploaded_at', workflows.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('holiday_override',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('is_working', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.PrimaryKeyConstraint('day')
    )
    op.create_table('matter',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('field', sa.String(length=60), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('penalty', sa.Text(), nullable=False),
    sa.Column('serious', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('model_blob',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('model_set',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('deployed_at', workflows.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deployed_by', sa.String(length=60), nullable=False),
    sa.PrimaryKeyConstraint('version')
    )
    op.create_table('role',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('label_zh', sa.String(length=40), nullable=False),
    sa.Column('label_en', sa.String(length=60), nullable=False),
    sa.Column('needs_credential', sa.Boolean(), nullable=False),
    sa.Column('unit_scoped', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('label_zh')
    )
    op.create_table('task_draft',
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('saved_at', workflows.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('task_id', 'username')
    )
    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('instance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_no', sa.String(length=60), nullable=False),
    sa.Column('process_id', sa.String(length=100), nullable=False),
    sa.Column('model_version', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=False),
    sa.Column('matter_code', sa.String(length=40), nullable=True),
    sa.Column('party_name', sa.String(length=200), nullable=True),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('error_task', sa.String(length=100), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('next_timer_at', workflows.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=60), nullable=False),
    sa.Column('created_at', workflows.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', workflows.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['model_version'], ['model_set.version'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_no')
    )
    with op.batch_alter_table('instance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instance_next_timer_at'), ['next_timer_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_instance_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_instance_unit_id'), ['unit_id'], unique=False)

    op.create_table('model_file',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['sha256'], ['model_blob.sha256'], ),
    sa.ForeignKeyConstraint(['version'], ['model_set.version'], ),
    sa.PrimaryKeyConstraint('version', 'filename')
    )
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('full_name', sa.String(length=100), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', workflows.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('language', sa.String(length=10), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('credential',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('area', sa.String(length=100), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credential_user_id'), ['user_id'], unique=False)

    op.create_table('evidence_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('field_id', sa.String(length=100), nullable=True),
    sa.Column('linked_by', sa.String(length=60), nullable=False),
    sa.Column('linked_at', workflows.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], ),
    sa.ForeignKeyConstraint(['sha256'], ['evidence.sha256'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sha256', 'instance_id', 'task_id', 'field_id')
    )
    with op.batch_alter_table('evidence_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_link_instance_id'), ['instance_id'], unique=False)

    op.create_table('human_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('spec_id', sa.String(length=100), nullable=False),
    sa.Column('process_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('lane', sa.String(length=60), nullable=False),
    sa.Column('role_id', sa.String(length=40), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('assignee', sa.String(length=60), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('created_at', workflows.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', workflows.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', workflows.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.String(length=60), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], ),
    sa.ForeignKeyConstraint(['role_id'], ['role.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('task_id')
    )
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.create_index('ix_human_task_assignee', ['assignee', 'state', 'due_at'], unique=False)
        batch_op.create_index('ix_human_task_done_by', ['completed_by', 'completed_at'], unique=False)
        batch_op.create_index('ix_human_task_due', ['state', 'due_at'], unique=False)
        batch_op.create_index('ix_human_task_instance', ['instance_id', 'state'], unique=False)
        batch_op.create_index('ix_human_task_pool', ['role_id', 'state', 'unit_id', 'due_at'], unique=False)

    op.create_table('user_role',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['role_id'], ['role.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'role_id')
    )


def downgrade() -> None:
    op.drop_table('user_role')
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_pool')
        batch_op.drop_index('ix_human_task_instance')
        batch_op.drop_index('ix_human_task_due')
        batch_op.drop_index('ix_human_task_done_by')
        batch_op.drop_index('ix_human_task_assignee')

    op.drop_table('human_task')
    with op.batch_alter_table('evidence_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_link_instance_id'))

    op.drop_table('evidence_link')
    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credential_user_id'))

    op.drop_table('credential')
    op.drop_table('user')
    op.drop_table('model_file')
    with op.batch_alter_table('instance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instance_unit_id'))
        batch_op.drop_index(batch_op.f('ix_instance_status'))
        batch_op.drop_index(batch_op.f('ix_instance_next_timer_at'))

    op.drop_table('instance')
    op.drop_table('unit')
    op.drop_table('task_draft')
    op.drop_table('role')
    op.drop_table('model_set')
    op.drop_table('model_blob')
    op.drop_table('matter')
    op.drop_table('holiday_override')
    op.drop_table('evidence')
    op.drop_table('deadline_setting')
    op.drop_table('case_counter')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_instance')

    op.drop_table('audit_event')
    op.drop_table('audit_chain')
