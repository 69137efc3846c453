"""The annual statistics report (年度执法统计报告, 统计年报): what the bureau enforced in a year, built
from the case rows, their inbox rows, the disclosure records and the people tables.

The previous year's report is published by 31 January (国办发〔2018〕118号). The live figures are for
staff (:func:`build`, checked by :func:`workflows.domain.access.check_read_report` at the doors);
the ``annual_report`` process has them drafted, legally reviewed and approved, and its script task
:data:`~workflows.core.contract.REPORT_HOOK` publishes them (:func:`publish`): the figures are frozen
in an :class:`~workflows.core.models.AnnualReport` row, which is all the public ever sees.

What the figures count (a year is 1 January to 31 December, or to today while it runs):

* decisions by ``decided_on``: penalties by type with fines and confiscations, decisions not to
  penalise; transfers to judicial organs, hearings held, collective discussions and legal-review
  opinions by when their task was completed (the elements are named in :mod:`workflows.core.contract`);
* legal review: the cases whose review opinion fell in the year, by their final result, and the
  returns for correction created in the year;
* disclosure of the year's decisions: on time, late (after the 7 / 20 working days), withheld by
  law, not yet disclosed past the limit, or still within it;
* staff on the last day counted: active users holding the officer role, those of them with a valid
  credential, and the legal reviewers, whose share of the officers should be at least 5 %.

What no model records is said to be so, never estimated. Of 行政复议 and 行政诉讼 only the decisions
they revoked, changed or found unlawful are recorded (as the published record of the decision is
withdrawn or corrected on that ground, ``disclosure_correction``), counted by when that took
effect; applications, and outcomes that uphold a decision, are recorded nowhere: "not recorded".
Inspections (no inspection process exists) are "not applicable".
"""
from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from workflows.core import contract
from workflows.core.deadlines import due_date
from workflows.core.errors import Conflict, FormInvalid
from workflows.core.messages import Message
from workflows.core.models import (
    AnnualReport, Disclosure, DisclosureEvent, HumanTask, Instance, PolicySetting, User, UserRole,
)
from workflows.core.settings import Settings
from workflows.core.workdays import TZ
from workflows.domain import access, disclosure, lookups
from workflows.engine import runtime

FIRST_YEAR = 2000
ZERO = Decimal("0.00")
REVIEWER_GOAL_SETTING = "reviewer_share_goal"
REVIEWER_GOAL_DEFAULT = Decimal("0.05")  # 国办发〔2018〕118号: at least 5 % of enforcement staff
NOT_RECORDED, NOT_APPLICABLE = "not_recorded", "not_applicable"
OPEN_STATES = ("running", "suspended", "error")
# The grounds of a withdrawal or correction of a published decision that are outcomes of 行政复议 and
# 行政诉讼 (the ``change_ground`` values of ``disclosure_correction``, :data:`disclosure.GROUNDS`).
REMEDY_GROUNDS = ("review_revoked", "review_changed", "review_unlawful",
                  "litigation_revoked", "litigation_changed", "litigation_unlawful")


# --- the figures ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PenaltyLine:
    penalty_type: str  # the value of the case forms' ``penalty_type``
    label: str  # its label in the forms when counted
    count: int
    fines: Decimal
    confiscations: Decimal


@dataclass(frozen=True)
class Penalties:
    lines: list[PenaltyLine]
    count: int
    fines: Decimal
    confiscations: Decimal  # illegal gains and property confiscated, in yuan
    with_confiscation: int  # penalty decisions that confiscate


@dataclass(frozen=True)
class Reviews:
    opinions: int  # review opinions given (a case returned and reviewed again has two)
    cases: int  # cases with an opinion in the year
    results: dict[str, int]  # those cases by final result: contract.REVIEW_RESULTS and "pending"
    returned: int  # returns for correction (退回补正)


@dataclass(frozen=True)
class Disclosures:
    """The year's decisions (penalties and decisions not to penalise) by their post-disclosure."""
    on_time: int
    late: int
    withheld: int  # not published by law (minors, secrets, privacy …)
    overdue: int  # no record yet, past the limit
    pending: int  # no record yet, within the limit

    @property
    def decisions(self) -> int:
        return self.on_time + self.late + self.withheld + self.overdue + self.pending

    @property
    def timely_rate(self) -> Decimal | None:
        """Published on time, of the decisions whose limit has passed and that are not withheld."""
        due = self.on_time + self.late + self.overdue
        return _percent(self.on_time, due)


