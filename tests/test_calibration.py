"""Per-problem time limits from reference run times, measured once and cached."""

from __future__ import annotations

import json

from mucode.benchmarks import load_problems
from mucode.cache import cache_dir
from mucode.calibration import FACTOR, problems_digest, reference_seconds, time_limits
from mucode.sandbox import Sandbox


def test_time_limits_never_go_below_the_base():
    limits = time_limits({"a": 0.01, "b": 20.0}, base_timeout_s=10.0)
    assert limits == {"a": 10.0, "b": FACTOR * 20.0}


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MUCODE_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("MUCODE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "x" / "mucode"


def test_reference_times_are_measured_once_then_read_from_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("MUCODE_CACHE_DIR", str(tmp_path))
    problems = load_problems("humaneval")[:6]
    with Sandbox(workers=2) as sandbox:
        first = reference_seconds(problems, sandbox)
    assert set(first) == {p.task_id for p in problems}
    assert all(0 < s < 5 for s in first.values())
    path = tmp_path / "reference-times" / f"{problems_digest(problems)}.json"
    assert json.loads(path.read_text()) == first
    closed = Sandbox(workers=1)
    closed.close()  # running anything on it would fail: the cache must answer
    assert reference_seconds(problems, closed) == first


def test_digest_changes_with_the_tests():
    problems = load_problems("humaneval")[:2]
    changed = [
        problems[0],
        type(problems[1])(**{**problems[1].to_dict(), "private_tests": ("assert True",)}),
    ]
    assert problems_digest(problems) != problems_digest(changed)
