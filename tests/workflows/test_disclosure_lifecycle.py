"""The life of a published decision: retention by class with its settings, the portal's search and
permalinks, withdrawal and correction applied, take-down on credit repair, the feeds and their
validators, the staff register and the warnings of what is due; the migration of earlier records."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import select, text

from tests.conftest import bpmn
from workflows.core import clock
from workflows.core.db import get_engine
from workflows.core.errors import Conflict, FormInvalid, NotAllowed
from workflows.core.models import AuditEvent, Disclosure, DisclosureTerm
from workflows.core.schema import alembic_config
from workflows.core.workdays import TZ
from workflows.design import deployment
from workflows.domain import alerts, audit, cases, disclosure, disclosure_register, policy, publication
from workflows.domain.people import get_user

PERSON = {"party_type": "natural_person", "party_name": "李小明", "party_id_number": "110105199003071239",
          "party_phone": "13912345678", "party_address": "新市区幸福路8号3单元"}
ORGANISATION = {"party_type": "organisation", "party_name": "新市区夕阳红养老服务协会",
                "party_id_number": "51650100MJ0000000D", "party_phone": "0991-4567890",
                "party_address": "新市区北京路100号"}
TODAY = date(2026, 11, 2)  # the frozen clock's Monday


@pytest.fixture
def decide(db, settings):
    """Write the record of a decision of a case started with the party's data (as the hook would)."""
    deployment.deploy(db, {"approval.bpmn": bpmn("approval.bpmn")}, "designer")

    def write(party=ORGANISATION, publish=True, **data):
        instance = cases.start(db, settings, get_user(db, "zhang"), "approval", dict(party)).instance
        values = {**party, "matter_code": "MZ-CF-0001", "decision_kind": "penalty", "penalty_type": "warning",
                  "decision_date": TODAY, "decision_doc_no": f"新民罚决〔2026〕{instance.id}号",
                  "disclosure_facts": f"当事人{party['party_name']}出借登记证书。", "disclosure_basis": "第三十条",
                  "disclosure_decision_text": "给予警告。", "publish": publish, "agency_name": "新市区民政局",
                  "last_actor": "zhang", **data}
        return disclosure.write(db, instance, "enforcement_case", values)
    return write


def at(clock, day: date, hour: int = 9) -> None:
    clock.set(datetime(day.year, day.month, day.day, hour, tzinfo=TZ))


# --- retention --------------------------------------------------------------------------------

@pytest.mark.parametrize("data, cls, repair, until", [
    ({"penalty_type": "warning"}, "minor", TODAY, date(2027, 2, 2)),
    ({"penalty_type": "fine", "fine_amount": "3000"}, "general", date(2027, 2, 2), date(2027, 11, 2)),
    ({"penalty_type": "fine", "fine_amount": "100000"}, "serious", date(2027, 11, 2), date(2029, 11, 2)),
    ({"penalty_type": "confiscation", "confiscation_amount": "8000"}, "general", date(2027, 2, 2), date(2027, 11, 2)),
    ({"penalty_type": "revoke_registration"}, "serious", date(2027, 11, 2), date(2029, 11, 2)),
    ({"decision_kind": "no_penalty", "penalty_type": None}, "other", None, date(2031, 11, 2)),
])
def test_retention_by_the_class_of_the_information(db, data, cls, repair, until):
    kept = disclosure.retention(db, ORGANISATION | {"decision_kind": "penalty"} | data, TODAY)
    assert (kept.cls, kept.repair_from, kept.retain_until) == (cls, repair, until)


def test_a_natural_persons_record_is_kept_two_years_at_most_and_fines_are_larger_for_them(db):
    person = PERSON | {"decision_kind": "penalty"}
    assert disclosure.retention(db, person | {"penalty_type": "revoke_licence"}, TODAY).retain_until == date(2028, 11, 2)
    assert disclosure.retention(db, person | {"penalty_type": "fine", "fine_amount": "10000"}, TODAY).cls == "serious"
    assert disclosure.retention(db, person | {"penalty_type": "fine", "fine_amount": "9999"}, TODAY).cls == "general"


def test_retention_settings_change_the_records_written_after(db, decide):
    first = decide()
    policy.change_policy(db, get_user(db, "admin"), "disclosure_keep_minor", "6", "本省实施细则", "按本省规定延长")
    second = decide()
    assert (first.retain_until, second.retain_until) == (date(2027, 2, 2), date(2027, 5, 2))
    assert disclosure.add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)


# --- writing ----------------------------------------------------------------------------------

