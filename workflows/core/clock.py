"""The one clock of the engine: our code and SpiffWorkflow's timers both read it, so tests never sleep."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

_frozen: datetime | None = None


def now() -> datetime:
    """The current moment, timezone-aware UTC."""
    return _frozen if _frozen is not None else datetime.now(timezone.utc)


@contextmanager
def frozen(at: datetime) -> Iterator["FrozenClock"]:
    """Hold the clock at ``at`` (aware) for the block; ``advance`` moves it forward."""
    global _frozen
    if at.tzinfo is None:
        raise ValueError("the clock takes timezone-aware datetimes only")
    previous, _frozen = _frozen, at.astimezone(timezone.utc)
    try:
        yield FrozenClock()
    finally:
        _frozen = previous


class FrozenClock:
    def advance(self, **delta: float) -> datetime:
        global _frozen
        assert _frozen is not None
        _frozen = _frozen + timedelta(**delta)
        return _frozen

    def set(self, at: datetime) -> None:
        global _frozen
        _frozen = at.astimezone(timezone.utc)
