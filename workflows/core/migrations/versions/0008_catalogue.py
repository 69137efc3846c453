"""catalogue: one catalogue of enforcement matters, published and abolished through pre-disclosure

The matters officers file against become the entries of the pre-disclosure catalogue: the content
of the published entry (duties, powers, discretion standard, service guide …), and when, by whom
and in which role its last publication was approved. Existing rows stay in force as entries of the
earlier catalogue (no approval recorded: the portal says so) until ``pre_disclosure`` publishes them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

import workflows.core.models

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TEXTS = [  # name, type, server default
    ('category', sa.String(length=20), 'penalty'),
    ('discretion', sa.Text(), ''),
    ('enforcement_subject', sa.String(length=200), ''),
    ('duties', sa.Text(), ''),
    ('powers', sa.Text(), ''),
    ('procedure', sa.Text(), ''),
    ('remedy_channels', sa.Text(), ''),
    ('receiving_body', sa.String(length=200), ''),
    ('approving_body', sa.String(length=200), ''),
    ('guide_materials', sa.Text(), ''),
    ('guide_time_limit', sa.String(length=200), ''),
    ('guide_office_hours', sa.String(length=200), ''),
    ('guide_address', sa.String(length=300), ''),
    ('guide_phone', sa.String(length=50), ''),
]


def upgrade() -> None:
    with op.batch_alter_table('matter', schema=None) as batch_op:
        for name, type_, default in TEXTS:
            batch_op.add_column(sa.Column(name, type_, nullable=False, server_default=default))
        batch_op.add_column(sa.Column('random_inspection', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('approved_at', workflows.core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('approved_by', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('approved_role', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('source_case_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('revision', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('abolished_at', workflows.core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key('fk_matter_source_case', 'instance', ['source_case_id'], ['id'])
    # the earlier catalogue's entries: enforced by this agency
    op.execute(sa.text("UPDATE matter SET enforcement_subject = COALESCE("
                       "(SELECT value FROM policy_setting WHERE name = 'agency_name'), '') "
                       "WHERE enforcement_subject = ''"))


def downgrade() -> None:
    with op.batch_alter_table('matter', schema=None) as batch_op:
        batch_op.drop_constraint('fk_matter_source_case', type_='foreignkey')
        for name in ('abolished_at', 'revision', 'source_case_id', 'approved_role', 'approved_by', 'approved_at',
                     'random_inspection'):
            batch_op.drop_column(name)
        for name, _, _ in reversed(TEXTS):
            batch_op.drop_column(name)
