"""A case sent back is never silent (issue 9 §1): the reopened task and the done page say who sent
it back, when and why; the case timeline shows it."""
from __future__ import annotations

from tests.webapp.support import WEB_BPMN
from workflows.core.db import session_scope
from workflows.design import deployment

from .conftest import FILING, complete, post, start_case

# the test model with its refusal turned into a return to the filer, the head's comment as the reason
RETURNING = (WEB_BPMN / "web_case.bpmn").read_text().replace(
    '<bpmn:sequenceFlow id="f_no" sourceRef="decide" targetRef="end_rejected" />',
    '<bpmn:sequenceFlow id="f_no" sourceRef="decide" targetRef="file_case" name="退回补正" />').replace(
    '<camunda:property name="name_en" value="Approve filing" />',
    '<camunda:property name="name_en" value="Approve filing" /><camunda:property name="return_comment" value="opinion" />')


def test_the_returned_task_and_the_done_page_say_who_sent_it_back_and_why(app, app_settings, client, auth):
    with session_scope(app_settings) as session:
        deployment.deploy(session, {"web_case.bpmn": RETURNING.encode()}, "designer")
    case = start_case(app_settings)
    [approval] = complete(app_settings, "officer1", case.task_id, FILING)
    auth.login("head")
    post(client, f"/tasks/{approval}/claim", {})
    done = post(client, f"/tasks/{approval}", {"approved": "no", "opinion": "违法事实不清，请补充违法日期。",
                                               "_action": "complete"}, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "案件回到本环节：退回补正" in page and "意见：违法事实不清，请补充违法日期。" in page
    assert "王芳 于" in page and "办理“立案审批”时退回" in page

    auth.logout()
    auth.login("officer1")
    inbox = client.get("/").get_data(as_text=True)
    reopened = inbox.split('href="/tasks/')[1].split('"')[0]
    task_page = client.get(f"/tasks/{reopened}").get_data(as_text=True)
    assert "案件回到本环节：退回补正" in task_page and "违法事实不清，请补充违法日期。" in task_page
    timeline = client.get(f"/cases/{case.instance_id}").get_data(as_text=True)
    assert "退回或返回本环节 · 立案登记 · 退回补正：违法事实不清，请补充违法日期。" in timeline
