"""The tables, as SQLAlchemy 2 typed models. The schema itself is built by Alembic migrations."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import (
    Boolean, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, Numeric, String, Text, TypeDecorator,
    UniqueConstraint, text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from workflows.core.clock import now
from workflows.core.workdays import TZ


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes on every database: stored as UTC, naive values refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are never stored")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:  # SQLite keeps no offset
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    pass


def local_today() -> date:
    """Today in Asia/Shanghai by the engine clock (role grants and credentials are valid by day)."""
    return now().astimezone(TZ).date()


class Unit(Base):
    """A business section (科室) of the bureau; cases and unit-scoped tasks belong to one."""

    __tablename__ = "unit"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # units are closed, never deleted


class Role(Base):
    """A role of DOMAIN.md; BPMN lanes are named by its id or its Chinese label."""

    __tablename__ = "role"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    label_zh: Mapped[str] = mapped_column(String(40), unique=True)
    label_en: Mapped[str] = mapped_column(String(60))
    needs_credential: Mapped[bool] = mapped_column(Boolean, default=False)
    unit_scoped: Mapped[bool] = mapped_column(Boolean, default=False)


class User(Base):
    """A member of staff; deactivated, never deleted (history names them)."""

    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    full_name: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(String(10))
    contact: Mapped[str] = mapped_column(String(200), default="")
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    session_generation: Mapped[int] = mapped_column(Integer, default=0)  # a bump ends every session
    unit: Mapped[Unit] = relationship(lazy="joined")
    grants: Mapped[list[UserRole]] = relationship(lazy="joined", cascade="all, delete-orphan",
                                                  order_by="UserRole.role_id")
    credentials: Mapped[list[Credential]] = relationship(back_populates="holder", lazy="joined",
                                                         foreign_keys="Credential.user_id")

    @property
    def roles(self) -> list[Role]:
        """The roles granted to the user and valid today."""
        today = local_today()
        return [g.role for g in self.grants if g.valid_on(today)]

    @property
    def role_ids(self) -> set[str]:
        return {r.id for r in self.roles}

    def valid_credential(self, on: date) -> Credential | None:
        return next((c for c in self.credentials if c.valid_on(on)), None)


class UserRole(Base):
    """A role granted to a user, from and until a day (open-ended when not given)."""

    __tablename__ = "user_role"
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[str] = mapped_column(ForeignKey("role.id"), primary_key=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    role: Mapped[Role] = relationship(lazy="joined")

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


class Credential(Base):
    """An enforcement credential (执法证): no valid credential, no enforcement. A renewal is a new
    credential that names the one it replaces; suspension and revocation take effect at once."""

    __tablename__ = "credential"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(60), default="行政执法证")
    issuer: Mapped[str] = mapped_column(String(100), default="")
    area: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="valid")  # valid | suspended | revoked
    status_reason: Mapped[str] = mapped_column(Text, default="")
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("credential.id"))
    holder: Mapped[User] = relationship(back_populates="credentials", foreign_keys=[user_id])

    def valid_on(self, day: date) -> bool:
        return self.status == "valid" and self.valid_from <= day <= self.valid_to

    def state_on(self, day: date) -> str:
        """valid, suspended, revoked, expired, or not_yet (valid later)."""
        if self.status != "valid":
            return self.status
        return "expired" if day > self.valid_to else "not_yet" if day < self.valid_from else "valid"


class Qualification(Base):
    """A legal professional qualification (法律职业资格) of a legal reviewer."""

    __tablename__ = "qualification"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    issued_on: Mapped[date] = mapped_column(Date)


class Matter(Base):
    """An enforcement matter (执法事项) of the pre-disclosure catalogue: written only by the
    ``pre_disclosure`` process (:mod:`workflows.domain.catalogue`); officers file against the
    matters in force (``active``)."""

    __tablename__ = "matter"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(60))
    legal_basis: Mapped[str] = mapped_column(Text)
    penalty: Mapped[str] = mapped_column(Text, default="")  # the penalty types (处罚种类)
    serious: Mapped[bool] = mapped_column(Boolean, default=False)  # life, health or finance: 5-year limitation
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # in force: new cases may be filed against it
    category: Mapped[str] = mapped_column(String(20), default="penalty")  # penalty | coercion | inspection | …
    discretion: Mapped[str] = mapped_column(Text, default="")  # the discretion standard (裁量基准)
    enforcement_subject: Mapped[str] = mapped_column(String(200), default="")
    duties: Mapped[str] = mapped_column(Text, default="")
    powers: Mapped[str] = mapped_column(Text, default="")
    procedure: Mapped[str] = mapped_column(Text, default="")
    remedy_channels: Mapped[str] = mapped_column(Text, default="")
    receiving_body: Mapped[str] = mapped_column(String(200), default="")
    approving_body: Mapped[str] = mapped_column(String(200), default="")
    guide_materials: Mapped[str] = mapped_column(Text, default="")
    guide_time_limit: Mapped[str] = mapped_column(String(200), default="")
    guide_office_hours: Mapped[str] = mapped_column(String(200), default="")
    guide_address: Mapped[str] = mapped_column(String(300), default="")
    guide_phone: Mapped[str] = mapped_column(String(50), default="")
    random_inspection: Mapped[bool] = mapped_column(Boolean, default=False)  # on the 随机抽查事项清单
    # the last publication: when, by whom and in which role it was approved, from which pre_disclosure case
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(60))
    approved_role: Mapped[str | None] = mapped_column(String(40))
    source_case_id: Mapped[int | None] = mapped_column(ForeignKey("instance.id"))
    revision: Mapped[int] = mapped_column(Integer, default=0)  # publications through pre_disclosure so far
    abolished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeadlineSetting(Base):
    """A legal deadline as data: the diagrams' timers read these through ``deadline()``; every
    change is kept in :class:`SettingChange`."""

    __tablename__ = "deadline_setting"
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    amount: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(20))  # working_days | days | years
    label_zh: Mapped[str] = mapped_column(String(100))
    basis: Mapped[str] = mapped_column(String(200), default="")


class PolicySetting(Base):
    """A value a jurisdiction sets (a threshold, a rate, a name), with its legal basis; diagrams read
    them through ``setting()``."""

    __tablename__ = "policy_setting"
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))  # amount | rate | text
    label_zh: Mapped[str] = mapped_column(String(100))
    basis: Mapped[str] = mapped_column(String(200), default="")


class SettingChange(Base):
    """Who changed a deadline or policy setting, when, from what to what, and why."""

    __tablename__ = "setting_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), index=True)  # deadline:<name> or policy:<name>
    old: Mapped[str] = mapped_column(Text)
    new: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    changed_by: Mapped[str] = mapped_column(String(60))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class HolidayOverride(Base):
    """A day the holiday package does not know: ``holiday`` or adjusted ``workday``."""

    __tablename__ = "holiday_override"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_working: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(60), default="")


class ModelBlob(Base):
    """BPMN/DMN file contents, stored once per SHA-256."""

    __tablename__ = "model_blob"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ModelSet(Base):
    """Version N of the deployed model set; a case runs entirely on the version it started on."""

    __tablename__ = "model_set"
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    deployed_by: Mapped[str] = mapped_column(String(60))
    note: Mapped[str] = mapped_column(Text, default="")  # why this version: the designer's change note
    files: Mapped[list[ModelFile]] = relationship(lazy="selectin", order_by="ModelFile.filename")


class ModelFile(Base):
    __tablename__ = "model_file"
    version: Mapped[int] = mapped_column(ForeignKey("model_set.version"), primary_key=True)
    filename: Mapped[str] = mapped_column(String(200), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("model_blob.sha256"))


class ModelDraft(Base):
    """A designer's unsaved-to-production edit of one model file: one per file and author, replaced
    on each save, gone when deployed or discarded. Running cases never read it."""

    __tablename__ = "model_draft"
    __table_args__ = (UniqueConstraint("filename", "author"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    author: Mapped[str] = mapped_column(String(60))
    parent_version: Mapped[int | None] = mapped_column(Integer)  # the deployed version it started from
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class CaseCounter(Base):
    """The last sequence number given in one numbering series (a case-number pattern) and year."""

    __tablename__ = "case_counter"
    series: Mapped[str] = mapped_column(String(100), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Instance(Base):
    """A case: its serialized workflow (no spec inside), what lists need without loading it, and the
    head of its audit chain (written with the case, so the version check is the chain's lock)."""

    __tablename__ = "instance"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_no: Mapped[str] = mapped_column(String(60), unique=True)
    process_id: Mapped[str] = mapped_column(String(100))
    model_version: Mapped[int] = mapped_column(ForeignKey("model_set.version"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    status: Mapped[str] = mapped_column(String(20), default="running")  # indexed with facts: ix_instance_status
    status_reason: Mapped[str] = mapped_column(Text, default="")
    matter_code: Mapped[str | None] = mapped_column(String(40))
    party_name: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(Text, deferred=True)  # lists never load it
    error_task: Mapped[str | None] = mapped_column(String(100))
    error_message: Mapped[str | None] = mapped_column(Text)
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_by: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # What supervision lists and counts without loading the case (written with each step, from the
    # case data named in workflows.core.contract):
    filed_on: Mapped[date | None] = mapped_column(Date)  # 立案: the handling limit runs from here
    decision_due: Mapped[date | None] = mapped_column(Date)  # the last day of the handling limit
    decided_on: Mapped[date | None] = mapped_column(Date)
    decision_kind: Mapped[str | None] = mapped_column(String(40))
    penalty_type: Mapped[str | None] = mapped_column(String(40))
    fine_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    confiscation_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    review_result: Mapped[str | None] = mapped_column(String(40))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # completed or terminated
    audit_seq: Mapped[int] = mapped_column(Integer, default=0)  # head of the case's audit chain
    audit_head: Mapped[str] = mapped_column(String(64), default="0" * 64)
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": lock_version}
    __table_args__ = (
        # Cases by status, with what the supervision reads of open cases ask of each (model version,
        # handling limit), so the overdue list, the warnings and the process view's counts read it
        # from the index. On SQLite these columns sit behind the case's 4 KB serialized state, in
        # its overflow pages: with (status) alone every running case's row and overflow pages were
        # read, and once the running cases lay scattered through a long history they no longer fit
        # the page cache (the overdue list 1.6x slower at 100,000 cases than at 1,000).
        Index("ix_instance_status", "status", "model_version", "decision_due", "decided_on"),
        # A unit's open cases without reading its history: (unit_id) alone made a unit's overdue
        # list visit every case the unit ever had. Also serves the unit foreign key. Newest first
        # too (``created_at``): beside ix_instance_unit_created, SQLite (no statistics) took that
        # index for a unit's running or overdue cases, newest first, and walked the unit's history.
        Index("ix_instance_unit_status", "unit_id", "status", "created_at"),
        Index("ix_instance_created", "created_at"),  # the supervision list, newest first, and per week
        # A unit's cases newest first (a unit head's list, or the list filtered by unit): with
        # (unit_id, status) alone SQLite read and sorted every case the unit ever had for a page of 20.
        Index("ix_instance_unit_created", "unit_id", "created_at"),
        Index("ix_instance_closed", "closed_at"),
        Index("ix_instance_decided", "decided_on"),  # decisions of a period (dashboard)
        Index("ix_instance_created_by", "created_by"),  # 我的案件: the cases a person filed
    )


class HumanTask(Base):
    """One inbox row per user task, kept in step with the workflow so lists never deserialize it."""

    __tablename__ = "human_task"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"))
    task_id: Mapped[str] = mapped_column(String(36), unique=True)
    spec_id: Mapped[str] = mapped_column(String(100))
    process_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    lane: Mapped[str] = mapped_column(String(60))
    role_id: Mapped[str] = mapped_column(ForeignKey("role.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    assignee: Mapped[str | None] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(20), default="ready")  # ready | completed | cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(60))
    has_draft: Mapped[bool] = mapped_column(Boolean, default=False)  # someone saved a draft of its form
    instance: Mapped[Instance] = relationship()
    __table_args__ = (
        Index("ix_human_task_assignee", "assignee", "state", "due_at"),
        Index("ix_human_task_pool", "role_id", "unit_id", "due_at",
              sqlite_where=text("state = 'ready' AND assignee IS NULL"),
              postgresql_where=text("state = 'ready' AND assignee IS NULL")),
        Index("ix_human_task_instance", "instance_id", "state"),
        # Overdue lists. ``due_at IS NOT NULL`` keeps it to queries that bound ``due_at`` (any
        # ``due_at < ?`` implies it): on PostgreSQL a scan of the whole index looked cheap to
        # queries that only say ``state = 'ready'`` (the column's physical order is that of the
        # whole table, not of its ready rows), and it took every inbox past its own index.
        Index("ix_human_task_due", "due_at", sqlite_where=text("state = 'ready' AND due_at IS NOT NULL"),
              postgresql_where=text("state = 'ready' AND due_at IS NOT NULL")),
        Index("ix_human_task_done_by", "completed_by", "state", "completed_at"),
        # The dashboard's and the process view's periods: tasks completed, and returned by legal
        # review, in a window, read from the window's rows rather than the whole history.
        Index("ix_human_task_completed", "completed_at"),
        Index("ix_human_task_spec_created", "spec_id", "created_at"),
    )


class Evidence(Base):
    """Metadata of a stored evidence object; the bytes live in the evidence store by SHA-256."""

    __tablename__ = "evidence"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    uploaded_by: Mapped[str] = mapped_column(String(60))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class EvidenceLink(Base):
    """Which case and task a stored evidence object belongs to (an object may serve several)."""

    __tablename__ = "evidence_link"
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("evidence.sha256"))
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    field_id: Mapped[str | None] = mapped_column(String(100))
    linked_by: Mapped[str] = mapped_column(String(60))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    evidence: Mapped[Evidence] = relationship(lazy="joined")
    __table_args__ = (UniqueConstraint("sha256", "instance_id", "task_id", "field_id"),)


class TaskDraft(Base):
    """Form values saved without completing the task; kept out of the workflow state."""

    __tablename__ = "task_draft"
    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(60), primary_key=True)
    data: Mapped[str] = mapped_column(Text)  # JSON of the submitted (raw) values
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class Disclosure(Base):
    """A public disclosure record, redacted when written (:mod:`workflows.domain.disclosure`).

    A decision (``kind='decision'``) is on the portal while its ``status`` is ``published``, from
    ``published_on`` to ``retain_until``; withdrawn, removed (credit repair) and expired records
    leave the public pages and feeds but stay here. The columns after ``withdrawn_reason`` are what
    the portal lists, searches and sorts by, copied from the content when it is written."""

    __tablename__ = "disclosure"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # decision | matter
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instance.id"), index=True)
    case_no: Mapped[str | None] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    content: Mapped[str] = mapped_column(Text)  # JSON of the redacted public fields (as corrected)
    publish: Mapped[bool] = mapped_column(Boolean)
    not_published_reason: Mapped[str | None] = mapped_column(String(40))
    not_published_note: Mapped[str | None] = mapped_column(Text)
    published_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)  # the public explanation (APL Art. 48)
    status: Mapped[str] = mapped_column(String(20), default="published")  # published | withheld | withdrawn | removed
    decision_date: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)  # the last day of the publication limit (7 / 20 working days)
    decision_type: Mapped[str | None] = mapped_column(String(40))  # a penalty's type, else the decision kind
    party: Mapped[str | None] = mapped_column(String(200))  # as shown: 张某, or the organisation's name
    matter_code: Mapped[str | None] = mapped_column(String(40))
    retention_class: Mapped[str | None] = mapped_column(String(20))  # minor | general | serious | other
    repair_from: Mapped[date | None] = mapped_column(Date)  # credit repair may take it down early from this day
    retain_until: Mapped[date | None] = mapped_column(Date)  # the last day it is public
    corrected_on: Mapped[date | None] = mapped_column(Date)
    withdrawn_ground: Mapped[str | None] = mapped_column(String(40))
    removed_on: Mapped[date | None] = mapped_column(Date)
    removed_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)  # the public content's last change
    __table_args__ = (
        # The portal's list, newest decision first, read in index order a page at a time; a date
        # range is a range of it. Its filters by matter and by type have their own, in the same order.
        Index("ix_disclosure_public", "kind", "status", "decision_date", "id"),
        Index("ix_disclosure_matter", "matter_code", "decision_date", "id"),
        Index("ix_disclosure_type", "decision_type", "decision_date", "id"),
        # Records whose retention ended (the feeds' "no longer public" entries, newest first).
        Index("ix_disclosure_retention", "kind", "status", "retain_until"),
    )


