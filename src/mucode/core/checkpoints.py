"""The Hugging Face Trainer's checkpoints in a run directory, to resume a killed run from."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

CHECKPOINTS = "checkpoints"


def last_checkpoint(out: Path) -> str | None:
    """The newest complete checkpoint in ``out/checkpoints``; incomplete ones (a kill
    mid-save) are removed.

    The Trainer writes ``trainer_state.json`` last, so a checkpoint whose state file
    parses is whole.
    """
    complete: dict[int, Path] = {}
    for path in (out / CHECKPOINTS).glob("checkpoint-*"):
        try:
            json.loads((path / "trainer_state.json").read_text())
            complete[int(path.name.rsplit("-", 1)[1])] = path
        except (OSError, ValueError):
            shutil.rmtree(path)
    return str(complete[max(complete)]) if complete else None
