"""The supervision list: who sees which cases, every filter, the bounded count, and the export."""
from __future__ import annotations

import pytest

from workflows.core.errors import NotAllowed
from workflows.domain import caselist
from workflows.domain.caselist import CaseFilters
from workflows.domain.people import get_user

from .monitoring import bureau


@pytest.fixture
def made(db, settings, frozen_clock):
    return bureau(db, settings, frozen_clock)


def numbers(db, user, **filters):
    return [row.instance.case_no for row in caselist.page(db, get_user(db, user), CaseFilters(**filters)).rows]


def test_managers_see_every_unit_and_unit_heads_their_own(db, made):
    assert len(numbers(db, "feng")) == 4 and len(numbers(db, "wu")) == 4
    assert len(numbers(db, "wang")) == 3  # social only
    assert numbers(db, "qian") == ["新民罚〔2026〕0004号"]
    with pytest.raises(NotAllowed):
        caselist.page(db, get_user(db, "zhang"), CaseFilters())


def test_filters_narrow_the_list(db, made):
    social = get_user(db, "zhang").unit_id
    assert len(numbers(db, "feng", unit_id=social)) == 3
    assert numbers(db, "feng", text="丁养老") == ["新民罚〔2026〕0004号"]
    assert numbers(db, "feng", text="0002") == ["新民罚〔2026〕0002号"]
    assert numbers(db, "feng", stage="confirm") == ["新民罚〔2026〕0003号"]
    assert numbers(db, "feng", status="completed") == []
    assert len(numbers(db, "feng", overdue=True)) == 3  # a, b, d still at their overdue filing task


def test_rows_carry_their_stage_card_and_unit(db, made):
    rows = {row.instance.case_no: row for row in caselist.page(db, get_user(db, "feng"), CaseFilters()).rows}
    a, c = rows["新民罚〔2026〕0001号"], rows["新民罚〔2026〕0003号"]
    assert ([t.name for t in a.tasks], a.card, a.unit) == (["立案登记"], "red", "社会组织管理科")
    assert [t.name for t in c.tasks] == ["协办确认"] and c.card is None


def test_the_count_is_bounded_and_the_export_has_every_filtered_row(db, made, monkeypatch):
    monkeypatch.setattr(caselist, "COUNT_CAP", 2)
    listing = caselist.page(db, get_user(db, "feng"), CaseFilters(), per_page=1)
    assert listing.capped and listing.total == 3 and listing.pages == 2
    monkeypatch.setattr(caselist, "EXPORT_CHUNK", 1)
    exported = [row.instance.case_no for row in caselist.export(db, get_user(db, "feng"), CaseFilters(overdue=True))]
    assert exported == numbers(db, "feng", overdue=True)


def test_my_cases_are_those_whose_tasks_i_hold_or_did_and_nobody_lists_anothers(db, made):
    def mine(user, **search):
        return sorted(row.instance.party_name for row in caselist.mine(db, get_user(db, user), **search).rows)

    assert mine("zhang") == ["乙基金会", "某协会", "甲协会"]  # filed all three (the third renamed on its form)
    assert mine("li") == ["某协会"]  # named second officer: the confirmation is assigned to li
    assert mine("sun") == ["丁养老院"] and mine("wang") == []
    assert mine("zhang", text="乙") == ["乙基金会"]
    with pytest.raises(NotAllowed):
        caselist.page(db, get_user(db, "zhang"), CaseFilters(involving="li"))
    assert [r.instance.party_name for r in caselist.page(db, get_user(db, "feng"), CaseFilters(involving="li")).rows] \
        == ["某协会"]  # a supervisor may look at anyone's
