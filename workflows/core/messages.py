"""Sentences the engine says to people: Chinese, but translatable.

A :class:`Message` is the Chinese sentence itself (a ``str``, so it prints, compares and stores like
one) that also keeps its template and values: a UI in another language looks the template up in its
catalogue (the template is the msgid) and fills in the same values. Babel extracts the templates
with the keyword ``Message``.
"""
from __future__ import annotations

from typing import Any


class Message(str):
    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> "Message":
        text = super().__new__(cls, template % params if params else template)
        text.template, text.params = template, params
        return text