def test_a_published_decision_gets_its_limit_class_search_pieces_and_event(db, decide):
    record = decide(decision_date=date(2026, 10, 30))
    assert (record.status, record.decision_date, record.published_on) == ("published", date(2026, 10, 30), TODAY)
    assert record.due_on == date(2026, 11, 10)  # 7 working days
    assert (record.decision_type, record.party, record.matter_code) == ("warning", ORGANISATION["party_name"], "MZ-CF-0001")
    content = json.loads(record.content)
    assert content["party_code"] == "51650100MJ0000000D" and "北京路" not in record.content
    pieces = set(db.scalars(select(DisclosureTerm.term).where(DisclosureTerm.disclosure_id == record.id)))
    assert {"夕阳", "阳红", "#51650100mj0000000d"} <= pieces
    [event] = disclosure.events_of(db, record.id)
    assert (event.kind, event.actor, event.effective_on) == ("published", "zhang", TODAY)
    other = decide(decision_kind="no_penalty", penalty_type=None)
    assert (other.decision_type, other.due_on) == ("no_penalty", date(2026, 11, 30))  # 20 working days


def test_a_withheld_decision_is_no_public_record(db, decide):
    record = decide(publish=False, not_published_reason="minors")
    assert (record.status, record.retain_until) == ("withheld", None)
    assert disclosure.events_of(db, record.id) == [] and publication.record(db, record.id) is None
    assert publication.search(db, publication.Filters()).entries == []


def test_a_natural_person_is_never_named_and_never_found_by_name(db, decide):
    record = decide(PERSON)
    assert record.party == "李某" and json.loads(record.content)["party_code"] is None
    assert [e.id for e in publication.search(db, publication.Filters(party="李某")).entries] == [record.id]
    assert publication.search(db, publication.Filters(party="李小明")).entries == []
    assert publication.search(db, publication.Filters(party="110105199003071239")).entries == []


# --- the portal's search and permalinks -------------------------------------------------------

def test_search_by_party_code_matter_type_and_date(db, decide):
    sunset = decide()
    youth = decide(ORGANISATION | {"party_name": "新市区青年创业促进会", "party_id_number": "51650100MJ0000001G"},
                   matter_code="MZ-CF-0002", penalty_type="fine", fine_amount="3000", decision_date=date(2026, 10, 20))

    def found(**filters):
        listing = publication.search(db, publication.Filters(**filters))
        return [e.id for e in listing.entries]

    assert found() == [sunset.id, youth.id]  # newest decision first
    assert found(party="夕阳红") == [sunset.id] and found(party="创业 促进") == [youth.id]
    assert found(party="51650100mj0000001g") == [youth.id] and found(party="新市区") == [sunset.id, youth.id]
    assert found(party="夕阳红创业") == [] and found(party="不存在的协会") == []
    assert found(matter="MZ-CF-0002") == [youth.id] and found(type="warning") == [sunset.id]
    assert found(since=date(2026, 10, 21)) == [sunset.id] and found(until=date(2026, 10, 21)) == [youth.id]
    assert publication.search(db, publication.Filters(party="夕")).problem == "short"


def test_pages_know_only_whether_another_follows(db, decide):
    ids = [decide(decision_date=TODAY - timedelta(days=i)).id for i in range(5)]
    first = publication.search(db, publication.Filters(), page=1, per_page=2)
    last = publication.search(db, publication.Filters(), page=3, per_page=2)
    assert ([e.id for e in first.entries], first.has_next) == (ids[:2], True)
    assert ([e.id for e in last.entries], last.has_next) == (ids[4:], False)


def test_a_record_leaves_the_portal_when_its_retention_ends(db, decide, frozen_clock):
    record = decide()  # a warning: until 2 February 2027
    at(frozen_clock, date(2027, 2, 2))
    assert publication.record(db, record.id).state == "public"
    at(frozen_clock, date(2027, 2, 3))
    gone = publication.record(db, record.id)
    assert (gone.state, gone.entry, gone.ended_on) == ("expired", None, date(2027, 2, 3))
    assert publication.search(db, publication.Filters(party="夕阳红")).entries == []
    [item] = publication.feed(db)  # its publication left the feed with its content
    assert (item.kind, item.entry, item.at.date()) == ("expired", None, date(2027, 2, 3))
    assert publication.sitemap(db) == []


# --- withdrawal, correction, credit repair ----------------------------------------------------

