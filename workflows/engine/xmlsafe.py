"""Parse model files safely: a diagram is input, and input can be hostile.

defusedxml refuses DTDs, entity declarations and external references (XXE, billion laughs) before
lxml builds the tree SpiffWorkflow reads; lxml itself runs with entities, DTDs and network off.
"""
from __future__ import annotations

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from lxml import etree

MAX_MODEL_BYTES = 5 * 1024 * 1024

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                          huge_tree=False, remove_blank_text=False)


class UnsafeXml(ValueError):
    """The file is not well-formed, too large, or uses DTD/entity features we refuse."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def parse(content: bytes) -> etree._Element:
    """Return the root element of ``content`` or raise :class:`UnsafeXml` with a one-line reason."""
    if not content.strip():
        raise UnsafeXml("the file is empty")
    if len(content) > MAX_MODEL_BYTES:
        raise UnsafeXml(f"the file is larger than {MAX_MODEL_BYTES // (1024 * 1024)} MiB")
    try:
        defused_fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeXml(f"refused: {type(exc).__name__} (DTDs and entities are not allowed)") from None
    except SyntaxError as exc:  # xml.etree.ElementTree.ParseError
        line = exc.position[0] if hasattr(exc, "position") else None
        raise UnsafeXml(f"not well-formed XML: {exc}", line) from None
    try:
        return etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise UnsafeXml(f"not well-formed XML: {exc.msg}", exc.lineno) from None
