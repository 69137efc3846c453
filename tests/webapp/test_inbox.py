"""The inbox: its three tabs, filters, due cards, paging, claiming and the empty states."""
from __future__ import annotations

import re

from workflows.domain import tasks
from workflows.core.db import session_scope
from workflows.domain.people import add_user, get_user

from .conftest import FILING, complete, post, start_case


def _rows(page: str) -> list[str]:
    return re.findall(r"<tr class=\"[^\"]*\">(.*?)</tr>", page, re.S)


def test_an_empty_inbox_says_what_to_do_next(client, auth):
    auth.login("officer1")
    page = client.get("/").get_data(as_text=True)
    assert "您目前没有待办任务" in page and "查看待认领任务" in page and 'href="/cases/new"' in page


def test_my_tasks_list_the_case_the_task_and_its_due_date(client, auth, case):
    auth.login("officer1")
    page = client.get("/").get_data(as_text=True)
    [row] = _rows(page)
    for text in ("新民罚〔2026〕0001号", "社会组织涂改、出租、出借登记证书或印章", "新市区某某养老协会", "立案登记", "执法人员",
                 "2026年11月2日", "2026年11月9日"):
        assert text in row
    assert f'href="/tasks/{case.task_id}"' in row
    assert "放回待认领" in row and "退回" not in row  # 退回 is kept for returning a case for correction


def test_the_navigation_counts_open_tasks(client, auth, case):
    auth.login("officer1")
    page = client.get("/").get_data(as_text=True)
    assert re.search(r"待办事项\s*<span class=\"badge[^>]*>1</span>", page)


def test_unclaimed_tasks_of_my_role_and_unit_are_offered_for_claiming(client, auth, app_settings, case):
    approval = complete(app_settings, "officer1", case.task_id, FILING)[0]
    auth.login("head")
    page = client.get("/?tab=pool").get_data(as_text=True)
    assert "立案审批" in page and f'action="/tasks/{approval}/claim"' in page
    response = post(client, f"/tasks/{approval}/claim")
    assert response.headers["Location"] == f"/tasks/{approval}"
    assert "已认领任务“立案审批”" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert "立案审批" in client.get("/").get_data(as_text=True)
    assert "没有待认领的任务" in client.get("/?tab=pool").get_data(as_text=True)


def test_releasing_a_claimed_task_puts_it_back_in_the_pool(client, auth, app_settings, case):
    approval = complete(app_settings, "officer1", case.task_id, FILING)[0]
    auth.login("head")
    post(client, f"/tasks/{approval}/claim")
    response = post(client, f"/tasks/{approval}/unclaim", {"next": "/?tab=mine"})
    assert response.headers["Location"] == "/?tab=mine"
    assert "立案审批" in client.get("/?tab=pool").get_data(as_text=True)


def test_claiming_a_task_someone_else_took_says_so(client, auth, app_settings, case):
    approval = complete(app_settings, "officer1", case.task_id, FILING)[0]
    with session_scope(app_settings) as session:
        add_user(session, "system", "head9", "钱进", "social", "pw-123456", ["unit_head"])
        tasks.claim(session, get_user(session, "head9"), approval)
    auth.login("head")
    response = post(client, f"/tasks/{approval}/claim", {"next": "/?tab=pool"})
    assert response.headers["Location"] == "/?tab=pool"
    assert "刚被他人认领" in client.get("/?tab=pool").get_data(as_text=True)


def test_other_units_do_not_see_the_pool_task(client, auth, app_settings, case):
    complete(app_settings, "officer1", case.task_id, FILING)
    auth.login("officer4")
    assert "没有待认领的任务" in client.get("/?tab=pool").get_data(as_text=True)


def test_completed_tasks_are_listed_under_completed_by_me(client, auth, app_settings, case):
    complete(app_settings, "officer1", case.task_id, FILING)
    auth.login("officer1")
    page = client.get("/?tab=done").get_data(as_text=True)
    assert "立案登记" in page and "查看案件" in page


def test_filters_narrow_the_list_and_can_be_cleared(client, auth, app_settings):
    start_case(app_settings, party="甲协会")
    start_case(app_settings, party="乙基金会")
    auth.login("officer1")
    page = client.get("/?party=甲").get_data(as_text=True)
    assert "甲协会" in page and "乙基金会" not in page and "清除筛选" in page
    page = client.get("/?case_no=0002").get_data(as_text=True)
    assert "乙基金会" in page and "甲协会" not in page
    assert "没有符合筛选条件的任务" in client.get("/?name=不存在的任务").get_data(as_text=True)


def test_due_soon_and_overdue_tasks_carry_yellow_and_red_cards(client, auth, case, frozen_clock):
    auth.login("officer1")
    assert "即将到期" not in client.get("/").get_data(as_text=True)
    frozen_clock.advance(days=6)  # due on Monday 9 November at the end of the day: 1.5 days left
    assert "text-bg-warning\">即将到期" in client.get("/").get_data(as_text=True)
    frozen_clock.advance(days=2)
    page = client.get("/").get_data(as_text=True)
    assert "text-bg-danger\">已逾期" in page and 'class="table-danger"' in page


def test_tasks_are_sorted_by_due_date_and_paged(app, client, auth, app_settings, frozen_clock):
    app.config["INBOX_PER_PAGE"] = 2
    for party in ("第一", "第二", "第三"):
        start_case(app_settings, party=party)
        frozen_clock.advance(days=1)
    auth.login("officer1")
    first = client.get("/").get_data(as_text=True)
    assert first.index("第一") < first.index("第二") and "第三" not in first
    assert 'aria-label="分页"' in first and "page=2" in first
    assert "第三" in client.get("/?page=2").get_data(as_text=True)


def test_a_page_number_past_any_list_is_an_empty_page_not_an_error(client, auth):
    auth.login("officer1")
    response = client.get("/?page=4611686018427387904")
    assert response.status_code == 200
