"""A bomb diagram on the web (issue 10): while one request runs a case's code to its limit, the
server keeps answering others, and the officer is told the case stopped, not that it moved on."""
from __future__ import annotations

import threading

from tests.conftest import BPMN_DIR
from workflows.core.db import session_scope
from workflows.core.models import Instance
from workflows.design import deployment
from workflows.domain import cases
from workflows.domain.people import get_user

from .conftest import Auth, post

# a billion loop iterations in the script after the officer's task (run_script_pow.bpmn's place)
LOOPS_AFTER_A_TASK = (BPMN_DIR / "hostile" / "run_script_pow.bpmn").read_text().replace(
    "x = n ** n ** n", "total = 0\nfor a in range(999):\n    for b in range(999):\n        for c in range(999):\n"
    "            total += 1").encode()


def test_the_server_answers_while_a_bomb_is_stopped(app, app_settings):
    with session_scope(app_settings) as session:
        deployment.deploy(session, {"loops.bpmn": LOOPS_AFTER_A_TASK}, "designer")
        started = cases.start(session, app_settings, get_user(session, "officer1"), "hostile", {"n": 10})
        case_id, [row] = started.instance.id, started.tasks
        task_id = row.task_id
    bomber, reader = app.test_client(), app.test_client()
    Auth(bomber).login("officer1")
    answered: list[int] = []
    result = {}

    def submit():
        result["page"] = post(bomber, f"/tasks/{task_id}", {"n": "10", "_action": "complete"})

    running = threading.Thread(target=submit)
    running.start()
    while running.is_alive():
        response = reader.get("/health")
        if running.is_alive():
            answered.append(response.status_code)
    running.join()
    assert answered and set(answered) == {200}
    with session_scope(app_settings) as session:
        case = session.get(Instance, case_id)
        assert case.status == "error" and case.error_task == "bomb"
    done = bomber.get(result["page"].headers["Location"]).get_data(as_text=True)
    assert "出错环节：bomb" in done and "已办理完成" not in done and "✓" not in done
