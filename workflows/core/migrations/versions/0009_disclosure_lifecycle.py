"""disclosure lifecycle: decisions disclosed on time, withdrawn, corrected and retained

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

The decision records written so far get the portal's columns from their content and their case
(status, decision date, type, party, matter), a retention by the first values of the retention
settings, their party search pieces, and a ``published`` event each (the feeds start from them).
"""
import calendar
import json
import unicodedata
from datetime import date

from alembic import op
import sqlalchemy as sa

import workflows.core.models

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# The retention settings' first values (months): workflows.domain.disclosure.RETENTION_DEFAULTS as it
# was when this migration was written.
KEEP = {"minor": 3, "general": 12, "serious": 36, "other": 60}
MINIMUM = {"minor": 0, "general": 3, "serious": 12}
KEEP_PERSON = 24
SERIOUS_TYPES = {"lower_qualification", "suspend_activities", "restrict_practice", "revoke_licence",
                 "revoke_registration"}


def upgrade() -> None:
    with op.batch_alter_table('disclosure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=False, server_default='published'))
        batch_op.add_column(sa.Column('decision_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('decision_type', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('party', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('matter_code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('retention_class', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('repair_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('retain_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('corrected_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_ground', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('removed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('removed_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', workflows.core.models.UTCDateTime(timezone=True), nullable=False,
                                      server_default=sa.text('CURRENT_TIMESTAMP')))
        batch_op.create_index('ix_disclosure_public', ['kind', 'status', 'decision_date', 'id'], unique=False)
        batch_op.create_index('ix_disclosure_matter', ['matter_code', 'decision_date', 'id'], unique=False)
        batch_op.create_index('ix_disclosure_type', ['decision_type', 'decision_date', 'id'], unique=False)
        batch_op.create_index('ix_disclosure_retention', ['kind', 'status', 'retain_until'], unique=False)

    op.create_table('disclosure_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('disclosure_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('at', workflows.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=60), nullable=False),
    sa.Column('ground', sa.String(length=40), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('before', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['disclosure_id'], ['disclosure.id'], ),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('disclosure_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_event_disclosure_id'), ['disclosure_id'], unique=False)
        batch_op.create_index('ix_disclosure_event_at', ['at', 'id'], unique=False)
        batch_op.create_index('ix_disclosure_event_instance', ['instance_id'], unique=False)

    op.create_table('disclosure_term',
    sa.Column('term', sa.String(length=24), nullable=False),
    sa.Column('disclosure_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['disclosure_id'], ['disclosure.id'], ),
    sa.PrimaryKeyConstraint('term', 'disclosure_id')
    )
    with op.batch_alter_table('disclosure_term', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_term_disclosure_id'), ['disclosure_id'], unique=False)

    _backfill()


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _terms(party: str, code: str | None) -> set[str]:
    text = "".join(unicodedata.normalize("NFKC", party or "").casefold().split())
    found = {text[i:i + 2] for i in range(len(text) - 1)} if len(text) > 1 else ({text} if text else set())
    if code:
        found.add("#" + "".join(unicodedata.normalize("NFKC", code).casefold().split()))
    return {t[:24] for t in found}


def _day(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _backfill() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT d.id, d.kind, d.publish, d.content, d.withdrawn_on, d.created_at, d.published_on, "
        "i.decided_on, i.decision_kind, i.penalty_type, i.matter_code, i.fine_amount, i.confiscation_amount "
        "FROM disclosure d LEFT JOIN instance i ON i.id = d.instance_id")).all()
    for (rid, kind, publish, content, withdrawn_on, created_at, published_on, decided_on, decision_kind,
         penalty_type, matter_code, fine, confiscation) in rows:
        status = "withdrawn" if withdrawn_on else ("published" if publish else "withheld")
        values = {"id": rid, "status": status, "updated_at": created_at}
        if kind == "decision":
            body = json.loads(content or "{}")
            decided = _day(decided_on) or _day(body.get("decision_date")) or _day(published_on) or _day(created_at)
            penalty = (decision_kind or body.get("decision_kind") or ("penalty" if penalty_type else "other")) == "penalty"
            if not penalty:
                cls = "other"
            elif penalty_type in SERIOUS_TYPES:
                cls = "serious"
            elif penalty_type == "warning" and not (fine or confiscation):
                cls = "minor"
            else:
                cls = "general"
            keep = KEEP[cls]
            if body.get("party_type") == "natural_person":
                keep = min(keep, KEEP_PERSON)
            values.update(
                decision_date=decided, decision_type=(penalty_type or "penalty") if penalty else (decision_kind or "other"),
                party=body.get("party"), matter_code=matter_code, retention_class=cls if publish else None,
                repair_from=_add_months(decided, min(MINIMUM[cls], keep)) if publish and cls in MINIMUM else None,
                retain_until=_add_months(decided, keep) if publish else None)
        columns = ", ".join(f"{k} = :{k}" for k in values if k != "id")
        connection.execute(sa.text(f"UPDATE disclosure SET {columns} WHERE id = :id"), values)
        if kind == "decision" and status == "published":
            connection.execute(sa.text(
                "INSERT INTO disclosure_event (disclosure_id, kind, effective_on, at, actor, note) "
                "VALUES (:id, 'published', :on, :at, 'system', '')"),
                {"id": rid, "on": _day(published_on) or values["decision_date"], "at": created_at})
            for term in sorted(_terms(values.get("party") or "", json.loads(content or "{}").get("party_code"))):
                connection.execute(sa.text("INSERT INTO disclosure_term (term, disclosure_id) VALUES (:t, :id)"),
                                   {"t": term, "id": rid})


def downgrade() -> None:
    with op.batch_alter_table('disclosure_term', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_term_disclosure_id'))
    op.drop_table('disclosure_term')
    with op.batch_alter_table('disclosure_event', schema=None) as batch_op:
        batch_op.drop_index('ix_disclosure_event_instance')
        batch_op.drop_index('ix_disclosure_event_at')
        batch_op.drop_index(batch_op.f('ix_disclosure_event_disclosure_id'))
    op.drop_table('disclosure_event')
    with op.batch_alter_table('disclosure', schema=None) as batch_op:
        batch_op.drop_index('ix_disclosure_retention')
        batch_op.drop_index('ix_disclosure_type')
        batch_op.drop_index('ix_disclosure_matter')
        batch_op.drop_index('ix_disclosure_public')
        for column in ('updated_at', 'removed_reason', 'removed_on', 'withdrawn_ground', 'corrected_on',
                       'retain_until', 'repair_from', 'retention_class', 'matter_code', 'party', 'decision_type',
                       'due_on', 'decision_date', 'status'):
            batch_op.drop_column(column)
