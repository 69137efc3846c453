"""The settings a jurisdiction changes: legal deadlines and policy values (thresholds, rates, names,
numbering patterns), each with its legal basis and a history of who changed what, when and why.

A change applies to computations from then on: a timer already scheduled keeps its moment. The
diagrams read deadlines through ``deadline()`` and policy values through ``setting()``.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import get_args

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.core.deadlines import Unit
from workflows.core.errors import FormInvalid, NotFound
from workflows.core.messages import Message
from workflows.core.models import DeadlineSetting, Instance, PolicySetting, SettingChange, User
from workflows.core.settings import Settings
from workflows.domain import access, audit
from workflows.domain.people import actor_name
from workflows.engine import specs

MAX_AMOUNT = {"working_days": 365, "days": 3650, "years": 30}
KINDS = ("amount", "rate", "text", "pattern")


@dataclass(frozen=True)
class PolicyDefault:
    name: str
    value: str
    kind: str
    label_zh: str
    basis: str


def policy_defaults(settings: Settings) -> list[PolicyDefault]:
    """The policy settings and their first values (the environment's, for names and patterns)."""
    return [
        PolicyDefault("agency_name", settings.agency_name, "text", "执法主体名称", "机构编制文件"),
        PolicyDefault("agency_address", "新市区北京南路100号", "text", "执法主体地址", "机构编制文件"),
        # what the portal's 事前公开 publishes about the body and the remedies (国办发〔2018〕118号)
        PolicyDefault("agency_phone", "0991-3880000", "text", "执法主体联系电话", "本机关政务公开目录"),
        PolicyDefault("agency_office_hours", "工作日 9:30—13:30，15:30—19:30（法定节假日除外）", "text",
                      "执法主体办公时间", "本机关政务公开目录"),
        PolicyDefault("agency_duties", "依法对本行政区域内的社会组织、养老机构、殡葬服务和地名管理等民政事务实施监督管理，"
                      "对违反民政法律、法规、规章的行为实施行政检查、行政强制和行政处罚。", "text",
                      "执法主体职责", "本机关“三定”规定；权责清单"),
        PolicyDefault("reconsideration_body", "新市区人民政府", "text", "行政复议机关", "行政复议法第24条"),
        PolicyDefault("reconsideration_address", "新市区北京南路1号（区行政复议服务窗口）", "text", "行政复议机关地址",
                      "行政复议法第24条"),
        PolicyDefault("reconsideration_days", "60", "amount", "申请行政复议期限（日，自知道或者应当知道行政行为之日起）",
                      "行政复议法第20条"),
        PolicyDefault("litigation_court", "新市区人民法院", "text", "行政诉讼管辖法院", "行政诉讼法第14条、第18条"),
        PolicyDefault("litigation_address", "新市区长春中路2号", "text", "行政诉讼管辖法院地址", "行政诉讼法第18条"),
        PolicyDefault("litigation_months", "6", "amount", "提起行政诉讼期限（月，自知道或者应当知道作出行政行为之日起）",
                      "行政诉讼法第46条"),
        PolicyDefault("case_number_pattern", settings.case_number_pattern, "pattern", "案件编号格式",
                      "本机关文书编号规则"),
        PolicyDefault("matter_number_pattern", settings.matter_number_pattern, "pattern", "事前公开编号格式",
                      "本机关文书编号规则"),
        PolicyDefault("correction_number_pattern", "新民公更〔{year}〕{seq:04d}号", "pattern",
                      "公开信息撤回、更正编号格式", "本机关文书编号规则"),
        # How long a published decision stays on the portal (公示期, months from the decision date), by
        # the class of its information (workflows.domain.disclosure.retention_class); after the minimum
        # the party may have it taken down early on credit repair (信用修复).
        PolicyDefault("disclosure_keep_minor", "3", "amount", "轻微失信行政处罚信息（仅警告、通报批评）公示期（月）",
                      "《信用修复管理办法》（国家发展改革委，2026年4月1日起施行）：轻微失信信息确需公示的，公示期最长不超过3个月"),
        PolicyDefault("disclosure_min_minor", "0", "amount", "轻微失信行政处罚信息最短公示期（月）",
                      "《信用修复管理办法》：法定责任履行完毕即可申请信用修复"),
        PolicyDefault("disclosure_keep_general", "12", "amount", "一般失信行政处罚信息最长公示期（月）",
                      "《信用修复管理办法》：一般失信信息最短公示期3个月，最长1年"),
        PolicyDefault("disclosure_min_general", "3", "amount", "一般失信行政处罚信息最短公示期（月）",
                      "《信用修复管理办法》：一般失信信息最短公示期3个月，最长1年"),
        PolicyDefault("disclosure_keep_serious", "36", "amount", "严重失信行政处罚信息最长公示期（月）",
                      "《信用修复管理办法》：严重失信信息最短公示期1年，最长3年"),
        PolicyDefault("disclosure_min_serious", "12", "amount", "严重失信行政处罚信息最短公示期（月）",
                      "《信用修复管理办法》：严重失信信息最短公示期1年，最长3年"),
        PolicyDefault("disclosure_keep_other", "60", "amount", "其他行政执法决定公开期限（月）",
                      "本机关行政执法公示办法：执法结果信息在互联网上公开满5年撤下"),
        PolicyDefault("disclosure_keep_person", "24", "amount", "当事人为自然人的执法决定公开期限上限（月）",
                      "本机关行政执法公示办法：行政相对人是自然人的，公开满2年撤下"),
        PolicyDefault("hearing_fine_person", "10000", "amount", "听证较大数额（自然人，元）",
                      "行政处罚法第63条；本省规定"),
        PolicyDefault("hearing_fine_organisation", "100000", "amount", "听证较大数额（法人或其他组织，元）",
                      "行政处罚法第63条；本省规定"),
        PolicyDefault("major_fine", "50000", "amount", "重大执法决定罚没金额标准（元）", "重大执法决定法制审核目录清单"),
        PolicyDefault("surcharge_rate", "0.03", "rate", "加处罚款日比例", "行政处罚法第72条"),
        PolicyDefault("reviewer_share_goal", "0.05", "rate", "法制审核人员占执法人员比例目标（不低于）",
                      "国办发〔2018〕118号"),
    ]


def ensure_policies(session: Session, settings: Settings) -> None:
    """Add the policy settings that are missing (bootstrap; idempotent)."""
    existing = set(session.scalars(select(PolicySetting.name)))
    for d in policy_defaults(settings):
        if d.name not in existing:
            session.add(PolicySetting(name=d.name, value=d.value, kind=d.kind, label_zh=d.label_zh, basis=d.basis))
    session.flush()


def number_pattern(session: Session, settings: Settings, series: str) -> str:
    """The numbering pattern of a series (:func:`workflows.core.contract.number_series`)."""
    found = session.get(PolicySetting, f"{series}_number_pattern")
    return found.value if found is not None else settings.number_pattern(series)


def agency_name(session: Session, settings: Settings) -> str:
    found = session.get(PolicySetting, "agency_name")
    return found.value if found is not None else settings.agency_name


def value(session: Session, name: str) -> str:
    found = session.get(PolicySetting, name)
    if found is None:
        raise NotFound(f"setting {name!r} does not exist")
    return found.value


def deadlines(session: Session) -> list[DeadlineSetting]:
    return list(session.scalars(select(DeadlineSetting).order_by(DeadlineSetting.name)))


def policies(session: Session) -> list[PolicySetting]:
    return list(session.scalars(select(PolicySetting).order_by(PolicySetting.name)))


def change_deadline(session: Session, actor: User | str, name: str, amount: int | str, unit: str, basis: str,
                    note: str) -> DeadlineSetting:
    access.check_administer(actor)
    row = session.get(DeadlineSetting, name)
    if row is None:
        raise NotFound(f"deadline {name!r} does not exist")
    errors = {}
    try:
        amount = int(str(amount).strip())
    except ValueError:
        errors["amount"] = [Message("期限须为整数")]
    if unit not in get_args(Unit):
        errors["unit"] = [Message("请选择计算单位")]
    elif "amount" not in errors and not 0 <= amount <= MAX_AMOUNT[unit]:
        errors["amount"] = [Message("期限须在0至%(max)s之间", max=MAX_AMOUNT[unit])]
    if not (basis or "").strip():
        errors["basis"] = [Message("请填写法律依据")]
    if not (note or "").strip():
        errors["note"] = [Message("请说明修改原因")]
    if errors:
        raise FormInvalid(errors)
    old = f"{row.amount} {row.unit} · {row.basis}"
    row.amount, row.unit, row.basis = amount, unit, basis.strip()
    _changed(session, actor, f"deadline:{name}", old, f"{amount} {unit} · {row.basis}", note)
    return row


def change_policy(session: Session, actor: User | str, name: str, new: str, basis: str, note: str) -> PolicySetting:
    access.check_administer(actor)
    row = session.get(PolicySetting, name)
    if row is None:
        raise NotFound(f"setting {name!r} does not exist")
    new, errors = (new or "").strip(), {}
    problem = _check_value(row.kind, new)
    if problem:
        errors["value"] = [problem]
    if not (basis or "").strip():
        errors["basis"] = [Message("请填写依据")]
    if not (note or "").strip():
        errors["note"] = [Message("请说明修改原因")]
    if errors:
        raise FormInvalid(errors)
    old = f"{row.value} · {row.basis}"
    row.value, row.basis = new, basis.strip()
    _changed(session, actor, f"policy:{name}", old, f"{new} · {row.basis}", note)
    return row


def _check_value(kind: str, new: str) -> Message | None:
    if not new:
        return Message("请填写取值")
    if kind in ("amount", "rate"):
        try:
            number = Decimal(new)
        except InvalidOperation:
            return Message("请填写数字")
        if not number.is_finite() or number < 0 or (kind == "rate" and number > 1):
            return Message("取值超出范围")
    if kind == "pattern":
        try:
            sample = new.format(year=2026, seq=1)
        except (KeyError, IndexError, ValueError):
            return Message("编号格式只能使用 {year} 和 {seq}，例如 新民罚〔{year}〕{seq:04d}号")
        if "{seq" not in new or sample == new.format(year=2026, seq=2):
            return Message("编号格式必须包含 {seq}，否则编号会重复")
    return None


def _changed(session: Session, actor: User | str, key: str, old: str, new: str, note: str) -> None:
    session.add(SettingChange(name=key, old=old, new=new, note=note.strip(), changed_by=actor_name(actor)))
    session.flush()
    audit.record(session, actor_name(actor), "setting.change", setting=key, old=old, new=new, note=note.strip())


def history(session: Session, key: str) -> list[SettingChange]:
    """The changes of ``deadline:<name>`` or ``policy:<name>``, newest first."""
    return list(session.scalars(select(SettingChange).where(SettingChange.name == key)
                                .order_by(SettingChange.changed_at.desc(), SettingChange.id.desc())))


@dataclass(frozen=True)
class Affected:
    process_id: str
    version: int
    open_cases: int


def affected(session: Session, name: str) -> list[Affected]:
    """The open cases whose models read the deadline or setting ``name`` (they use the new value from
    their next computation on)."""
    rows = session.execute(select(Instance.process_id, Instance.model_version, func.count())
                           .where(Instance.status.in_(("running", "suspended", "error")))
                           .group_by(Instance.process_id, Instance.model_version))
    found = []
    for process_id, version, count in rows:
        texts = specs.files_of(session, version).values()
        if any(f"'{name}'".encode() in text or f'"{name}"'.encode() in text for text in texts):
            found.append(Affected(process_id, version, count))
    return found

