"""The studio's engine operations: drafts no case reads, the same validation as deploy, form
previews from a draft, and deploying drafts with a note; bad files and racing deployments refused."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import BPMN_DIR, bpmn
from workflows.core.errors import Conflict, FormInvalid, NotAllowed, ValidationFailed
from workflows.core.models import AuditEvent, ModelDraft, ModelSet
from workflows.design import deployment, studio
from workflows.domain.people import get_user
from workflows.engine import specs

APPROVAL = bpmn("approval.bpmn")


@pytest.fixture
def deployed(db):
    deployment.deploy(db, {"approval.bpmn": APPROVAL}, "designer", "初始版本")
    return db


def _renamed(label: str) -> bytes:
    return APPROVAL.replace('name="立案审批"'.encode(), f'name="{label}"'.encode())


def test_the_catalogue_lists_each_file_with_the_version_of_its_content(deployed):
    designer = get_user(deployed, "designer")
    deployment.deploy(deployed, {"grade.dmn": bpmn("grade.dmn")}, "admin", "增加评分表")
    [approval, grade] = studio.catalogue(deployed, designer)
    assert (approval.filename, approval.version, approval.last.version, approval.last.note) == \
        ("approval.bpmn", 2, 1, "初始版本")
    assert (grade.last.version, grade.last.deployed_by) == (2, "admin")
    assert [r.version for r in studio.history(deployed, designer, "approval.bpmn")] == [1]


def test_a_draft_is_kept_per_author_and_no_case_reads_it(deployed):
    designer = get_user(deployed, "designer")
    first = studio.save_draft(deployed, designer, "approval.bpmn", _renamed("审批一"), 1)
    again = studio.save_draft(deployed, designer, "approval.bpmn", _renamed("审批二"), 1)
    assert first.id == again.id and again.content == _renamed("审批二")  # replaced, not piled up
    studio.save_draft(deployed, get_user(deployed, "admin"), "approval.bpmn", _renamed("审批三"), 1)
    assert {d.author for d in studio.drafts_of(deployed, "approval.bpmn")} == {"designer", "admin"}
    assert specs.current_version(deployed) == 1 and studio.content(deployed, "approval.bpmn") == APPROVAL
    assert deployed.scalar(select(func.count()).where(AuditEvent.action == "model.draft.save")) == 3


@pytest.mark.parametrize("name, content, message", [
    ("approval.bpmn", (BPMN_DIR / "hostile" / "xxe.bpmn").read_bytes(), "不是可接受的XML文件"),
    ("approval.bpmn", (BPMN_DIR / "hostile" / "laughs.bpmn").read_bytes(), "不是可接受的XML文件"),
    ("approval.bpmn", b"not xml at all", "不是可接受的XML文件"),
    ("approval.bpmn", bpmn("grade.dmn"), "不是BPMN模型"),
    ("grade.dmn", APPROVAL, "不是DMN模型"),
    ("approval.txt", APPROVAL, "文件名须以 .bpmn 或 .dmn 结尾"),
    ("../approval.bpmn", APPROVAL, "文件名须以 .bpmn 或 .dmn 结尾"),
    ("approval.bpmn", b"<x>" + b" " * studio.MAX_MODEL_BYTES + b"</x>", "文件超过5 MB"),
])
def test_bad_files_are_refused_and_nothing_is_stored(deployed, name, content, message):
    with pytest.raises(FormInvalid) as refused:
        studio.save_draft(deployed, get_user(deployed, "designer"), name, content, 1)
    assert message in refused.value.errors["file"][0]
    assert deployed.scalar(select(func.count()).select_from(ModelDraft)) == 0


def test_validation_is_the_deploys_and_names_the_element(deployed):
    designer = get_user(deployed, "designer")
    broken = APPROVAL.replace(b'approved == "yes"', b'approved == = "yes"')
    [problem] = studio.problems(deployed, designer, "approval.bpmn", broken)
    assert problem.element == "f_yes" and problem.file == "approval.bpmn"
    assert studio.problems(deployed, designer, "approval.bpmn", _renamed("审批")) == []


def test_deploying_drafts_needs_a_note_and_a_valid_set(deployed):
    designer = get_user(deployed, "designer")
    draft = studio.save_draft(deployed, designer, "approval.bpmn", APPROVAL.replace(b'approved == "yes"', b"approved ==="), 1)
    with pytest.raises(FormInvalid, match="请填写变更说明"):
        studio.deploy_drafts(deployed, designer, [draft.id], " ")
    with pytest.raises(ValidationFailed):
        studio.deploy_drafts(deployed, designer, [draft.id], "修改审批条件")
    assert specs.current_version(deployed) == 1
    draft = studio.save_draft(deployed, designer, "approval.bpmn", _renamed("负责人审批"), 1)
    result = studio.deploy_drafts(deployed, designer, [draft.id], "审批环节改名")
    assert (result.version, result.changed) == (2, ("approval.bpmn",))
    assert deployed.get(ModelSet, 2).note == "审批环节改名" and studio.drafts_of(deployed) == []
    assert studio.content(deployed, "approval.bpmn") == _renamed("负责人审批")


def test_a_draft_started_before_someone_elses_deployment_is_refused(deployed):
    designer, admin = get_user(deployed, "designer"), get_user(deployed, "admin")
    stale = studio.save_draft(deployed, designer, "approval.bpmn", _renamed("甲"), 1)
    studio.deploy_drafts(deployed, admin, [studio.save_draft(deployed, admin, "approval.bpmn", _renamed("乙"), 1).id],
                         "管理员先改")
    with pytest.raises(Conflict, match="已由admin部署为版本2"):
        studio.deploy_drafts(deployed, designer, [stale.id], "设计员后改")
    assert studio.content(deployed, "approval.bpmn") == _renamed("乙")


def test_a_deployment_racing_another_to_the_same_version_stores_nothing(deployed, monkeypatch):
    deployment.deploy(deployed, {"approval.bpmn": _renamed("乙")}, "admin", "另一人刚部署")
    deployed.commit()
    monkeypatch.setattr(specs, "current_version", lambda session: 1)  # read before the other committed
    with pytest.raises(Conflict, match="另一次部署刚刚生成了版本2"):
        deployment.deploy(deployed, {"approval.bpmn": _renamed("丙")}, "designer", "并发")
    deployed.rollback()  # as the unit of work does with a refusal
    monkeypatch.undo()
    assert specs.current_version(deployed) == 2 and studio.content(deployed, "approval.bpmn") == _renamed("乙")


def test_the_form_preview_reads_the_draft_not_the_deployed_file(deployed):
    designer = get_user(deployed, "designer")
    draft = APPROVAL.replace(b'label="', b'label="\xe6\x96\xb0') # every label gets a leading 新
    shown = studio.preview(deployed, designer, studio.with_changes(deployed, {"approval.bpmn": draft}), "register")
    assert shown.name == "立案登记" and shown.fields and all(f.label.startswith("新") for f in shown.fields)
    with pytest.raises(FormInvalid, match="请选择一个用户任务"):
        studio.preview(deployed, designer, {"approval.bpmn": APPROVAL}, "compute")


def test_only_designers_and_administrators_use_the_studio(deployed):
    officer = get_user(deployed, "zhang")
    with pytest.raises(NotAllowed):
        studio.catalogue(deployed, officer)
    with pytest.raises(NotAllowed):
        studio.save_draft(deployed, officer, "approval.bpmn", APPROVAL, 1)
