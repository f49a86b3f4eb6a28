"""Per-problem time limits from reference run times, measured once and cached."""

from __future__ import annotations

import dataclasses
import json

import pytest

from mucode.benchmarks import load_problems
from mucode.calibration import (
    FACTOR,
    measurement_key,
    problem_limits,
    problems_digest,
    reference_seconds,
    reference_times_path,
    time_limits,
)
from mucode.core.cache import cache_dir
from mucode.sandbox import Limits, Sandbox, SandboxInfo
from tests.fidelity import BASE, REFERENCE_SLEEP_S, slow_problem


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
        path = reference_times_path(problems, sandbox)
    assert set(first) == {p.task_id for p in problems}
    assert all(0 < s < 5 for s in first.values())
    assert path.parent == tmp_path / "reference-times"
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


def test_the_cache_key_covers_every_limit_the_launcher_and_the_python():
    problems = load_problems("humaneval")[:2]
    info = SandboxInfo(layers=(), missing={}, workers=1, python="3.12.3", launcher="native")
    key = measurement_key(problems, Limits(), info)
    assert key == measurement_key(problems, Limits(), dataclasses.replace(info, workers=2))
    assert key != measurement_key(problems, Limits(memory_mb=1024), info)
    assert key != measurement_key(problems, Limits(processes=8), info)
    assert key != measurement_key(problems, Limits(), dataclasses.replace(info, launcher="bwrap"))
    assert key != measurement_key(problems, Limits(), dataclasses.replace(info, python="3.13.0"))
    assert key != measurement_key(problems[:1], Limits(), info)


@pytest.fixture(scope="module")
def short_sandbox():
    with Sandbox(workers=2, limits=BASE) as sandbox:
        yield sandbox


def test_only_problems_of_calibrated_benchmarks_get_a_raised_limit(short_sandbox, monkeypatch,
                                                                  tmp_path):  # fmt: skip
    monkeypatch.setenv("MUCODE_CACHE_DIR", str(tmp_path))
    slow, humaneval = slow_problem(), load_problems("humaneval", task_ids=["HumanEval/53"])[0]
    limits = problem_limits([slow, humaneval], short_sandbox)
    measured = limits.timeout_s(slow.task_id) / FACTOR  # the reference's wall time
    assert REFERENCE_SLEEP_S <= measured < 2 * REFERENCE_SLEEP_S
    assert limits.timeout_s(humaneval.task_id) == BASE.timeout_s
    recorded = limits.to_dict()
    assert recorded["source"] == "calibrated" and list(recorded["raised"]) == [slow.task_id]
    assert recorded["reference_times"].startswith(str(tmp_path / "reference-times"))
    base_only = problem_limits([humaneval, slow_problem("mbpp")], short_sandbox)
    assert base_only.to_dict() == {"source": "base", "timeout_s": BASE.timeout_s}
    assert base_only.timeout_s(slow.task_id) == BASE.timeout_s