class DisclosureEvent(Base):
    """What happened to a decision's public record: ``published``, ``corrected``, ``withdrawn``,
    ``removed`` (early, on credit repair) are public and feed the feeds; ``requested`` (a withdrawal
    or correction asked for, ``instance_id`` its ``disclosure_correction`` case) is internal. The end
    of retention is no row: the calendar brings it (``Disclosure.retain_until``)."""

    __tablename__ = "disclosure_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    disclosure_id: Mapped[int] = mapped_column(ForeignKey("disclosure.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    effective_on: Mapped[date] = mapped_column(Date)  # the day it took effect (Asia/Shanghai)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    actor: Mapped[str] = mapped_column(String(60))
    ground: Mapped[str | None] = mapped_column(String(40))  # why: review_revoked, credit_repair, …
    note: Mapped[str] = mapped_column(Text, default="")  # the public explanation, redacted
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instance.id"))  # the correction case
    before: Mapped[str | None] = mapped_column(Text)  # a correction: the content it replaced (internal)
    __table_args__ = (
        Index("ix_disclosure_event_at", "at", "id"),  # the feeds, newest first
        Index("ix_disclosure_event_instance", "instance_id"),
    )


class DisclosureTerm(Base):
    """The portal's party search: each two-character piece of a public record's party (and its
    credit code whole, ``#`` first), so a search reads the records of its rarest piece only."""

    __tablename__ = "disclosure_term"
    term: Mapped[str] = mapped_column(String(24), primary_key=True)
    disclosure_id: Mapped[int] = mapped_column(ForeignKey("disclosure.id"), primary_key=True, index=True)