@dataclass(frozen=True)
class Remedies:
    """行政复议 and 行政诉讼 as far as they are recorded."""
    outcomes: dict[str, int]  # REMEDY_GROUNDS → decisions revoked, changed or found unlawful on that ground
    applications: str = NOT_RECORDED  # applications and upheld decisions: no model records them


@dataclass(frozen=True)
class Staffing:
    officers: int  # enforcement staff (执法人员)
    credentialed: int  # of them, with a credential valid on the day counted
    reviewers: int  # legal reviewers (法制审核人员)
    reviewer_goal: Decimal  # the share to reach, as a fraction (0.05)

    @property
    def credential_rate(self) -> Decimal | None:
        return _percent(self.credentialed, self.officers)

    @property
    def reviewer_share(self) -> Decimal | None:
        return _percent(self.reviewers, self.officers)

    @property
    def goal_percent(self) -> Decimal:
        return (self.reviewer_goal * 100).quantize(Decimal("0.1"))

    @property
    def meets_goal(self) -> bool | None:
        if not self.officers:
            return None
        return Decimal(self.reviewers) >= self.reviewer_goal * self.officers


@dataclass(frozen=True)
class Report:
    year: int
    agency: str
    start: date
    end: date  # the last day counted: 31 December, or today while the year runs
    penalties: Penalties
    no_penalty: int
    transfers: int
    hearings: int
    discussions: int
    reviews: Reviews
    disclosures: Disclosures
    staffing: Staffing
    remedies: Remedies
    inspections: str = NOT_APPLICABLE  # no inspection process yet

    @property
    def complete(self) -> bool:
        """Whether the figures cover the whole year."""
        return self.end == date(self.year, 12, 31)


def _percent(part: int, whole: int) -> Decimal | None:
    return None if not whole else (Decimal(100) * part / whole).quantize(Decimal("0.1"))


def check_year(year: int) -> int:
    """A year that has begun (the report of a later one has nothing to count)."""
    if not isinstance(year, int) or not FIRST_YEAR <= year <= runtime.today().year:
        raise FormInvalid({"year": [Message("统计年度应为%(first)s年至今年之间的年份", first=FIRST_YEAR)]})
    return year


def build(session: Session, year: int) -> Report:
    """The figures of ``year`` as the data stand now (whole agency, every unit)."""
    check_year(year)
    start = date(year, 1, 1)
    end = min(date(year, 12, 31), runtime.today())
    since, until = _moment(start), _moment(end + timedelta(days=1))
    return Report(
        year=year, agency=_setting(session, "agency_name", ""), start=start, end=end,
        penalties=_penalties(session, start, end),
        no_penalty=_decisions(session, "no_penalty", start, end),
        transfers=_completed(session, contract.TRANSFER_ELEMENT, since, until),
        hearings=_completed(session, contract.HEARING_ELEMENT, since, until),
        discussions=_completed(session, contract.DISCUSSION_ELEMENT, since, until),
        reviews=_reviews(session, since, until),
        disclosures=_disclosures(session, start, end),
        staffing=_staffing(session, end),
        remedies=_remedies(session, start, end),
    )


def _penalties(session: Session, start: date, end: date) -> Penalties:
    q = (select(Instance.penalty_type, func.count(), func.sum(Instance.fine_amount),
                func.sum(Instance.confiscation_amount))
         .where(Instance.decision_kind == "penalty", Instance.decided_on >= start, Instance.decided_on <= end)
         .group_by(Instance.penalty_type))
    labels = lookups.enum_labels(session, "penalty_type")
    rows = sorted(session.execute(q).all(), key=lambda r: (-r[1], r[0] or ""))
    lines = [PenaltyLine(kind or "", labels.get(kind or "", kind or "—"), count, _money(fines), _money(gains))
             for kind, count, fines, gains in rows]
    with_confiscation = session.scalar(select(func.count()).select_from(Instance).where(
        Instance.decision_kind == "penalty", Instance.decided_on >= start, Instance.decided_on <= end,
        Instance.confiscation_amount > 0)) or 0
    return Penalties(lines, sum(line.count for line in lines), _money(sum(line.fines for line in lines)),
                     _money(sum(line.confiscations for line in lines)), with_confiscation)


def _decisions(session: Session, kind: str, start: date, end: date) -> int:
    return session.scalar(select(func.count()).select_from(Instance).where(
        Instance.decision_kind == kind, Instance.decided_on >= start, Instance.decided_on <= end)) or 0


