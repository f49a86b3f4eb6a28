"""Files written whole or not at all: a temporary file beside the target, then a rename.

A reader never sees a half-written file, and a writer killed mid-write leaves the old file
(or none). The temporary name carries the process id, so processes that write one file at
the same time (a shared cache) never write into each other's temporary file.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def replaced_atomically(path: Path) -> Iterator[Path]:
    """A temporary path to write ``path``'s new content to; it replaces ``path`` when the
    block ends, and is removed instead if the block raises."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield temporary
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    temporary.replace(path)


def write_json_atomically(path: Path, data: Any, *, indent: int | None = 2,
                          default: Callable[[Any], Any] | None = None) -> None:  # fmt: skip
    """Write ``data`` as JSON and a final newline to ``path`` atomically; ``indent`` None:
    on one line (large files); ``default`` as in ``json.dumps``."""
    with replaced_atomically(path) as temporary:
        temporary.write_text(json.dumps(data, indent=indent, default=default) + "\n",
                             encoding="utf-8")  # fmt: skip


def install_directory(building: Path, target: Path, complete: Callable[[Path], bool]) -> None:
    """Rename the finished directory ``building`` to ``target``, replacing a copy that
    ``complete`` rejects (a killed build's leftovers, an outdated one); when a concurrent
    builder installed a complete copy first, keep that one (the caller removes ``building``)."""
    if complete(target):
        return
    if target.exists():
        stale = target.with_name(f".{target.name}.{os.getpid()}.stale")
        with contextlib.suppress(FileNotFoundError):  # another builder moved it first
            target.rename(stale)
        shutil.rmtree(stale, ignore_errors=True)
    try:
        building.rename(target)
    except OSError:
        if not complete(target):
            raise
