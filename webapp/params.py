"""Numbers from URLs and query strings, bounded: a number no row can have is "not found" or the
default, never an overflow in the database driver."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # the largest value of the database's INTEGER columns


def bounded_int(text: str) -> int:
    """For ``request.args.get(name, default, type=bounded_int)``: out of range is the default."""
    value = int(text)
    if not 0 <= value <= MAX_ID:
        raise ValueError(text)
    return value


class IdConverter(IntegerConverter):
    """``<int:…>`` in routes, limited to what an id column holds (so a huge id is a 404)."""

    def __init__(self, url_map, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, **kwargs)