def _completed(session: Session, element: str, since: datetime, until: datetime) -> int:
    """Tasks of ``element`` completed in the period (each completion once)."""
    return session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.spec_id == element, HumanTask.state == "completed", HumanTask.completed_at >= since,
        HumanTask.completed_at < until)) or 0


def _reviews(session: Session, since: datetime, until: datetime) -> Reviews:
    done = and_(HumanTask.spec_id == contract.REVIEW_ELEMENT, HumanTask.state == "completed",
                HumanTask.completed_at >= since, HumanTask.completed_at < until)
    opinions = session.scalar(select(func.count()).select_from(HumanTask).where(done)) or 0
    reviewed = select(HumanTask.instance_id).where(done).distinct().scalar_subquery()
    by_result = dict(session.execute(select(Instance.review_result, func.count()).where(
        Instance.id.in_(reviewed)).group_by(Instance.review_result)).all())
    results = {result: by_result.get(result, 0) for result in contract.REVIEW_RESULTS}
    results["pending"] = sum(n for result, n in by_result.items() if result not in contract.REVIEW_RESULTS)
    returned = session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.spec_id == contract.REVIEW_RETURN_ELEMENT, HumanTask.created_at >= since,
        HumanTask.created_at < until)) or 0
    return Reviews(opinions, sum(results.values()), results, returned)


def _disclosures(session: Session, start: date, end: date) -> Disclosures:
    """Each decision of the period by its first decision record (a later correction does not
    make a late publication timely)."""
    first = (select(Disclosure.instance_id, func.min(Disclosure.id).label("first_id"))
             .where(Disclosure.kind == "decision").group_by(Disclosure.instance_id).subquery())
    q = (select(Instance.decided_on, Instance.decision_kind, Disclosure.publish, Disclosure.published_on)
         .outerjoin(first, first.c.instance_id == Instance.id)
         .outerjoin(Disclosure, Disclosure.id == first.c.first_id)
         .where(Instance.decision_kind.in_(("penalty", "no_penalty")), Instance.decided_on >= start,
                Instance.decided_on <= end))
    rules, calendar = runtime.session_rules(session), runtime.session_calendar(session)
    today = runtime.today()
    counts = defaultdict(int)
    for decided_on, kind, publish, published_on in session.execute(q):
        due = due_date(rules["publish_penalty" if kind == "penalty" else "publish_other"], decided_on, calendar)
        if publish is None:
            counts["overdue" if today > due else "pending"] += 1
        elif not publish:
            counts["withheld"] += 1
        else:
            counts["on_time" if published_on is not None and published_on <= due else "late"] += 1
    return Disclosures(**{key: counts[key] for key in ("on_time", "late", "withheld", "overdue", "pending")})


def _remedies(session: Session, start: date, end: date) -> Remedies:
    """Decisions whose published record was withdrawn or corrected in the period because 复议 or
    诉讼 revoked, changed or found them unlawful (each decision once per ground)."""
    q = (select(DisclosureEvent.ground, func.count(DisclosureEvent.disclosure_id.distinct()))
         .where(DisclosureEvent.kind.in_(("withdrawn", "corrected")), DisclosureEvent.ground.in_(REMEDY_GROUNDS),
                DisclosureEvent.effective_on >= start, DisclosureEvent.effective_on <= end)
         .group_by(DisclosureEvent.ground))
    found = dict(session.execute(q).all())
    return Remedies({ground: found.get(ground, 0) for ground in REMEDY_GROUNDS})


def _staffing(session: Session, day: date) -> Staffing:
    def holders(role: str) -> list[User]:
        q = (select(User).join(UserRole, UserRole.user_id == User.id)
             .where(UserRole.role_id == role, User.active.is_(True))
             .where((UserRole.valid_from.is_(None)) | (UserRole.valid_from <= day))
             .where((UserRole.valid_to.is_(None)) | (UserRole.valid_to >= day)))
        return list(session.scalars(q).unique())

    officers = holders("officer")
    goal = _setting(session, REVIEWER_GOAL_SETTING, None)
    return Staffing(officers=len(officers),
                    credentialed=sum(user.valid_credential(day) is not None for user in officers),
                    reviewers=len(holders("legal_reviewer")),
                    reviewer_goal=Decimal(goal) if goal else REVIEWER_GOAL_DEFAULT)


def _setting(session: Session, name: str, default: str | None) -> str | None:
    found = session.get(PolicySetting, name)
    return found.value if found is not None else default


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(ZERO)


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=TZ)


