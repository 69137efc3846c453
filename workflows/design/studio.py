"""The designer's studio as engine operations: the files of the deployed set and their history,
drafts (saved edits that no case reads), form previews, and deploying drafts as the next version.

The web studio and the CLI call these; each checks that the actor designs (``access.check_design``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from SpiffWorkflow.camunda.specs.user_task import UserTask

from workflows.core.clock import now
from workflows.core.errors import Conflict, FormInvalid, NotFound, ValidationFailed
from workflows.core.messages import Message
from workflows.core.models import ModelDraft, ModelFile, ModelSet, User
from workflows.domain import access, audit, lookups
from workflows.domain.forms import FieldSpec, fields_of
from workflows.design import deployment, diff, dryrun
from workflows.design.validation import Problem, validate
from workflows.engine import specs, xmlsafe
from workflows.engine.parsing import BPMN, build_parser, is_dmn

MAX_MODEL_BYTES = 5 * 1024 * 1024  # the largest model is ~200 KB


def _name(actor: User | str) -> str:
    return actor if isinstance(actor, str) else actor.username


# --- the deployed set ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Revision:
    """A version in which a file got new content (or first appeared)."""

    version: int
    sha256: str
    deployed_by: str
    deployed_at: datetime
    note: str


@dataclass(frozen=True)
class FileEntry:
    filename: str
    version: int  # the current model-set version
    last: Revision  # the version that gave the file its current content
    drafts: list[ModelDraft]


def _revisions(session: Session) -> dict[str, list[Revision]]:
    """Every file's revisions, oldest first, from one query over all versions."""
    rows = session.execute(select(ModelFile.filename, ModelFile.sha256, ModelSet.version, ModelSet.deployed_by,
                                  ModelSet.deployed_at, ModelSet.note)
                           .join(ModelSet, ModelSet.version == ModelFile.version).order_by(ModelSet.version))
    found: dict[str, list[Revision]] = {}
    for name, sha, version, by, at, note in rows:
        revisions = found.setdefault(name, [])
        if not revisions or revisions[-1].sha256 != sha:
            revisions.append(Revision(version, sha, by, at, note))
    return found


def catalogue(session: Session, actor: User) -> list[FileEntry]:
    """The files of the current model set, each with the version of its content and its drafts."""
    access.check_design(actor)
    version = specs.current_version(session)
    if version is None:
        return []
    current = {f.filename for f in session.get(ModelSet, version).files}
    drafts = drafts_of(session)
    return [FileEntry(name, version, revisions[-1], [d for d in drafts if d.filename == name])
            for name, revisions in sorted(_revisions(session).items()) if name in current]


def history(session: Session, actor: User, filename: str) -> list[Revision]:
    """The versions that changed ``filename``, newest first."""
    access.check_design(actor)
    revisions = _revisions(session).get(filename)
    if not revisions:
        raise NotFound(Message("模型文件%(name)s不存在", name=filename))
    return revisions[::-1]


def content(session: Session, filename: str, version: int | None = None) -> bytes:
    """The file as deployed in ``version`` (default: the current one)."""
    version = version or specs.current_version(session)
    files = specs.files_of(session, version) if version else {}
    if filename not in files:
        raise NotFound(Message("模型文件%(name)s不存在", name=filename))
    return files[filename]


# --- drafts ----------------------------------------------------------------------------------------

