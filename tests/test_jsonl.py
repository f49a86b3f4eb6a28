"""JSON lines: what counts as a complete record, for readers and for the appender."""

from __future__ import annotations

import json

import pytest

from mucode.core.errors import DatasetError
from mucode.core.jsonl import append_jsonl, stream_jsonl

RECORDS = [
    {"task_id": "HumanEval/0", "sample_index": 0, "code": "def f():\n    return 'é'\n"},
    {"task_id": "HumanEval/0", "sample_index": 1, "turns": [{"passed": False}, {}]},
    {"task_id": "HumanEval/1", "sample_index": 0, "code": "", "score": 0.5},
]


def _line(record: dict) -> bytes:
    return (json.dumps(record) + "\n").encode()


def _read(path, appended=True) -> list[dict]:
    return [obj for _, obj in stream_jsonl(path, appended=appended)]


def test_a_writer_killed_at_any_byte_loses_and_duplicates_nothing(tmp_path):
    complete = b"".join(_line(r) for r in RECORDS[:-1])
    last = _line(RECORDS[-1])
    for cut in range(len(last) + 1):
        path = tmp_path / f"cut{cut}.jsonl"
        path.write_bytes(complete + last[:cut])
        on_disk = _read(path)
        assert on_disk == (RECORDS if cut == len(last) else RECORDS[:-1]), cut
        append_jsonl(path, [r for r in RECORDS if r not in on_disk])  # what resume redoes
        assert path.read_bytes() == complete + last, cut
        assert _read(path) == _read(path, appended=False) == RECORDS


def test_an_appended_file_never_counts_a_line_without_its_newline(tmp_path):
    path = tmp_path / "run.jsonl"
    path.write_bytes(_line(RECORDS[0]) + _line(RECORDS[1]).rstrip(b"\n"))
    assert _read(path) == RECORDS[:1]


def test_an_input_file_may_lack_its_final_newline(tmp_path):
    path = tmp_path / "samples.jsonl"
    path.write_bytes(_line(RECORDS[0]) + b"\n" + _line(RECORDS[1]).rstrip(b"\n"))
    assert [n for n, _ in stream_jsonl(path)] == [1, 3]
    assert _read(path, appended=False) == RECORDS[:2]


def test_a_cut_last_line_of_an_input_file_is_named(tmp_path):
    path = tmp_path / "samples.jsonl"
    path.write_bytes(_line(RECORDS[0]) + _line(RECORDS[1])[:20])
    with pytest.raises(DatasetError, match=r"samples\.jsonl:2: not valid JSON"):
        _read(path, appended=False)


@pytest.mark.parametrize("appended", [True, False])
def test_a_bad_complete_line_is_an_error_in_either_kind_of_file(tmp_path, appended):
    path = tmp_path / "run.jsonl"
    path.write_bytes(_line(RECORDS[0]) + b"[1, 2]\n" + _line(RECORDS[1]))
    with pytest.raises(DatasetError, match=r"run\.jsonl:2: expected a JSON object, got list"):
        _read(path, appended=appended)