# --- storing and reading a published report ------------------------------------------------------

def to_json(report: Report) -> str:
    return json.dumps(asdict(report), ensure_ascii=False, sort_keys=True, default=_plain)


def _plain(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not stored")


def from_json(text: str) -> Report:
    d = json.loads(text)
    p = d["penalties"]
    return Report(
        year=d["year"], agency=d["agency"], start=date.fromisoformat(d["start"]), end=date.fromisoformat(d["end"]),
        penalties=Penalties([PenaltyLine(line["penalty_type"], line["label"], line["count"], Decimal(line["fines"]),
                                         Decimal(line["confiscations"])) for line in p["lines"]],
                            p["count"], Decimal(p["fines"]), Decimal(p["confiscations"]), p["with_confiscation"]),
        no_penalty=d["no_penalty"], transfers=d["transfers"], hearings=d["hearings"], discussions=d["discussions"],
        reviews=Reviews(**{**d["reviews"], "results": _ordered(d["reviews"]["results"])}),
        disclosures=Disclosures(**d["disclosures"]),
        staffing=Staffing(**{**d["staffing"], "reviewer_goal": Decimal(d["staffing"]["reviewer_goal"])}),
        remedies=Remedies({g: d["remedies"]["outcomes"].get(g, 0) for g in REMEDY_GROUNDS},
                          d["remedies"]["applications"]),
        inspections=d["inspections"],
    )


def _ordered(results: dict[str, int]) -> dict[str, int]:
    """Review results in the report's order (stored JSON sorts its keys)."""
    order = [*contract.REVIEW_RESULTS, "pending"]
    return {k: results[k] for k in order if k in results} | {k: v for k, v in results.items() if k not in order}


@dataclass(frozen=True)
class Published:
    """A report as the public sees it: the frozen figures and how they were approved."""
    report: Report
    summary: str
    case_no: str
    published_at: datetime
    revision: int  # 1 for the first publication of the year, 2 for its first correction …


def publish(session: Session, instance: Instance, data: dict[str, Any]) -> AnnualReport:
    """Freeze and store the figures of the year the approval case is about (the engine calls this
    when the case passes :data:`~workflows.core.contract.REPORT_HOOK`)."""
    year = int(data[contract.REPORT_YEAR_KEY])
    report = build(session, year)
    row = AnnualReport(year=year, instance_id=instance.id, case_no=instance.case_no, as_of=report.end,
                       content=to_json(report), summary=disclosure.redact_text(data.get("report_summary")),
                       drafted_by=data.get("report_drafted_by") or "", reviewed_by=data.get("report_reviewed_by") or "",
                       approved_by=data.get("report_approved_by") or "")
    session.add(row)
    session.flush()
    return row


def published(session: Session, year: int) -> Published | None:
    """The latest publication of ``year``'s report (None when it has not been published)."""
    rows = list(session.scalars(select(AnnualReport).where(AnnualReport.year == year)
                                .order_by(AnnualReport.published_at, AnnualReport.id)))
    if not rows:
        return None
    row = rows[-1]
    return Published(from_json(row.content), row.summary, row.case_no, row.published_at, len(rows))


def published_years(session: Session) -> list[int]:
    """Years with a published report, newest first."""
    return list(session.scalars(select(AnnualReport.year).distinct().order_by(AnnualReport.year.desc())))


# --- the approval process ------------------------------------------------------------------------

@dataclass(frozen=True)
class Approval:
    """Where the approval of a year's report stands."""
    year: int
    instance: Instance | None  # the open approval case, if there is one
    tasks: list[HumanTask] = field(default_factory=list)  # its ready tasks
    published: Published | None = None


def approval(session: Session, year: int) -> Approval:
    from workflows.domain import cases  # cases → steps → this module: the engine publishes through it

    open_case = next((instance for instance in session.scalars(
        select(Instance).where(Instance.process_id == contract.REPORT_PROCESS, Instance.status.in_(OPEN_STATES))
        .order_by(Instance.id)) if _year_of(session, instance) == year), None)
    return Approval(year, open_case, cases.ready_tasks_of(session, open_case.id) if open_case else [],
                    published(session, year))


def _year_of(session: Session, instance: Instance) -> int | None:
    value = runtime.current_data(runtime.load_workflow(session, instance)).get(contract.REPORT_YEAR_KEY)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def start_approval(session: Session, settings: Settings, actor: User, year: int):
    """Start drafting, reviewing and approving ``year``'s report (the office starts it; a year
    already published may be corrected by a new approval); returns the :class:`cases.Started`."""
    from workflows.domain import cases
    check_year(year)
    running = approval(session, year).instance
    if running is not None:
        raise Conflict(Message("%(year)s年度统计报告已在审批中（%(case_no)s）", year=year, case_no=running.case_no))
    return cases.start(session, settings, actor, contract.REPORT_PROCESS, {contract.REPORT_YEAR_KEY: year})


def default_year(session: Session) -> int:
    """The year a reader most likely wants: the one being approved, else last year in January
    (the reporting month), else this year."""
    for instance in session.scalars(select(Instance).where(Instance.process_id == contract.REPORT_PROCESS,
                                                           Instance.status.in_(OPEN_STATES))
                                    .order_by(Instance.id.desc())):
        year = _year_of(session, instance)
        if year is not None:
            return year
    today = runtime.today()
    return today.year - 1 if today.month == 1 else today.year


def live(session: Session, user: User, year: int) -> Report:
    """The live figures, for staff who may read them."""
    access.check_read_report(user)
    return build(session, year)


@dataclass(frozen=True)
class StaffView:
    """What the staff page of a year shows a reader: the live figures and the approval's state."""
    report: Report
    approval: Approval
    my_task: HumanTask | None  # the approval's ready task the reader may do
    may_start: bool  # no approval open and the reader may start one (the office)
    may_read_case: bool  # the reader may open the approval case


def for_staff(session: Session, user: User, year: int) -> StaffView:
    from workflows.domain import cases

    report = live(session, user, year)
    state = approval(session, year)
    return StaffView(
        report, state, next((row for row in state.tasks if access.may_act(user, row)), None),
        may_start=state.instance is None and cases.may_start(session, user, contract.REPORT_PROCESS),
        may_read_case=state.instance is not None and access.may_read_case(session, user, state.instance))


# --- the report as tables and charts -------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    label: str  # a Message, or a label from the models
    values: list[Any]  # int, Decimal, a Message (a state such as "not recorded"), or None


@dataclass(frozen=True)
class Section:
    key: str
    title: Message
    columns: list[Message]
    rows: list[Row]
    note: Message | None = None


STATE_TEXT = {NOT_RECORDED: Message("未记录"), NOT_APPLICABLE: Message("不适用")}
REMEDY_LABELS = {
    "review_revoked": Message("经行政复议被撤销"), "review_changed": Message("经行政复议被变更"),
    "review_unlawful": Message("经行政复议被确认违法或无效"), "litigation_revoked": Message("经行政诉讼被撤销"),
    "litigation_changed": Message("经行政诉讼被变更"), "litigation_unlawful": Message("经行政诉讼被确认违法或无效"),
}
RESULT_LABELS = {"agree": Message("审核通过"), "agree_after_coordination": Message("协调后通过"),
                 "rejected": Message("未通过"), "pending": Message("审核中")}


def sections(report: Report) -> list[Section]:
    """The report as its tables, in the order it is published (CSV, PDF and pages alike)."""
    p, r, d, s = report.penalties, report.reviews, report.disclosures, report.staffing
    count, value = [Message("件数")], [Message("数值")]
    return [
        Section("decisions", Message("执法决定"), count, [
            Row(Message("行政处罚决定"), [p.count]),
            Row(Message("不予行政处罚决定"), [report.no_penalty]),
            Row(Message("移送司法机关"), [report.transfers]),
        ]),
        Section("penalties", Message("行政处罚种类与罚没金额"),
                [Message("件数"), Message("罚款（元）"), Message("没收违法所得、非法财物（元）")],
                [Row(line.label, [line.count, line.fines, line.confiscations]) for line in p.lines]
                + [Row(Message("合计"), [p.count, p.fines, p.confiscations]),
                   Row(Message("其中含没收的处罚决定"), [p.with_confiscation, None, None])]),
        Section("procedure", Message("听证、法制审核和集体讨论"), count, [
            Row(Message("举行听证"), [report.hearings]),
            Row(Message("法制审核意见"), [r.opinions]),
            Row(Message("退回补正"), [r.returned]),
            Row(Message("集体讨论"), [report.discussions]),
        ]),
        Section("reviews", Message("法制审核结果（按案件）"), count,
                [Row(RESULT_LABELS.get(key, key), [n]) for key, n in r.results.items()]),
        Section("disclosure", Message("行政执法决定事后公开"), value, [
            Row(Message("按时公开（件）"), [d.on_time]),
            Row(Message("逾期公开（件）"), [d.late]),
            Row(Message("依法不予公开（件）"), [d.withheld]),
            Row(Message("逾期未公开（件）"), [d.overdue]),
            Row(Message("尚在公开期限内（件）"), [d.pending]),
            Row(Message("按时公开率（%）"), [d.timely_rate]),
        ], Message("行政处罚决定7个工作日内、其他执法决定20个工作日内公开（国办发〔2018〕118号）。")),
        Section("staffing", Message("执法人员与法制审核人员"), value, [
            Row(Message("执法人员（人）"), [s.officers]),
            Row(Message("持有效执法证（人）"), [s.credentialed]),
            Row(Message("持证率（%）"), [s.credential_rate]),
            Row(Message("法制审核人员（人）"), [s.reviewers]),
            Row(Message("法制审核人员占执法人员比例（%）"), [s.reviewer_share]),
            Row(Message("比例目标（%，不低于）"), [s.goal_percent]),
        ], Message("法制审核人员原则上不少于本单位执法人员总数的5%（国办发〔2018〕118号）。")),
        Section("remedies", Message("行政复议和行政诉讼"), [Message("件数")], [
            Row(Message("行政复议申请"), [STATE_TEXT[report.remedies.applications]]),
            *(Row(REMEDY_LABELS[g], [report.remedies.outcomes[g]]) for g in REMEDY_GROUNDS[:3]),
            Row(Message("行政诉讼案件"), [STATE_TEXT[report.remedies.applications]]),
            *(Row(REMEDY_LABELS[g], [report.remedies.outcomes[g]]) for g in REMEDY_GROUNDS[3:]),
        ], Message("本系统未记录行政复议、行政诉讼的申请和维持原决定的结果；被撤销、变更或确认违法、无效的决定，"
                   "按其公开信息的撤回、更正记录统计。")),
        Section("inspections", Message("行政检查"), [Message("情况")], [
            Row(Message("行政检查（含随机抽查）"), [STATE_TEXT[report.inspections]]),
        ], Message("本系统尚无行政检查流程。")),
    ]


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float]


