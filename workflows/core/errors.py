"""Typed errors of the engine: callers (CLI, web) turn each into a clear message, never a traceback."""
from __future__ import annotations

from workflows.core.messages import Message


class EngineError(Exception):
    """Base of every error a user can cause; ``str()`` is a readable sentence."""

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.details = details


class NotFound(EngineError):
    pass


class ValidationFailed(EngineError):
    """A model set that does not pass validation; ``problems`` are one line each."""

    def __init__(self, problems: list):
        super().__init__(f"{len(problems)} problem(s) found:\n" + "\n".join(map(str, problems)))
        self.problems = problems


class FormInvalid(EngineError):
    """Submitted form data that fails the task's form; ``errors`` maps field id to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class Conflict(EngineError):
    """Someone else changed the case first (the task was completed or the case moved on)."""


class TaskNotReady(Conflict):
    pass


def case_changed() -> Conflict:
    """Another unit of work changed the case first (its version check or its audit chain refused ours)."""
    return Conflict(Message("案件已被他人同时修改，请刷新后重试"))


class NotAllowed(EngineError):
    """The user may not act on this task or case."""


class CredentialRequired(NotAllowed):
    pass


class InstanceNotActive(EngineError):
    """The case is suspended, terminated, completed or in error."""
