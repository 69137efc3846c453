"""Task instructions: Markdown from the diagram, rendered and then sanitised.

A diagram is input and input can be hostile, so raw HTML is escaped by the renderer and the
result is cleaned again with an allow-list before it reaches a page.
"""
from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_renderer = MarkdownIt("commonmark", {"html": False}).enable("table")

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
})


def render(text: str) -> Markup:
    html = _renderer.render(text or "")
    clean = nh3.clean(html, tags=set(ALLOWED_TAGS), attributes={"a": {"href", "title"}},
                      url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")
    return Markup(clean)