@dataclass(frozen=True)
class Chart:
    key: str
    title: Message
    kind: str  # bar | bar-horizontal | doughnut (as the dashboard's script draws them)
    labels: list[str]
    series: list[Series]


def charts(report: Report) -> list[Chart]:
    """The report's charts; each has its table in :func:`sections`."""
    p, r, d, s = report.penalties, report.reviews, report.disclosures, report.staffing
    return [
        Chart("decisions", Message("执法决定"), "bar",
              [Message("行政处罚决定"), Message("不予行政处罚决定"), Message("移送司法机关")],
              [Series(Message("件数"), [p.count, report.no_penalty, report.transfers])]),
        Chart("penalties", Message("行政处罚种类与罚没金额"), "bar", [line.label for line in p.lines], [
            Series(Message("件数"), [line.count for line in p.lines]),
            Series(Message("罚款（元）"), [float(line.fines) for line in p.lines]),
            Series(Message("没收违法所得、非法财物（元）"), [float(line.confiscations) for line in p.lines])]),
        Chart("reviews", Message("法制审核结果（按案件）"), "doughnut", [RESULT_LABELS.get(k, k) for k in r.results],
              [Series(Message("件数"), list(r.results.values()))]),
        Chart("disclosure", Message("行政执法决定事后公开"), "doughnut",
              [Message("按时公开"), Message("逾期公开"), Message("依法不予公开"), Message("逾期未公开"),
               Message("尚在公开期限内")],
              [Series(Message("件数"), [d.on_time, d.late, d.withheld, d.overdue, d.pending])]),
        Chart("staffing", Message("执法人员与法制审核人员"), "bar-horizontal",
              [Message("执法人员（人）"), Message("持有效执法证（人）"), Message("法制审核人员（人）")],
              [Series(Message("人数"), [s.officers, s.credentialed, s.reviewers])]),
    ]


def to_csv(report: Report) -> str:
    """The report's tables as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the
    Chinese): one line per figure, ``section, item, measure, value``."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["年度", "栏目", "项目", "指标", "数值"])
    for section in sections(report):
        for row in section.rows:
            for column, value in zip(section.columns, row.values):
                if value is not None or section.key != "penalties":
                    writer.writerow([report.year, section.title, row.label, column, _cell(value)])
    writer.writerow([report.year, "统计口径", "统计期间", "", f"{report.start.isoformat()}至{report.end.isoformat()}"])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return str(value)
