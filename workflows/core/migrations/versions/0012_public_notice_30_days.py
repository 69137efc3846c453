"""public notice 30 days: service by public notice is deemed served after 30 days, not 60

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

民事诉讼法 Art. 95 as revised in 2021 shortened the period from 60 to 30 days. ``sanxiang init``
only adds missing deadline settings, so a database seeded before this revision still holds 60: the
row is corrected here, and only while it still holds the old default (an administrator's own
value or basis is left alone). The correction is kept in ``setting_change`` like an administrator's.
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

import workflows.core.models

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

NAME = 'public_notice_service'
OLD = (60, 'days', '行政处罚法第61条、民事诉讼法')
NEW = (30, 'days', '行政处罚法第61条、民事诉讼法第95条')
NOTE = '民事诉讼法第95条（2021年修正）：公告送达自发出公告之日起经过三十日视为送达（原为六十日）。'

deadline_setting = sa.table(
    'deadline_setting',
    sa.column('name', sa.String), sa.column('amount', sa.Integer),
    sa.column('unit', sa.String), sa.column('basis', sa.String),
)
setting_change = sa.table(
    'setting_change',
    sa.column('name', sa.String), sa.column('old', sa.Text), sa.column('new', sa.Text),
    sa.column('note', sa.Text), sa.column('changed_by', sa.String),
    sa.column('changed_at', workflows.core.models.UTCDateTime(timezone=True)),
)


def _move(old: tuple[int, str, str], new: tuple[int, str, str], note: str) -> None:
    """Set the row from ``old`` to ``new`` if it still holds ``old`` (amount, unit and basis, or no
    basis), and record the change."""
    connection = op.get_bind()
    row = connection.execute(
        sa.select(deadline_setting.c.amount, deadline_setting.c.unit, deadline_setting.c.basis)
        .where(deadline_setting.c.name == NAME)
    ).first()
    if row is None or (row.amount, row.unit) != old[:2] or row.basis not in (old[2], '', None):
        return
    basis = new[2]
    connection.execute(
        deadline_setting.update().where(deadline_setting.c.name == NAME)
        .values(amount=new[0], unit=new[1], basis=basis)
    )
    connection.execute(setting_change.insert().values(
        name=f'deadline:{NAME}', old=f'{row.amount} {row.unit} · {row.basis}',
        new=f'{new[0]} {new[1]} · {basis}', note=note, changed_by='system',
        changed_at=datetime.now(timezone.utc),
    ))


def upgrade() -> None:
    _move(OLD, NEW, NOTE)


def downgrade() -> None:
    _move(NEW, OLD, 'downgrade of migration 0012')
