"""The one place that reads and writes JSON lines.

A line is a record only when it ends with a newline. Files that mucode appends to (run
records, caches) may end in a torn line from a writer killed mid-write: readers given
``appended=True`` skip it, as it is not on disk as far as resuming is concerned, and
``append_jsonl`` cuts it before writing, so the record is written again whole, once.
Input files (samples, benchmark data) may lack the final newline. Readers skip blank
lines; any other line that is not a JSON object is an error naming the file and line.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from mucode.core.errors import DatasetError
from mucode.core.files import replaced_atomically


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def _complete_end(data: bytes) -> int:
    """Length of the part of ``data`` that ends with its last newline (whole lines only)."""
    return data.rfind(b"\n") + 1


def _read_lines(path: Path, appended: bool) -> list[str]:
    try:
        if appended:
            data = path.read_bytes()
            return data[: _complete_end(data)].decode("utf-8").split("\n")
        with _open_text(path) as f:
            return f.readlines()
    except OSError as e:
        raise DatasetError(f"cannot read {path}: {e.strerror or e}") from e


def _parse(path: Path, lineno: int, line: str) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path}:{lineno}: not valid JSON ({e.msg})") from e
    if not isinstance(obj, dict):
        raise DatasetError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
    return obj


def stream_jsonl(path: Path, *, appended: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each JSON object line of ``path`` (``.gz`` too).

    ``appended=True`` is for files mucode appends to: a last line without its newline is
    a torn write and is skipped. Otherwise the final newline is optional.
    """
    path = Path(path)
    for lineno, line in enumerate(_read_lines(path, appended), start=1):
        if line.strip():
            yield lineno, _parse(path, lineno, line)


def drop_torn_tail(path: Path) -> None:
    """Cut a partial last line (no trailing newline) left by a killed writer."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as f:
        data = f.read()
        if not data.endswith(b"\n"):
            f.truncate(_complete_end(data))


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
    with replaced_atomically(path) as temporary, temporary.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record) + "\n")
