"""The public read model of decisions after enforcement (事后公开): what the portal lists, searches,
shows on a permalink, puts in its feeds and its sitemap. Anonymous, so nothing here checks access;
what it never returns is the point: a record withdrawn, taken down or past its retention has no
content here, and one never published does not exist.

Cheap at any size: a page is read in the order of an index and stops after a page; a search by party
reads the records of the rarest two-character piece of the party's name only
(:class:`~workflows.core.models.DisclosureTerm`); counts are never taken (a page knows only whether
another follows). The validators of the conditional GETs cost an index lookup each.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from workflows.core.models import Disclosure, DisclosureEvent, DisclosureTerm, Matter
from workflows.core.workdays import TZ
from workflows.domain.disclosure import CREDIT_CODE, normalize, public_state, terms
from workflows.engine.runtime import today

PER_PAGE = 20
MAX_PAGE = 500
FEED_SIZE = 50
SITEMAP_LIMIT = 45_000  # the sitemap protocol's 50,000 URLs per file, less the portal's own pages
RARE = 200  # a piece found in fewer records than this drives a party search
PUBLIC_EVENTS = ("published", "corrected", "withdrawn", "removed")
MAX_QUERY = 40


@dataclass(frozen=True)
class Filters:
    party: str = ""
    matter: str = ""
    type: str = ""
    since: date | None = None
    until: date | None = None

    @property
    def empty(self) -> bool:
        return not (self.party or self.matter or self.type or self.since or self.until)


@dataclass(frozen=True)
class Entry:
    """A public decision as lists and feeds show it (redacted content, as corrected)."""

    id: int
    title: str
    content: dict[str, Any]
    decision_type: str | None
    decision_date: date | None
    published_on: date | None
    corrected_on: date | None
    updated_at: datetime


@dataclass(frozen=True)
class Listing:
    entries: list[Entry]
    page: int
    has_next: bool
    filters: Filters
    problem: str | None = None  # why the search was not run (a query too short)


@dataclass(frozen=True)
class PublicEvent:
    kind: str
    on: date
    note: str


@dataclass(frozen=True)
class Record:
    """A permalink's record: the content only while ``state`` is ``public``; when it stopped being
    public and why otherwise."""

    id: int
    state: str  # public | withdrawn | expired | removed
    entry: Entry | None
    published_on: date | None
    ended_on: date | None  # withdrawn, taken down, or the first day after its retention
    ground: str | None
    reason: str | None
    history: list[PublicEvent] = field(default_factory=list)
    updated_at: datetime | None = None
    retain_until: date | None = None  # the last day it is public


def _public(day: date, by_index: bool = True):
    """Public decisions. The end of retention is compared through ``coalesce`` so that no planner
    reads the list by ``ix_disclosure_retention`` (every public record is in its range) and sorts
    it: the list is read in the order of ``ix_disclosure_public`` and stops after a page. A party
    search reads its few records by id instead: ``by_index=False`` hides ``kind`` from the planner
    (SQLite, with no statistics, would otherwise walk the whole list in order to avoid a sort)."""
    kind = Disclosure.kind if by_index else Disclosure.kind + ""
    return and_(kind == "decision", Disclosure.status == "published",
                func.coalesce(Disclosure.retain_until, date.max) >= day)


def _entry(row: Disclosure) -> Entry:
    return Entry(row.id, row.title, json.loads(row.content or "{}"), row.decision_type, row.decision_date,
                 row.published_on, row.corrected_on, row.updated_at)


def _capped_count(piece: str):
    return select(func.count()).select_from(
        select(DisclosureTerm.disclosure_id).where(DisclosureTerm.term == piece).limit(RARE).subquery()).scalar_subquery()


def _driver(session: Session, pieces: list[str]) -> tuple[str | None, bool]:
    """The rarest piece, if one is rare (fewer than :data:`RARE` records); and whether every piece
    is found at all (a piece no record has means no match). One query; each count stops at
    :data:`RARE`, so a search reads at most that many index entries per piece, whatever the size."""
    counts = session.execute(select(*(_capped_count(piece) for piece in pieces))).one()
    if not all(counts):
        return None, False
    fewest = min(counts)
    return (pieces[counts.index(fewest)] if fewest < RARE else None), True


def search_pieces(party: str) -> list[str]:
    """The pieces a party search looks for: a credit code whole, else the text's two-character pieces."""
    text = normalize(party)[:MAX_QUERY]
    if CREDIT_CODE.match(text.upper()):
        return ["#" + text]
    return sorted(terms(text)) if len(text) >= 2 else []


def search(session: Session, filters: Filters, page: int = 1, per_page: int = PER_PAGE) -> Listing:
    """Public decisions, newest decision first, by party, matter, type and decision date."""
    page = min(max(page, 1), MAX_PAGE)
    pieces, driver = [], None
    if filters.party.strip():
        pieces = search_pieces(filters.party)
        if not pieces:
            return Listing([], page, False, filters, "short")
        driver, possible = _driver(session, pieces)
        if not possible:
            return Listing([], page, False, filters)
    q = select(Disclosure).where(_public(today(), by_index=driver is None))
    if filters.matter:
        q = q.where(Disclosure.matter_code == filters.matter)
    if filters.type:
        q = q.where(Disclosure.decision_type == filters.type)
    if filters.since:
        q = q.where(Disclosure.decision_date >= filters.since)
    if filters.until:
        q = q.where(Disclosure.decision_date <= filters.until)
    if driver is not None:  # read the driver's records only, by id (fewer than RARE, sorted after)
        q = q.where(Disclosure.id.in_(select(DisclosureTerm.disclosure_id).where(DisclosureTerm.term == driver)))
    for piece in pieces:
        if piece != driver:
            other = aliased(DisclosureTerm)
            q = q.where(exists().where(other.disclosure_id == Disclosure.id, other.term == piece))
    rows = list(session.scalars(q.order_by(Disclosure.decision_date.desc(), Disclosure.id.desc())
                                .offset((page - 1) * per_page).limit(per_page + 1)))
    return Listing([_entry(r) for r in rows[:per_page]], page, len(rows) > per_page, filters)


