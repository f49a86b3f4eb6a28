"""Raw benchmark rows with their origin, and typed field access that names the origin on error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mucode.core.errors import DatasetError
from mucode.core.jsonl import stream_jsonl


@dataclass(frozen=True, slots=True)
class RawRow:
    """One record as read from a file or the hub; ``where`` is "file:line" or a hub row."""

    where: str
    data: dict[str, Any]


def read_rows(path: Path) -> list[RawRow]:
    """Read a ``.jsonl``/``.jsonl.gz`` file or a ``.json`` array of objects."""
    if path.suffix == ".json":
        return [RawRow(f"{path}:{line}", obj) for line, obj in _iter_json_array(path)]
    return [RawRow(f"{path}:{line}", obj) for line, obj in stream_jsonl(path)]


def _iter_json_array(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, object)`` for each element of a JSON array, line = where it starts."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"cannot read {path}: {e}") from e
    decoder = json.JSONDecoder()
    pos, line = _skip_space(text, 0), 1
    if not text.startswith("[", pos):
        raise DatasetError(f"{path}:{_line_at(text, pos)}: expected a JSON array of objects")
    pos = _skip_space(text, pos + 1)
    counted = 0
    while not text.startswith("]", pos):
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise DatasetError(f"{path}:{e.lineno}: not valid JSON ({e.msg})") from e
        if not isinstance(obj, dict):
            raise DatasetError(f"{path}:{line}: expected a JSON object, got {type(obj).__name__}")
        yield line, obj
        pos = _skip_space(text, pos)
        if text.startswith(",", pos):
            pos = _skip_space(text, pos + 1)
        elif not text.startswith("]", pos):
            raise DatasetError(f"{path}:{_line_at(text, pos)}: expected ',' or ']' in the array")


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _line_at(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def field(row: RawRow, name: str, kind: type | tuple[type, ...], expected: str) -> Any:
    """``row.data[name]`` checked against ``kind``; ``expected`` lists the fields of the format."""
    if name not in row.data:
        raise DatasetError(f"{row.where}: missing field {name!r}; expected {expected}")
    value = row.data[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        want = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise DatasetError(
            f"{row.where}: field {name!r} should be {want}, got {type(value).__name__} "
            f"({_short(value)})"
        )
    return value


def str_list_field(row: RawRow, name: str, expected: str) -> tuple[str, ...]:
    """A field that must be a list of strings."""
    value = field(row, name, list, expected)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise DatasetError(
                f"{row.where}: field {name!r}[{i}] should be str, got {type(item).__name__} "
                f"({_short(item)})"
            )
    return tuple(value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def prefixed_id_field(row: RawRow, prefix: str, expected: str) -> str:
    """The ``task_id`` field, which must read ``<prefix>/<n>``."""
    task_id = field(row, "task_id", str, expected)
    head, _, number = task_id.partition("/")
    if head != prefix or not number.isdigit():
        raise DatasetError(f"{row.where}: task_id {task_id!r} is not of the form '{prefix}/<n>'")
    return task_id
