"""Supervision notices (督办): sent by supervisors, shown to whoever may act, acknowledged once, audited."""
from __future__ import annotations

import pytest

from workflows.core.errors import FormInvalid, NotAllowed
from workflows.domain import audit, inbox, supervision
from workflows.domain.people import get_user

from .monitoring import bureau


@pytest.fixture
def made(db, settings, frozen_clock):
    return bureau(db, settings, frozen_clock)


def test_a_notice_reaches_who_may_act_until_acknowledged(db, made):
    with pytest.raises(NotAllowed):
        supervision.send(db, get_user(db, "zhang"), made["a"], "请办理")
    with pytest.raises(FormInvalid):
        supervision.send(db, get_user(db, "feng"), made["a"], "  ")
    notice = supervision.send(db, get_user(db, "feng"), made["a"], "该案已逾期，请三日内办结。")
    assert [n.id for n in supervision.for_inbox(db, get_user(db, "li"))] == [notice.id]  # the unit's pool
    assert supervision.for_inbox(db, get_user(db, "sun")) == []  # another unit
    assert inbox.inbox_of(db, get_user(db, "zhang"), "mine").notices[0].message == "该案已逾期，请三日内办结。"
    with pytest.raises(NotAllowed):
        supervision.acknowledge(db, get_user(db, "sun"), notice.id)
    supervision.acknowledge(db, get_user(db, "li"), notice.id)
    assert (notice.acknowledged_by, supervision.for_inbox(db, get_user(db, "zhang"))) == ("li", [])
    actions = [(e.actor, e.action) for e in audit.events_of(db, made["a"])][-2:]
    assert actions == [("feng", "case.supervise"), ("li", "case.supervise_ack")]
    assert audit.verify(db) == []