class SupervisionNotice(Base):
    """A supervisor's notice on a case (督办): shown on the case and to whoever holds its tasks until
    one of them acknowledges it."""

    __tablename__ = "supervision_notice"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"))
    message: Mapped[str] = mapped_column(Text)
    sent_by: Mapped[str] = mapped_column(String(60))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    acknowledged_by: Mapped[str | None] = mapped_column(String(60))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    instance: Mapped[Instance] = relationship()
    __table_args__ = (Index("ix_supervision_open", "instance_id", "acknowledged_at"),)


class AuditChain(Base):
    """The head of one hash chain: ``system`` or ``access:<username>``. Appends lock this row.
    (A case chain's head is on the case row.)"""

    __tablename__ = "audit_chain"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    length: Mapped[int] = mapped_column(Integer, default=0)
    head: Mapped[str] = mapped_column(String(64), default="")


READ_ACTIONS = ("case.view", "evidence.read")  # reads of a case's file (调阅), in ix_audit_reads's order
_READ = text("action IN (%s)" % ", ".join(f"'{action}'" for action in READ_ACTIONS))


class AuditEvent(Base):
    """An append-only record; ``hash`` covers the event's canonical JSON and ``prev_hash``, keyed
    (HMAC) with the audit key named by ``key_id`` (none: plain SHA-256, as written before keys)."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[str] = mapped_column(String(80))
    seq: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(60))
    instance_id: Mapped[int | None] = mapped_column(Integer)  # no FK: the record outlives what it names
    task_id: Mapped[str | None] = mapped_column(String(36))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(16))
    # What the case looked like after this act (JSON: hash of its state, status, inbox rows), covered by the link
    seal: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        UniqueConstraint("chain", "seq"),  # a case's own events are found by chain
        # The reads of a case, newest last: the case page counts them and lists the latest from
        # here, however often the file was read, and the case's own events stay out of it.
        Index("ix_audit_reads", "instance_id", "created_at", "id", sqlite_where=_READ, postgresql_where=_READ),
    )


class AnnualReport(Base):
    """An approved annual statistics report (年度执法统计报告) as published: the figures frozen when
    the ``annual_report`` process published them (:mod:`workflows.domain.annual_report`). A year
    published again (a correction) gets a new row; the portal shows the latest."""

    __tablename__ = "annual_report"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instance.id"))  # the approval process
    case_no: Mapped[str] = mapped_column(String(60))
    as_of: Mapped[date] = mapped_column(Date)  # the figures count up to this day
    content: Mapped[str] = mapped_column(Text)  # JSON of the figures
    summary: Mapped[str] = mapped_column(Text, default="")  # the office's explanatory text (报告说明)
    drafted_by: Mapped[str] = mapped_column(String(60))
    reviewed_by: Mapped[str] = mapped_column(String(60))
    approved_by: Mapped[str] = mapped_column(String(60))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
