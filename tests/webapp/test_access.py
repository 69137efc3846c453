"""Every route for every demo role, against a table written out by hand; and CSRF on every POST."""
from __future__ import annotations

import io
import re

import pytest
from click.testing import CliRunner

from workflows.cli import main
from workflows.core.db import session_scope
from workflows.core.errors import CredentialRequired, FormInvalid, NotAllowed, NotFound
from workflows.core.models import Instance
from workflows.design import studio
from workflows.domain import casefile, cases, disclosure, records, supervision, tasks
from workflows.domain.people import get_user

from .conftest import FILING, Auth, complete, csrf_token, start_case
from .support import PROCESS, WEB_BPMN, tiny_png

USERS = ["anonymous", "officer1", "officer2", "officer3", "officer4", "head", "reviewer", "director", "office",
         "designer", "manager", "admin"]

# Case A waits for the unit head's filing approval (an unclaimed task of the social-organisation unit);
# case B waits for officer1's evidence. Both belong to officer1's unit.
# method, path, then the expected status for each user in the order of USERS.
#                                                              anon off1 off2 off3 off4 head revw dirc offc desg mngr admn
TABLE = [
    ("GET", "/health",                                         200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/static/css/app.css",                             200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/login",                                          200, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "/",                                               302, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/cases/new",                                      302, 200, 200, 403, 200, 403, 403, 403, 403, 403, 403, 403),
    # managers, agency heads and administrators read every case; the case's unit reads its own
    ("GET", "/cases/{a}",                                      302, 200, 200, 200, 403, 200, 403, 200, 403, 403, 200, 200),
    ("GET", "/cases/999",                                      302, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    ("GET", "/cases/mine",                                     302, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/cases/{a}/diagram.bpmn",                         302, 200, 200, 200, 403, 200, 403, 200, 403, 403, 200, 200),
    ("GET", "/cases/{a}/diagram/web_case.bpmn",                302, 200, 200, 200, 403, 200, 403, 200, 403, 403, 200, 200),
    ("GET", "/cases/{a}/evidence/{sha}",                       302, 200, 200, 200, 403, 200, 403, 200, 403, 403, 200, 200),
    ("GET", "/cases/{a}/evidence/{missing}",                   302, 404, 404, 404, 403, 404, 403, 404, 403, 403, 404, 404),
    ("GET", "/tasks/{a_filing}",                               302, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403),
    ("GET", "/tasks/{a_filing}/done",                          302, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403),
    ("GET", "/tasks/{a_approval}",                             302, 403, 403, 403, 403, 200, 403, 403, 403, 403, 403, 403),
    ("GET", "/tasks/{b_evidence}",                             302, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403),
    ("GET", "/tasks/no-such-task",                             302, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    ("POST", "/tasks/{a_approval}",                            302, 403, 403, 403, 403, 422, 403, 403, 403, 403, 403, 403),
    ("POST", "/tasks/{a_approval}/claim",                      302, 403, 403, 403, 403, 302, 403, 403, 403, 403, 403, 403),
    # the engine lets supervisors (unit heads, agency heads, administrators) release any task
    ("POST", "/tasks/{a_approval}/unclaim",                    302, 403, 403, 403, 403, 302, 403, 302, 403, 403, 403, 302),
    ("POST", "/tasks/{b_evidence}/evidence",                   302, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    # supervision (执法监督): managers, agency heads, administrators everywhere; unit heads for their unit
    ("GET", "/monitor/",                                       302, 403, 403, 403, 403, 200, 403, 200, 403, 403, 200, 200),
    ("GET", "/monitor/cases",                                  302, 403, 403, 403, 403, 200, 403, 200, 403, 403, 200, 200),
    ("GET", "/monitor/cases.csv",                              302, 403, 403, 403, 403, 200, 403, 200, 403, 403, 200, 200),
    ("GET", "/monitor/cases.xlsx",                             302, 403, 403, 403, 403, 200, 403, 200, 403, 403, 200, 200),
    ("GET", "/monitor/warnings",                               302, 403, 403, 403, 403, 200, 403, 200, 403, 403, 200, 200),
    ("GET", "/monitor/errors",                                 302, 403, 403, 403, 403, 200, 403, 200, 403, 403, 200, 200),
    ("GET", "/monitor/processes",                              302, 403, 403, 403, 403, 200, 403, 200, 403, 403, 200, 200),
    ("GET", "/monitor/processes/web_case/1",                   302, 403, 403, 403, 403, 200, 403, 200, 403, 403, 200, 200),
    ("GET", "/monitor/processes/no_such_process/1",            302, 403, 403, 403, 403, 404, 403, 404, 403, 403, 404, 404),
    ("GET", "/monitor/processes/web_case/1/diagram.bpmn",      302, 403, 403, 403, 403, 200, 403, 200, 403, 403, 200, 200),
    # the annual statistics report: its live figures for the office, legal reviewers, agency heads, managers
    # and administrators; starting its approval (a year not begun is refused with a message); the public
    # report only once approved and published (none here)
    ("GET", "/monitor/report",                                 302, 403, 403, 403, 403, 403, 302, 302, 302, 403, 302, 302),
    ("GET", "/monitor/report/2026",                            302, 403, 403, 403, 403, 403, 200, 200, 200, 403, 200, 200),
    ("GET", "/monitor/report/2026.csv",                        302, 403, 403, 403, 403, 403, 200, 200, 200, 403, 200, 200),
    ("GET", "/monitor/report/2026.pdf",                        302, 403, 403, 403, 403, 403, 200, 200, 200, 403, 200, 200),
    ("POST", "/monitor/report/2999/approval",                  302, 403, 403, 403, 403, 403, 302, 302, 302, 403, 302, 302),
    ("GET", "/gongshi/report",                                 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/gongshi/report/2026",                            404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    ("GET", "/gongshi/report/2026.csv",                        404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    ("GET", "/gongshi/report/2026.pdf",                        404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    # 督办: managers and agency heads send; who may act on the case's open task acknowledges
    ("POST", "/cases/{a}/supervise",                           302, 403, 403, 403, 403, 403, 403, 302, 403, 403, 302, 403),
    ("POST", "/cases/notices/{notice}/ack",                    302, 302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    # case operations: supervisors (the unit's head, agency heads, administrators); retry: operators,
    # and a running case has nothing to retry
    ("POST", "/cases/{a}/suspend",                             302, 403, 403, 403, 403, 302, 403, 302, 403, 403, 403, 302),
    ("POST", "/cases/{a}/resume",                              302, 403, 403, 403, 403, 302, 403, 302, 403, 403, 403, 302),
    ("POST", "/cases/{a}/retry",                               302, 403, 403, 403, 403, 403, 403, 403, 403, 409, 403, 409),
    ("POST", "/tasks/{a_approval}/reassign",                   302, 403, 403, 403, 403, 302, 403, 302, 403, 403, 403, 302),
    ("POST", "/cases/{a}/terminate",                           302, 403, 403, 403, 403, 302, 403, 302, 403, 403, 403, 302),
    # everyone's own account page; administration for administrators only
    ("GET", "/me",                                             302, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("POST", "/me",                                            302, 422, 422, 422, 422, 422, 422, 422, 422, 422, 422, 422),
    ("GET", "/admin/",                                         302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200),
    ("GET", "/admin/units",                                    302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200),
    ("POST", "/admin/units",                                   302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 302),
    ("POST", "/admin/units/charity/rename",                    302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 302),
    ("POST", "/admin/units/charity/deactivate",                302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 302),
    ("GET", "/admin/users",                                    302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200),
    ("POST", "/admin/users",                                   302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 302),
    ("GET", "/admin/users/officer9",                           302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200),
    ("GET", "/admin/users/nobody",                             302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 404),
    ("POST", "/admin/users/officer9",                          302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 302),
    ("POST", "/admin/users/officer9/roles",                    302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 302),
    ("POST", "/admin/users/officer9/qualifications",           302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 302),
    ("POST", "/admin/users/officer9/credentials",              302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 302),
    ("POST", "/admin/users/officer9/password",                 302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 302),
    ("POST", "/admin/users/officer9/unlock",                   302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 302),
    ("GET", "/admin/credentials",                              302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200),
    ("POST", "/admin/credentials/{cred}/suspend",              302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 302),
    ("POST", "/admin/users/officer9/deactivate",               302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 302),
    ("POST", "/admin/users/officer9/reactivate",               302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 302),
    ("GET", "/admin/settings",                                 302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200),
    ("POST", "/admin/settings/deadlines/payment",              302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 302),
    ("POST", "/admin/settings/policies/surcharge_rate",        302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 302),
    ("GET", "/admin/holidays",                                 302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200),
    ("POST", "/admin/holidays/import",                         302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 302),
    ("POST", "/admin/holidays/day",                            302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 302),
    ("GET", "/admin/audit",                                    302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200),
    ("GET", "/admin/audit.json",                               302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200),
    ("POST", "/admin/audit/verify",                            302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200),
    # the studio: designers and administrators; the editor's JSON calls refuse a post without a model
    ("GET", "/studio/",                                        302, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403, 200),
    ("GET", "/studio/files/web_case.bpmn",                     302, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403, 200),
    ("GET", "/studio/files/web_case.bpmn/source",              302, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403, 200),
    ("GET", "/studio/files/web_case.bpmn/history",             302, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403, 200),
    ("GET", "/studio/files/none.bpmn/history",                 302, 403, 403, 403, 403, 403, 403, 403, 403, 404, 403, 404),
    ("POST", "/studio/files/web_case.bpmn/draft",              302, 403, 403, 403, 403, 403, 403, 403, 403, 422, 403, 422),
    ("POST", "/studio/files/web_case.bpmn/validate",           302, 403, 403, 403, 403, 403, 403, 403, 403, 422, 403, 422),
    ("POST", "/studio/files/web_case.bpmn/preview",            302, 403, 403, 403, 403, 403, 403, 403, 403, 422, 403, 422),
    ("POST", "/studio/files/web_case.bpmn/diff",               302, 403, 403, 403, 403, 403, 403, 403, 403, 422, 403, 422),
    ("POST", "/studio/files/web_case.bpmn/dryrun",             302, 403, 403, 403, 403, 403, 403, 403, 403, 422, 403, 422),
    ("GET", "/studio/migrations",                              302, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403, 200),
    ("POST", "/studio/migrations",                             302, 403, 403, 403, 403, 403, 403, 403, 403, 302, 403, 302),
    ("POST", "/studio/upload",                                 302, 403, 403, 403, 403, 403, 403, 403, 403, 302, 403, 302),
    ("POST", "/studio/drafts/{draft}/discard",                 302, 403, 403, 403, 403, 403, 403, 403, 403, 302, 403, 302),
    ("POST", "/studio/deploy",                                 302, 403, 403, 403, 403, 403, 403, 403, 403, 302, 403, 302),
    # the public portal's 事前公开 pages and the credential check: the same for everyone, signed in or not
    ("GET", "/gongshi/",                                       200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/gongshi/matters",                                200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/gongshi/matters/MZ-CF-0001",                     200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/gongshi/duties",                                 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/gongshi/personnel",                              200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/gongshi/procedure",                              200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/gongshi/procedure/web_case",                     200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/gongshi/procedure/web_case.bpmn",                200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/gongshi/remedies",                               200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/gongshi/inspections",                            200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/gongshi/guides",                                 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/gongshi/zheng",                                  200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/gongshi/zheng/{cred}",                           200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/gongshi/zheng/{cred}.svg",                       200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/gongshi/zheng/{cred}/card",                      200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/gongshi/lang/en",                                302, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302),
    # 事后公开: the decisions, a permalink, the feeds and the sitemap, the same for everyone
    ("GET", "/gongshi/decisions",                              200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/gongshi/decisions/{disclosure}",                 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/gongshi/decisions/999",                          404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    ("GET", "/gongshi/feed.atom",                              200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/gongshi/feed.json",                              200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/gongshi/sitemap.xml",                            200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    # the register of disclosures: supervisors (a unit head sees the unit's); asking to withdraw or correct
    # a record that does not exist; taking one down on credit repair: the case's unit head, agency heads,
    # administrators (it leaves the portal: after the GETs above)
    ("GET", "/monitor/disclosures",                            302, 403, 403, 403, 403, 200, 403, 200, 403, 403, 200, 200),
    ("POST", "/monitor/disclosures/999/change",                302, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404),
    ("POST", "/monitor/disclosures/{disclosure}/remove",       302, 403, 403, 403, 403, 302, 403, 302, 403, 403, 403, 302),
    ("POST", "/cases/new",                                     302, 302, 302, 403, 302, 403, 403, 403, 403, 403, 403, 403),
    ("POST", "/language",                                      302, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302),
    ("POST", "/login",                                         422, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302),
    ("POST", "/logout",                                        302, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302, 302),
]

# What each POST sends besides its CSRF token.
BODIES = {
    "/tasks/{b_evidence}/evidence": lambda: {"field": "photos", "file": (io.BytesIO(tiny_png(3)), "photo.png")},
    "/cases/new": lambda: {"matter_code": "MZ-CF-0002", "party_name": "某协会"},
    "/language": lambda: {"lang": "en"},
    "/cases/{a}/supervise": lambda: {"message": "请尽快办理。"},
    "/cases/{a}/suspend": lambda: {"reason": "当事人下落不明", "ground": "party_incapacitated"},
    "/cases/{a}/resume": lambda: {"reason": "已找到当事人"},
    "/cases/{a}/terminate": lambda: {"reason": "撤销立案"},
    "/tasks/{a_approval}/reassign": lambda: {"to": "head"},
    "/admin/units": lambda: {"code": "charity", "name": "慈善事业科"},
    "/admin/units/charity/rename": lambda: {"name": "慈善和社会工作科"},
    "/admin/users": lambda: {"username": "officer9", "full_name": "新人", "unit": "elderly", "password": "pass-1234",
                             "roles": "officer", "credential_number": "15019999", "area": "新市区",
                             "valid_from": "2026-11-01", "valid_to": "2029-10-31"},
    "/admin/users/officer9": lambda: {"full_name": "新人甲", "unit": "elderly", "contact": "0991-1"},
    "/admin/users/officer9/roles": lambda: {"role_officer": "1", "from_officer": "2026-11-01"},
    "/admin/users/officer9/qualifications": lambda: {"number": "A2020999", "issued_on": "2020-05-01"},
    "/admin/users/officer9/credentials": lambda: {"number": "15019998", "area": "新市区", "valid_from": "2026-11-01",
                                                  "valid_to": "2027-10-31"},
    "/admin/users/officer9/password": lambda: {"password": "new-pass-1234"},
    "/admin/credentials/{cred}/suspend": lambda: {"reason": "涉嫌违规执法，暂扣调查"},
    "/admin/users/officer9/deactivate": lambda: {"reason": "调离"},
    "/admin/settings/deadlines/payment": lambda: {"amount": "15", "unit": "days", "basis": "行政处罚法第67条",
                                                  "note": "核对"},
    "/admin/settings/policies/surcharge_rate": lambda: {"value": "0.03", "basis": "行政处罚法第72条", "note": "核对"},
    "/admin/holidays/import": lambda: {"file": (io.BytesIO("date,kind,name\n2027-01-01,holiday,元旦\n".encode()), "h.csv")},
    "/admin/holidays/day": lambda: {"day": "2027-02-06", "kind": "workday", "name": "春节调休"},
    "/monitor/disclosures/{disclosure}/remove": lambda: {"applied_on": "2026-11-01", "reason": "已整改，申请信用修复。",
                                                          "obligations_met": "y"},
    "/login": lambda: {"username": "officer1", "password": "wrong"},
    "/studio/upload": lambda: {"file": (io.BytesIO((WEB_BPMN / "web_case.bpmn").read_bytes()), "web_case.bpmn")},
    "/studio/deploy": lambda: {"note": "未选草稿"},
}


# A warning to case A's party, published as the disclosure hook writes it (credit repair may take it down at once).
PUBLISHED = {"party_type": "organisation", "party_name": "新市区某某养老协会", "matter_code": "MZ-CF-0001",
             "decision_kind": "penalty", "penalty_type": "warning", "decision_date": "2026-11-02", "publish": True,
             "disclosure_facts": "未按规定签订服务协议。", "disclosure_decision_text": "给予警告。"}


def build_state(settings) -> dict[str, str]:
    """Case A at the filing approval, case B at evidence gathering, and one piece of evidence on A."""
    a = start_case(settings)
    a_approval = complete(settings, "officer1", a.task_id, FILING)[0]
    b = start_case(settings, party="某某基金会")
    b_approval = complete(settings, "officer1", b.task_id, FILING)[0]
    b_evidence = complete(settings, "head", b_approval, {"approved": "yes"})[0]
    with session_scope(settings) as session:
        evidence = records.store_evidence(session, records.evidence_store(settings), io.BytesIO(tiny_png(1)),
                                          "photo.png", "officer1", session.get(Instance, a.instance_id))
        notice = supervision.send(session, get_user(session, "manager"), b.instance_id, "请尽快调查取证。")
        credential = get_user(session, "officer2").credentials[0].number
        draft = studio.save_draft(session, get_user(session, "designer"), "web_case.bpmn",
                                  (WEB_BPMN / "web_case.bpmn").read_bytes(), 1)
        published = disclosure.write(session, session.get(Instance, a.instance_id), PROCESS, PUBLISHED)
    return {"disclosure": str(published.id), "a": str(a.instance_id), "a_filing": a.task_id, "a_approval": a_approval, "b_evidence": b_evidence,
            "sha": evidence.sha256, "missing": "0" * 64, "notice": str(notice.id), "cred": credential,
            "draft": str(draft.id)}


def test_the_table_names_every_route(app):
    urls = app.url_map.bind("localhost")
    covered = {(method, urls.match(path.format_map(EXAMPLE), method=method)[0]) for method, path, *_ in TABLE}
    routes = {(method, rule.endpoint) for rule in app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes - covered == set()


EXAMPLE = {"disclosure": 1, "a": 1, "sha": "a" * 64, "missing": "0" * 64, "a_filing": "t", "a_approval": "t", "b_evidence": "t",
           "notice": 1, "cred": "c", "draft": 1}


@pytest.mark.parametrize("username", USERS)
def test_every_route_answers_each_role_as_the_table_says(app, client, app_settings, username):
    state = build_state(app_settings)
    if username != "anonymous":
        assert Auth(client).login(username).status_code == 302
    column = USERS.index(username)
    got, want = {}, {}
    for method, path, *expected in TABLE:
        url = path.format(**state)
        if method == "GET":
            response = client.get(url)
        else:
            token = csrf_token(client, "/login" if username == "anonymous" else "/")
            response = client.post(url, data={**BODIES.get(path, dict)(), "_csrf_token": token},
                                   content_type="multipart/form-data")
        got[(method, path)], want[(method, path)] = response.status_code, expected[column]
    assert got == want


@pytest.mark.parametrize("username", ["anonymous", "officer1"])
def test_every_post_without_a_csrf_token_is_refused(app, client, username):
    if username != "anonymous":
        Auth(client).login(username)
    posts = [r for r in app.url_map.iter_rules() if "POST" in r.methods]
    assert len(posts) >= 8
    for rule in posts:
        path = re.sub(r"<int:\w+>", "1", rule.rule.replace("<task_id>", "some-task"))
        response = client.post(path, data={"lang": "en", "username": "officer1", "password": "demo1234"})
        assert response.status_code == 400, path
        assert "安全校验" in response.get_data(as_text=True)


# The same table through the engine's operations and through the command line: every door meets the
# same rules. Routes that only the web has (pages, sign-in, language) are not in these maps.
def _engine_call(settings, username: str, method: str, path: str, state: dict[str, str]):
    """Run the operation behind a route as ``username``; the status the web would answer."""
    url = path.format(**state)
    with session_scope(settings) as session:
        user = get_user(session, username)
        store = records.evidence_store(settings)
        operations = {
            ("GET", "/cases/new"): lambda: cases.check_start(session, user, PROCESS),
            ("POST", "/cases/new"): lambda: cases.start(session, settings, user, PROCESS,
                                                        {"matter_code": "MZ-CF-0002", "party_name": "某协会"}),
            ("GET", "/cases/{a}"): lambda: casefile.read(session, user, int(state["a"])),
            ("GET", "/cases/999"): lambda: casefile.read(session, user, 999),
            ("GET", "/cases/{a}/evidence/{sha}"): lambda: records.read_evidence(session, store, user, int(state["a"]),
                                                                               state["sha"]),
            ("GET", "/cases/{a}/evidence/{missing}"): lambda: records.read_evidence(
                session, store, user, int(state["a"]), state["missing"]),
            ("GET", "/tasks/{a_filing}/done"): lambda: tasks.following(session, user, state["a_filing"]),
            ("POST", "/tasks/{a_approval}"): lambda: _completed_or_422(tasks.complete(
                session, store, user, state["a_approval"], {})),
            ("POST", "/tasks/{a_approval}/claim"): lambda: tasks.claim(session, user, state["a_approval"]),
            ("POST", "/tasks/{a_approval}/unclaim"): lambda: tasks.release(session, user, state["a_approval"]),
            ("POST", "/tasks/{b_evidence}/evidence"): lambda: tasks.upload(
                session, store, user, state["b_evidence"], "photos", io.BytesIO(tiny_png(3)), "photo.png"),
        }
        if url.startswith("/tasks/") and url.count("/") == 2 and method == "GET":
            call = lambda: tasks.sheet(session, user, url.split("/")[2])  # noqa: E731
        elif (method, path) in operations:
            call = operations[(method, path)]
        else:
            return None
        try:
            call()
        except CredentialRequired:
            return 403
        except NotAllowed:
            return 403
        except NotFound:
            return 404
        except FormInvalid:
            return 422
        return 302 if method == "POST" and "evidence" not in path else 200


def _completed_or_422(submission):
    if submission.errors:
        raise FormInvalid(submission.errors)


@pytest.mark.parametrize("username", USERS[1:])
def test_the_engine_answers_each_role_as_the_table_says(app_settings, frozen_clock, username):
    state = build_state(app_settings)
    column = USERS.index(username)
    got, want = {}, {}
    for method, path, *expected in TABLE:
        status = _engine_call(app_settings, username, method, path, state)
        if status is not None:
            got[(method, path)], want[(method, path)] = status, expected[column]
    assert len(got) == 15 and got == want


CLI_EXIT = {200: 0, 302: 0, 403: 3, 404: 4, 422: 1}


@pytest.mark.parametrize("username", ["officer1", "officer3", "head", "director", "manager"])
def test_the_command_line_answers_each_role_as_the_table_says(app_settings, frozen_clock, monkeypatch, username):
    state = build_state(app_settings)
    with session_scope(app_settings, write=False) as session:
        case_no = session.get(Instance, int(state["a"])).case_no
    monkeypatch.setenv("SANXIANG_INSTANCE_PATH", str(app_settings.instance_path))
    monkeypatch.delenv("SANXIANG_DATABASE_URL", raising=False)
    commands = {
        ("POST", "/cases/new"): ["start", PROCESS, "--data", '{"matter_code": "MZ-CF-0002", "party_name": "某协会"}'],
        ("GET", "/cases/{a}"): ["show", case_no],
        ("GET", "/cases/999"): ["show", "新民罚〔2026〕9999号"],
        ("POST", "/tasks/{a_approval}"): ["complete", state["a_approval"]],
        ("POST", "/tasks/{a_approval}/claim"): ["claim", state["a_approval"]],
        ("POST", "/tasks/{a_approval}/unclaim"): ["release", state["a_approval"]],
    }
    column = USERS.index(username)
    got, want = {}, {}
    for method, path, *expected in TABLE:
        if (method, path) in commands:
            result = CliRunner().invoke(main, [*commands[(method, path)], "--user", username], catch_exceptions=False)
            assert "Traceback" not in result.output
            got[(method, path)], want[(method, path)] = result.exit_code, CLI_EXIT[expected[column]]
    assert got == want
