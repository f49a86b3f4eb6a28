"""Files written whole or not at all."""

from __future__ import annotations

import json
import os

import pytest

from mucode.core.files import replaced_atomically, write_json_atomically


def test_json_is_written_with_its_format_and_no_temporary_left(tmp_path):
    path = tmp_path / "out.json"
    write_json_atomically(path, {"b": 1, "a": [1]})
    assert path.read_text() == json.dumps({"b": 1, "a": [1]}, indent=2) + "\n"
    write_json_atomically(path, {"at": tmp_path}, indent=None, default=str)
    assert path.read_text() == json.dumps({"at": str(tmp_path)}) + "\n"
    assert list(tmp_path.iterdir()) == [path]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "out.json"
    write_json_atomically(path, {"old": True})
    with pytest.raises(TypeError):
        write_json_atomically(path, {"new": object()})
    assert json.loads(path.read_text()) == {"old": True}
    assert list(tmp_path.iterdir()) == [path]


def test_the_temporary_file_is_beside_the_target_and_this_process_own(tmp_path):
    with replaced_atomically(tmp_path / "x.bin") as temporary:
        assert temporary.parent == tmp_path and str(os.getpid()) in temporary.name
        temporary.write_bytes(b"x")
    assert (tmp_path / "x.bin").read_bytes() == b"x"