def test_withdrawal_and_correction_as_the_correction_case_applies_them(db, decide):
    withdrawn, corrected = decide(PERSON), decide()
    case = db.get(Disclosure, withdrawn.id).instance_id
    change = {"change_ground": "litigation_revoked", "last_actor": "wu",
              "change_reason": "经新市区人民法院判决撤销，当事人李小明已知悉。"}
    disclosure.apply_change(db, cases.get(db, case), {**change, "change_kind": "withdraw",
                                                       "target_disclosure_id": withdrawn.id})
    disclosure.apply_change(db, cases.get(db, case), {**change, "change_kind": "correct", "change_ground": "content_error",
                                                       "corrected_decision_text": "给予警告，责令改正。",
                                                       "target_disclosure_id": corrected.id})
    page = publication.record(db, withdrawn.id)
    assert (page.state, page.entry, page.ended_on, page.ground) == ("withdrawn", None, TODAY, "litigation_revoked")
    assert page.reason == "经新市区人民法院判决撤销，当事人李某已知悉。"
    shown = publication.record(db, corrected.id)
    assert shown.state == "public" and shown.entry.content["decision"] == "给予警告，责令改正。"
    assert shown.entry.corrected_on == TODAY and [h.kind for h in shown.history] == ["published", "corrected"]
    assert [i.kind for i in publication.feed(db)] == ["corrected", "withdrawn", "published"]
    assert {i.kind: i.entry is None for i in publication.feed(db)} == {"corrected": False, "withdrawn": True,
                                                                       "published": False}
    # applying again changes nothing: a withdrawn record is left as it is
    disclosure.apply_change(db, cases.get(db, case), {**change, "change_kind": "correct", "corrected_facts": "x",
                                                       "target_disclosure_id": withdrawn.id})
    assert db.get(Disclosure, withdrawn.id).content == withdrawn.content
    assert "disclosure.change_skipped" in [e.action for e in db.scalars(select(AuditEvent))]


def test_credit_repair_takes_a_record_down_after_its_minimum_period(db, decide, frozen_clock):
    general = decide(penalty_type="fine", fine_amount="3000")  # minimum 3 months: 2 February 2027
    other = decide(decision_kind="no_penalty", penalty_type=None)
    head, args = get_user(db, "wang"), ("2026-11-01", "当事人已缴纳罚款并完成整改，申请信用修复。", True)
    for who in ("zhang", "qian", "feng"):  # an officer, another unit's head, a manager
        with pytest.raises(NotAllowed):
            disclosure_register.remove_on_repair(db, get_user(db, who), general.id, *args)
    with pytest.raises(Conflict, match="2027-02-02"):
        disclosure_register.remove_on_repair(db, head, general.id, *args)
    with pytest.raises(Conflict, match="不属于失信信息"):
        disclosure_register.remove_on_repair(db, head, other.id, *args)
    with pytest.raises(FormInvalid) as refused:
        disclosure_register.remove_on_repair(db, head, general.id, "", " ", False)
    assert set(refused.value.errors) == {"applied_on", "reason", "obligations_met"}

    at(frozen_clock, date(2027, 2, 2))
    disclosure_register.remove_on_repair(db, get_user(db, "wu"), general.id, "2027-01-20",
                                         "当事人李小明（13912345678）已履行完毕。", True)
    record = db.get(Disclosure, general.id)
    assert (record.status, record.removed_on) == ("removed", date(2027, 2, 2)) and "13912345678" not in record.removed_reason
    page = publication.record(db, general.id)
    assert (page.state, page.entry, page.ended_on) == ("removed", None, date(2027, 2, 2))
    [event] = [e for e in audit.events_of(db, record.instance_id) if e.action == "disclosure.remove"]
    assert event.actor == "wu" and json.loads(event.payload)["applied_on"] == "2027-01-20"
    assert publication.feed(db)[0].kind == "removed"
    with pytest.raises(Conflict):
        disclosure_register.remove_on_repair(db, head, general.id, *args)


# --- feeds and validators ---------------------------------------------------------------------

def test_the_validator_changes_with_every_public_change_and_nothing_else(db, decide, frozen_clock):
    empty = publication.validator(db)
    record = decide()
    published = publication.validator(db)
    assert published.token != empty.token and published.last_modified == clock.now()
    assert publication.validator(db) == published
    decide(publish=False)
    assert publication.validator(db) == published  # a withheld record changes nothing public
    at(frozen_clock, date(2027, 2, 3))  # the warning's retention ended
    ended = publication.validator(db)
    assert ended.token != published.token and ended.last_modified == datetime(2027, 2, 3, tzinfo=TZ)
    assert publication.sitemap(db) == [] and record.id


