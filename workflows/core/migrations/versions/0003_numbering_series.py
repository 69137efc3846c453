"""numbering series: case numbers are counted per pattern and year

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""
import os

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Counters so far belong to the enforcement-case pattern in use when this runs.
    series = os.environ.get("SANXIANG_CASE_NUMBER_PATTERN", "新民罚〔{year}〕{seq:04d}号")
    op.create_table('case_counter_series',
    sa.Column('series', sa.String(length=100), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('series', 'year')
    )
    op.get_bind().execute(sa.text("INSERT INTO case_counter_series (series, year, last) "
                                  "SELECT :series, year, last FROM case_counter"), {"series": series})
    op.drop_table('case_counter')
    op.rename_table('case_counter_series', 'case_counter')


def downgrade() -> None:
    op.create_table('case_counter_year',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    op.execute("INSERT INTO case_counter_year (year, last) SELECT year, MAX(last) FROM case_counter GROUP BY year")
    op.drop_table('case_counter')
    op.rename_table('case_counter_year', 'case_counter')