def matters(session: Session) -> list[Matter]:
    """The catalogue's matters, for the search form's choice."""
    return list(session.scalars(select(Matter).order_by(Matter.code)))


def record(session: Session, disclosure_id: int) -> Record | None:
    """A decision's permalink; None for no such record and for one never published."""
    row = session.get(Disclosure, disclosure_id)
    if row is None or row.kind != "decision" or row.status == "withheld":
        return None
    day = today()
    state = public_state(row, day)
    events = list(session.scalars(select(DisclosureEvent).where(DisclosureEvent.disclosure_id == row.id,
                                                                DisclosureEvent.kind.in_(PUBLIC_EVENTS))
                                  .order_by(DisclosureEvent.at, DisclosureEvent.id)))
    history = [PublicEvent(e.kind, e.effective_on, e.note) for e in events]
    if state == "public":
        return Record(row.id, state, _entry(row), row.published_on, None, None, None, history, row.updated_at,
                      row.retain_until)
    ended = {"withdrawn": row.withdrawn_on, "removed": row.removed_on,
             "expired": row.retain_until + timedelta(days=1) if row.retain_until else None}[state]
    return Record(row.id, state, None, row.published_on, ended,
                  row.withdrawn_ground if state == "withdrawn" else None,
                  row.withdrawn_reason if state == "withdrawn" else None,
                  [h for h in history if h.kind in ("withdrawn", "removed")], row.updated_at)


# --- feeds ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeedItem:
    key: str  # stable: the same event is the same entry
    kind: str  # published | corrected | withdrawn | removed | expired
    disclosure_id: int
    at: datetime
    entry: Entry | None  # the content, while the record is public
    note: str = ""
    ground: str | None = None
    order: int = 0  # the event's id: events of one moment in the order they happened


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=TZ)


def feed(session: Session, limit: int = FEED_SIZE) -> list[FeedItem]:
    """The latest publications, corrections, withdrawals, take-downs and ends of retention, newest
    first. A record no longer public keeps only the entry saying so: its publication and corrections
    leave the feed with its content."""
    day = today()
    # events are written for decisions only: read newest first by ix_disclosure_event_at, each joined
    # to its record by key (a condition on the record's kind made SQLite read every record and sort)
    rows = session.execute(select(DisclosureEvent, Disclosure).join(Disclosure, DisclosureEvent.disclosure_id == Disclosure.id)
                           .where(DisclosureEvent.kind.in_(PUBLIC_EVENTS))
                           .order_by(DisclosureEvent.at.desc(), DisclosureEvent.id.desc()).limit(limit * 2)).all()
    items = []
    for e, record in rows:
        public = public_state(record, day) == "public"
        if e.kind in ("published", "corrected") and not public:
            continue
        items.append(FeedItem(f"{record.id}-{e.kind}-{e.id}", e.kind, record.id, e.at,
                              _entry(record) if public else None, e.note, e.ground, e.id))
    expired = session.scalars(select(Disclosure).where(
        Disclosure.kind == "decision", Disclosure.status == "published", Disclosure.retain_until < day)
        .order_by(Disclosure.retain_until.desc(), Disclosure.id.desc()).limit(limit))
    items += [FeedItem(f"{r.id}-expired", "expired", r.id, _start_of(r.retain_until + timedelta(days=1)), None)
              for r in expired]
    return sorted(items, key=lambda i: (i.at, i.order), reverse=True)[:limit]


@dataclass(frozen=True)
class Validator:
    """What a conditional GET compares: a token that changes whenever anything public changes, and
    the moment of the latest change."""

    token: str
    last_modified: datetime | None


def validator(session: Session) -> Validator:
    """The portal's decisions change with an event or with a retention that ended: both are read
    off an index (the newest event; the latest retention end before today)."""
    day = today()
    latest = session.execute(select(DisclosureEvent.id, DisclosureEvent.at)
                             .order_by(DisclosureEvent.at.desc(), DisclosureEvent.id.desc()).limit(1)).first()
    ended = session.scalar(select(func.max(Disclosure.retain_until)).where(
        Disclosure.kind == "decision", Disclosure.status == "published", Disclosure.retain_until < day))
    moments = [m for m in (latest.at if latest else None, _start_of(ended + timedelta(days=1)) if ended else None) if m]
    token = hashlib.sha256(f"{latest.id if latest else 0}|{ended}".encode()).hexdigest()[:24]
    return Validator(token, max(moments) if moments else None)


def sitemap(session: Session, limit: int = SITEMAP_LIMIT) -> list[tuple[int, datetime]]:
    """The permalinks of the public decisions (newest first) and when each last changed."""
    return list(session.execute(select(Disclosure.id, Disclosure.updated_at).where(_public(today()))
                                .order_by(Disclosure.decision_date.desc(), Disclosure.id.desc()).limit(limit)).all())
