"""Choice lists shared by forms."""
from __future__ import annotations

from wtforms.fields.choices import SelectChoice

from workflows.core.models import Matter


def matter_choices(matters: list[Matter]) -> list[SelectChoice]:
    """The catalogue's matters, grouped by field (social organisations, elderly care...)."""
    ordered = sorted(matters, key=lambda m: (m.field, m.code))
    return [SelectChoice(m.code, f"{m.code} {m.name}", optgroup=m.field) for m in ordered]
