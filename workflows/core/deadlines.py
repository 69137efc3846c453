"""Legal deadlines as settings: defaults here, values an administrator may change."""

from __future__ import annotations

import calendar as _gregorian
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal, get_args

from workflows.core.workdays import TZ, WorkCalendar, to_local_date

Unit = Literal["working_days", "days", "years"]

END_OF_DAY = time(23, 59, 59)


@dataclass(frozen=True)
class DeadlineRule:
    """A time limit: `amount` units counted from the day after the start day."""

    name: str
    amount: int
    unit: Unit
    label_zh: str
    basis: str

    def __post_init__(self) -> None:
        if self.unit not in get_args(Unit):
            raise ValueError(f"deadline {self.name}: unknown unit {self.unit!r}")
        if self.amount < 0:
            raise ValueError(f"deadline {self.name}: amount must be >= 0, got {self.amount}")


def _rules(*rules: DeadlineRule) -> dict[str, DeadlineRule]:
    return {rule.name: rule for rule in rules}


# APL Art. 85: periods of 2/3/5/7 "days" are working days; 行政强制法 Art. 69 likewise for <= 10.
DEFAULT_DEADLINES: dict[str, DeadlineRule] = _rules(
    DeadlineRule("preservation_decision", 7, "working_days", "先行登记保存处理决定", "行政处罚法第56条"),
    DeadlineRule("statement_defence", 5, "working_days", "陈述申辩期限", "民政部令第68号第23条"),
    DeadlineRule("hearing_request", 5, "working_days", "听证申请期限", "行政处罚法第64条"),
    DeadlineRule("hearing_notice", 7, "working_days", "听证通知提前期", "行政处罚法第64条、第85条"),
    DeadlineRule("case_decision", 90, "days", "案件办理期限", "行政处罚法第60条"),
    DeadlineRule("case_decision_extension", 30, "days", "案件办理延长期限", "民政部令第68号第31条"),
    DeadlineRule("service", 7, "working_days", "决定书送达期限", "行政处罚法第61条"),
    # deemed served 30 days after the notice (民事诉讼法 Art. 95 as revised in 2021; it was 60)
    DeadlineRule("public_notice_service", 30, "days", "公告送达视为送达期限", "行政处罚法第61条、民事诉讼法第95条"),
    DeadlineRule("publish_penalty", 7, "working_days", "行政处罚决定公示期限", "国办发〔2018〕118号"),
    DeadlineRule("publish_other", 20, "working_days", "执法决定公示期限", "国办发〔2018〕118号"),
    DeadlineRule("withdraw_disclosure", 3, "working_days", "撤回公示期限", "行政处罚法第48条"),
    DeadlineRule("payment", 15, "days", "罚款缴纳期限", "行政处罚法第67条"),
    DeadlineRule("court_enforcement_wait", 10, "working_days", "催告后申请强制执行等待期", "行政强制法第54条"),
    DeadlineRule("legal_review", 5, "working_days", "法制审核期限", "内蒙古自治区实施办法"),
    DeadlineRule("legal_review_extension", 5, "working_days", "法制审核延长期限", "内蒙古自治区实施办法"),
    # "within 24 hours": a period of hours, which 民法典 Art. 203 does not extend
    DeadlineRule("av_upload", 1, "days", "音像记录上传期限", "内蒙古自治区实施办法第20条"),
    DeadlineRule("matter_review", 1, "years", "执法事项清单复核周期", "国办发〔2018〕118号"),
    # counted from 31 December of the report's year: published by 31 January (118 §6)
    DeadlineRule("annual_report", 31, "days", "年度执法统计报告公开期限", "国办发〔2018〕118号"),
    DeadlineRule("limitation_general", 2, "years", "行政处罚追责时效", "行政处罚法第36条"),
    DeadlineRule("limitation_serious", 5, "years", "涉及生命健康安全、金融安全的追责时效", "行政处罚法第36条"),
    # Warning windows (预警): not legal limits, the bureau's own supervision rule.
    DeadlineRule("warning_task", 2, "working_days", "任务到期黄牌预警提前量", "本机关执法监督规定"),
    DeadlineRule("warning_case", 10, "working_days", "办案期限黄牌预警提前量", "本机关执法监督规定"),
    DeadlineRule("warning_credential", 60, "days", "执法证件到期提醒提前量", "本机关执法证件管理规定"),
    DeadlineRule("warning_annual_report", 20, "days", "年度统计报告催报提醒（自报告年度12月31日起）", "本机关执法监督规定"),
)

# Not periods of days or years, so their last day is not moved off a holiday (民法典 Art. 203): the
# 24 hours of av_upload, the fixed date of annual_report ("每年1月31日前", counted here from
# 31 December), and the bureau's reminders, which are no legal periods.
NOT_EXTENDED: frozenset[str] = frozenset({"av_upload", "annual_report", "warning_task", "warning_case",
                                          "warning_credential", "warning_annual_report"})


def parse_start(start: date | datetime | str) -> date:
    """Return the Asia/Shanghai day a period starts from; naive datetimes are refused."""
    if isinstance(start, str):
        try:
            return date.fromisoformat(start)
        except ValueError:
            pass
        try:
            start = datetime.fromisoformat(start)
        except ValueError:
            raise ValueError(f"{start!r} is not an ISO 8601 date or datetime") from None
    return to_local_date(start)


def _add_years(d: date, years: int) -> date:
    """Same month and day `years` later; a missing 29 February becomes the month's last day."""
    year = d.year + years
    return d.replace(year=year, day=min(d.day, _gregorian.monthrange(year, d.month)[1]))


def due_date(rule: DeadlineRule, start: date | datetime | str, calendar: WorkCalendar) -> date:
    """Return the last day of the period that starts on `start`.

    A period of days or years whose last day is a statutory holiday or rest day ends on the next
    working day (民法典 Art. 203), except the rules in `NOT_EXTENDED`; working days already skip them
    (APL Art. 85).
    """
    day = parse_start(start)
    if rule.unit == "working_days":
        return calendar.add_working_days(day, rule.amount)
    if rule.unit == "days":
        end = day + timedelta(days=rule.amount)
    else:
        end = _add_years(day, rule.amount)
    if rule.name in NOT_EXTENDED:
        return end
    while not calendar.is_working_day(end):
        end += timedelta(days=1)
    return end


def compute_deadline(rule: DeadlineRule, start: date | datetime | str, calendar: WorkCalendar) -> datetime:
    """Return the due moment: the end (23:59:59) of the last day, aware, in Asia/Shanghai."""
    return datetime.combine(due_date(rule, start, calendar), END_OF_DAY, tzinfo=TZ)