def check_model_file(filename: str, data: bytes) -> None:
    """A file the studio accepts as a draft: named .bpmn or .dmn, not too large, safe XML whose root
    is a BPMN or DMN ``definitions``. Refusals name what is wrong; nothing is stored."""
    if not filename.endswith(deployment.MODEL_SUFFIXES) or "/" in filename or "\\" in filename \
            or not 5 < len(filename) <= 200:
        raise FormInvalid({"file": [Message("文件名须以 .bpmn 或 .dmn 结尾，且不含路径")]})
    if len(data) > MAX_MODEL_BYTES:
        raise FormInvalid({"file": [Message("文件超过%(size)s MB", size=MAX_MODEL_BYTES // 1024 // 1024)]})
    try:
        root = xmlsafe.parse(data)
    except xmlsafe.UnsafeXml as exc:
        raise FormInvalid({"file": [Message("不是可接受的XML文件（第%(line)s行）：%(problem)s",
                                            line=exc.line or "-", problem=str(exc))]}) from None
    wanted = "dmn" if filename.endswith(".dmn") else "bpmn"
    if not (is_dmn(root) if wanted == "dmn" else root.tag == BPMN + "definitions"):
        raise FormInvalid({"file": [Message("文件内容不是%(kind)s模型", kind=wanted.upper())]})


def drafts_of(session: Session, filename: str | None = None) -> list[ModelDraft]:
    q = select(ModelDraft).order_by(ModelDraft.filename, ModelDraft.saved_at.desc())
    return list(session.scalars(q if filename is None else q.where(ModelDraft.filename == filename)))


def draft(session: Session, actor: User, draft_id: int) -> ModelDraft:
    access.check_design(actor)
    found = session.get(ModelDraft, draft_id)
    if found is None:
        raise NotFound(Message("草稿不存在或已部署、已放弃"))
    return found


def own_draft(session: Session, actor: User, filename: str) -> ModelDraft | None:
    return session.scalars(select(ModelDraft).where(ModelDraft.filename == filename,
                                                    ModelDraft.author == actor.username)).one_or_none()


def save_draft(session: Session, actor: User, filename: str, data: bytes, parent_version: int | None) -> ModelDraft:
    """Store the actor's draft of ``filename`` (replacing their previous one); validation is separate,
    so a half-finished model can be kept."""
    access.check_design(actor)
    check_model_file(filename, data)
    digest = deployment.sha256(data)
    row = own_draft(session, actor, filename)
    if row is None:
        row = ModelDraft(filename=filename, author=actor.username)
        session.add(row)
    row.parent_version, row.sha256, row.content = parent_version, digest, data
    row.saved_at = now()
    session.flush()
    audit.record(session, actor.username, "model.draft.save", file=filename, sha256=digest, parent=parent_version)
    return row


def discard_draft(session: Session, actor: User, draft_id: int) -> None:
    row = draft(session, actor, draft_id)
    audit.record(session, actor.username, "model.draft.discard", file=row.filename, sha256=row.sha256,
                 author=row.author)
    session.delete(row)
    session.flush()


def with_changes(session: Session, changes: dict[str, bytes]) -> dict[str, bytes]:
    """The current set with ``changes`` in place: what a deployment of them would make."""
    version = specs.current_version(session)
    return (specs.files_of(session, version) if version else {}) | changes


def problems(session: Session, actor: User, filename: str, data: bytes) -> list[Problem]:
    """The engine's validation of the set with this file in it (the same check deploy runs)."""
    access.check_design(actor)
    check_model_file(filename, data)
    return validate(with_changes(session, {filename: data}))


def deploy_drafts(session: Session, actor: User, draft_ids: list[int], note: str) -> deployment.Deployment:
    """Deploy drafts (at most one per file) as the next version, with a change note; the drafts go.

    A draft whose file was deployed anew since the draft was started is refused, so nobody's
    deployment is silently undone."""
    access.check_design(actor)
    if not (note or "").strip():
        raise FormInvalid({"note": [Message("请填写变更说明")]})
    chosen = [draft(session, actor, i) for i in dict.fromkeys(draft_ids)]
    if not chosen:
        raise FormInvalid({"drafts": [Message("请选择要部署的草稿")]})
    names = [d.filename for d in chosen]
    if len(set(names)) < len(names):
        raise FormInvalid({"drafts": [Message("同一文件只能选择一份草稿")]})
    revisions = _revisions(session)
    for d in chosen:
        latest = revisions.get(d.filename, [None])[-1]
        if latest is not None and (d.parent_version or 0) < latest.version:
            raise Conflict(Message("%(name)s在您起草后已由%(who)s部署为版本%(version)s，请在新版本上重新修改",
                                   name=d.filename, who=latest.deployed_by, version=latest.version))
    result = deployment.deploy(session, {d.filename: d.content for d in chosen}, actor.username, note)
    for d in chosen:
        session.delete(d)
    session.flush()
    return result


def upload(session: Session, actor: User, filename: str, data: bytes) -> ModelDraft:
    """A file exported from a modeler becomes the actor's draft of it, based on the current version."""
    return save_draft(session, actor, filename, data, specs.current_version(session))


# --- form preview ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FormPreview:
    """A user task's form as staff will see it, from a draft not yet deployed."""

    element: str
    name: str
    fields: list[FieldSpec]
    instructions: str
    people: dict[str, list[User]]
    matter_choices: list


def preview(session: Session, actor: User, files: dict[str, bytes], element: str) -> FormPreview:
    """Parse the set as the engine does and read ``element``'s form; refuses other element kinds."""
    access.check_design(actor)
    try:
        parser = build_parser({n: xmlsafe.parse(c) for n, c in files.items()})
        processes = [parser.get_spec(pid) for pid in parser.get_process_ids()]
    except Exception as exc:  # noqa: BLE001 - any parse failure is the designer's to see, not a crash
        raise ValidationFailed([Problem("", element, None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)])
    spec = next((p.task_specs[element] for p in processes if element in p.task_specs), None)
    if not isinstance(spec, UserTask):
        raise FormInvalid({"element": [Message("请选择一个用户任务，预览其表单")]})
    fields = fields_of(spec)
    roles = {f.properties.get("role", "") for f in fields if f.type == "user"}
    return FormPreview(element, spec.bpmn_name or element, fields, spec.documentation or "",
                       {role: lookups.eligible_users(session, role) for role in roles if role},
                       lookups.active_matters(session) if any(f.type == "matter" for f in fields) else [])


# --- dry runs and differences ----------------------------------------------------------------------

def dry_run(session: Session, actor: User, files: dict[str, bytes], process_id: str, scenario) -> dryrun.DryRun:
    """Run a scenario on the set in memory (see :mod:`workflows.design.dryrun`); nothing is stored."""
    access.check_design(actor)
    return dryrun.run(session, files, process_id, scenario)


def scenarios(actor: User) -> dict[str, dict]:
    access.check_design(actor)
    return dryrun.list_scenarios()


def compare(session: Session, actor: User, filename: str, old: int | None, new: bytes | int | None) -> diff.FileDiff:
    """``filename`` as deployed in version ``old`` (default: current) against version ``new`` or
    the given content (a draft or the editor's XML)."""
    access.check_design(actor)
    before = content(session, filename, old)
    after = new if isinstance(new, bytes) else content(session, filename, new)
    return diff.diff({filename: before}, {filename: after}).files[0]
