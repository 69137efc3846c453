"""administration: unit and user lifecycles, role grants with validity, credential lifecycle,
qualifications, policy settings and the history of setting changes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

import workflows.core.models

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('user_role', schema=None) as batch_op:
        batch_op.add_column(sa.Column('valid_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('valid_to', sa.Date(), nullable=True))
    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=60), nullable=False, server_default='行政执法证'))
        batch_op.add_column(sa.Column('issuer', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=False, server_default='valid'))
        batch_op.add_column(sa.Column('status_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('replaces_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_credential_replaces', 'credential', ['replaces_id'], ['id'])
    op.create_table('qualification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('qualification', schema=None) as batch_op:
        batch_op.create_index('ix_qualification_user_id', ['user_id'], unique=False)
    op.create_table('policy_setting',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('value', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('label_zh', sa.String(length=100), nullable=False),
    sa.Column('basis', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('setting_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('old', sa.Text(), nullable=False),
    sa.Column('new', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('changed_by', sa.String(length=60), nullable=False),
    sa.Column('changed_at', workflows.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('setting_change', schema=None) as batch_op:
        batch_op.create_index('ix_setting_change_name', ['name'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('setting_change', schema=None) as batch_op:
        batch_op.drop_index('ix_setting_change_name')
    op.drop_table('setting_change')
    op.drop_table('policy_setting')
    with op.batch_alter_table('qualification', schema=None) as batch_op:
        batch_op.drop_index('ix_qualification_user_id')
    op.drop_table('qualification')
    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.drop_constraint('fk_credential_replaces', type_='foreignkey')
        for column in ('replaces_id', 'status_reason', 'status', 'issuer', 'kind'):
            batch_op.drop_column(column)
    with op.batch_alter_table('user_role', schema=None) as batch_op:
        batch_op.drop_column('valid_to')
        batch_op.drop_column('valid_from')
    with op.batch_alter_table('user', schema=None) as batch_op:
        for column in ('session_generation', 'must_change_password', 'contact'):
            batch_op.drop_column(column)
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('active')
