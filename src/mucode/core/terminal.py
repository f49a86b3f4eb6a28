"""What the commands print: tables that keep their title on one line, literal messages.

Messages carry commands such as ``pip install 'mucode[hub]'``; printed as rich markup, the
``[hub]`` would be taken for a style tag and vanish, so they are rendered as plain text.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text


def fitted_table(title: str, caption: str | None = None, **options: Any) -> Table:
    """A ``Table`` at least as wide as its title and caption, which are shown literally.

    rich wraps a title to its table's width, so a short table under a long title printed
    it on ragged lines; this one wraps neither while the terminal is wide enough.
    """
    heading = Text(title, style="table.title")
    note = Text(caption, style="table.caption") if caption else None
    width = max(heading.cell_len, note.cell_len if note else 0)
    return Table(title=heading, caption=note, min_width=width, **options)


def error_text(error: BaseException) -> Text:
    """``error: <message>`` with the message exactly as written (no markup)."""
    return Text.assemble(("error:", "bold red"), " ", str(error))
