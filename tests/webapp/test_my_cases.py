"""我的案件: each person finds the cases they work on, by case number, party or matter; nobody else's."""
from __future__ import annotations

from workflows.core.db import session_scope
from workflows.domain import cases

from .conftest import FILING, complete, post, start_case


def test_an_officer_lists_the_cases_they_work_on_and_searches_them(app, app_settings, client, auth):
    filed = start_case(app_settings, party="新市区夕阳红养老服务协会")
    complete(app_settings, "officer1", filed.task_id, FILING | {"party_name": "新市区夕阳红养老服务协会"})
    waiting = start_case(app_settings, party="新市区某某文化协会", matter="MZ-CF-0002")
    others = start_case(app_settings, username="officer4", party="新市区另一协会")

    auth.login("officer1")
    page = client.get("/cases/mine").get_data(as_text=True)
    assert "我的案件" in page and "新市区夕阳红养老服务协会" in page and "新市区某某文化协会" in page
    assert "新市区另一协会" not in page  # another officer's case
    found = client.get("/cases/mine?q=夕阳红").get_data(as_text=True)
    assert "新市区夕阳红养老服务协会" in found and "新市区某某文化协会" not in found
    by_matter = client.get("/cases/mine?matter=MZ-CF-0002").get_data(as_text=True)
    assert "新市区某某文化协会" in by_matter and "新市区夕阳红养老服务协会" not in by_matter
    assert f'href="/cases/{waiting.instance_id}"' in by_matter
    assert "您还没有办理过案件" not in page and others.instance_id != waiting.instance_id

    auth.logout()
    auth.login("head")  # the filing approval waits in the unit's pool: not the head's case yet
    assert "您还没有办理过案件" in client.get("/cases/mine").get_data(as_text=True)
    [approval] = _ready(app_settings, filed.instance_id)
    post(client, f"/tasks/{approval}/claim", {})
    assert "新市区夕阳红养老服务协会" in client.get("/cases/mine").get_data(as_text=True)


def _ready(settings, instance_id: int) -> list[str]:
    with session_scope(settings) as session:
        return [row.task_id for row in cases.ready_tasks_of(session, instance_id)]
