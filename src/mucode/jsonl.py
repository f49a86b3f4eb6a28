"""The one place that reads and writes JSON lines.

Readers skip blank lines and tolerate a torn last line (a run killed mid-write);
a malformed line anywhere else is an error that names the file and line.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from mucode.errors import DatasetError


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def stream_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each JSON object line of ``path`` (``.gz`` too)."""
    path = Path(path)
    try:
        with _open_text(path) as f:
            lines = f.readlines()
    except OSError as e:
        raise DatasetError(f"cannot read {path}: {e.strerror or e}") from e
    last = len(lines)
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            if lineno == last and not line.endswith("\n"):
                return  # torn final line from an interrupted writer
            raise DatasetError(f"{path}:{lineno}: not valid JSON ({e.msg})") from e
        if not isinstance(obj, dict):
            raise DatasetError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
        yield lineno, obj


def drop_torn_tail(path: Path) -> None:
    """Cut a partial last line (no trailing newline) left by a killed writer."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as f:
        data = f.read()
        if data.endswith(b"\n"):
            return
        f.truncate(data.rfind(b"\n") + 1)


def append_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """Append one JSON line per record, flushing each so a kill loses at most one line."""
    path = Path(path)
    drop_torn_tail(path)
    with path.open("a", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record) + "\n")
            f.flush()


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """Write records to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record) + "\n")
    tmp.replace(path)