# --- staff: register and warnings -------------------------------------------------------------

def test_the_register_shows_where_each_record_stands_to_supervisors(db, decide, frozen_clock):
    late = decide(decision_date=date(2026, 10, 20))  # due 29 October, published 2 November
    on_time = decide()
    withheld = decide(publish=False)
    listing = disclosure_register.register(db, get_user(db, "feng"))
    assert [(r.record.id, r.state, r.on_time) for r in listing.rows] == [
        (withheld.id, "withheld", None), (on_time.id, "public", True), (late.id, "public", False)]
    assert [r.state for r in disclosure_register.register(db, get_user(db, "wang"), state="withheld").rows] == ["withheld"]
    assert disclosure_register.register(db, get_user(db, "qian")).rows == []  # another unit's head
    with pytest.raises(NotAllowed):
        disclosure_register.register(db, get_user(db, "zhang"))


def test_warnings_list_decisions_waiting_to_be_published_by_their_limit(db, settings, frozen_clock):
    deployment.deploy(db, {"approval.bpmn": bpmn("approval.bpmn")}, "designer")
    waiting = cases.start(db, settings, get_user(db, "zhang"), "approval", {"party_name": "某协会"}).instance
    waiting.decided_on, waiting.decision_kind = date(2026, 10, 26), "penalty"  # due 4 November
    db.flush()
    [item] = alerts.disclosures_due(db, get_user(db, "feng"))
    assert (item.kind, item.case.id, item.due, item.card) == ("publish", waiting.id, date(2026, 11, 4), "yellow")
    at(frozen_clock, date(2026, 11, 5))
    assert alerts.disclosures_due(db, get_user(db, "wang"))[0].card == "red"
    assert alerts.disclosures_due(db, get_user(db, "qian")) == []
    disclosure.write(db, waiting, "enforcement_case", {**ORGANISATION, "decision_kind": "penalty",
                                                       "penalty_type": "warning", "decision_date": date(2026, 10, 26),
                                                       "publish": True})
    assert alerts.disclosures_due(db, get_user(db, "feng")) == []


# --- the migration of earlier records ---------------------------------------------------------

def test_earlier_records_are_migrated_with_their_retention_pieces_and_event(settings):
    engine = get_engine(settings.database_url)
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0008")
        connection.execute(text("INSERT INTO unit (id, code, name, active) VALUES (1, 'social', '社会组织管理科', true)"))
        connection.execute(text("INSERT INTO model_set (version, deployed_at, deployed_by, note) "
                                "VALUES (1, '2026-10-01 00:00:00+00:00', 'd', '')"))
        connection.execute(text(
            "INSERT INTO instance (id, case_no, process_id, model_version, unit_id, status, status_reason, state, "
            "created_by, created_at, updated_at, decided_on, decision_kind, penalty_type, matter_code, audit_seq, "
            "audit_head, lock_version) VALUES (1, 'A1', 'enforcement_case', 1, 1, 'completed', '', '', 'zhang', "
            "'2026-10-01 00:00:00+00:00', '2026-10-01 00:00:00+00:00', '2026-10-10', 'penalty', 'fine', 'MZ-CF-0001', "
            "0, '', 1)"))
        content = json.dumps({"party": "新市区夕阳红养老服务协会", "party_type": "organisation", "decision": "罚款"},
                             ensure_ascii=False)
        for rid, publish in ((1, True), (2, False)):
            connection.execute(text(
                "INSERT INTO disclosure (id, kind, instance_id, case_no, title, content, publish, published_on, created_at) "
                "VALUES (:id, 'decision', 1, 'A1', 't', :content, :publish, '2026-10-12', '2026-10-12 02:00:00+00:00')"),
                {"id": rid, "content": content if publish else "{}", "publish": publish})
        command.upgrade(cfg, "head")
        rows = connection.execute(text("SELECT id, status, decision_date, decision_type, retention_class, repair_from, "
                                       "retain_until FROM disclosure ORDER BY id")).all()
        assert [tuple(str(v) if v is not None else None for v in row) for row in rows] == [
            ("1", "published", "2026-10-10", "fine", "general", "2027-01-10", "2027-10-10"),
            ("2", "withheld", "2026-10-10", "fine", None, None, None)]
        assert connection.execute(text("SELECT disclosure_id, kind FROM disclosure_event")).all() == [(1, "published")]
        assert connection.execute(text("SELECT count(*) FROM disclosure_term WHERE term = '夕阳'")).scalar() == 1
