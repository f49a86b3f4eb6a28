"""A rollout and a search with a scripted generator over two nodes equal the local runs
record for record (run times aside); a local run resumed on the cluster ends the same."""

from __future__ import annotations

import json
import shutil

import pytest

from mucode.benchmarks import load_problems
from mucode.generation import ScriptedGenerator
from mucode.generation.config import LlamaCppConfig
from mucode.rollout import RolloutConfig
from mucode.runs import rollout as rollout_run
from mucode.runs import search as search_run
from mucode.search.run import SearchConfig
from mucode.search.selectors import Selection
from tests.distributed.conftest import without_timings

pytest.importorskip("ray", reason="install the ray extra: pip install -e '.[ray]'")

PROBLEMS = load_problems("humaneval")[:10]


def _fenced(code: str) -> str:
    return f"Here it is:\n```python\n{code}```\n"


def _script(conversation, candidate):
    """Per problem (by its position) and turn: no code, wrong, crashing, a timeout, then
    the reference; candidate i of a search turn is shifted by i."""
    index, problem = next((i, p) for i, p in enumerate(PROBLEMS)
                          if f"def {p.entry_point}(" in conversation[0].content)  # fmt: skip
    turn = sum(m.role == "assistant" for m in conversation)
    kind = (index + turn + candidate) % 5 if turn < 2 else 4
    if kind == 0:
        return "I am not sure how to solve this."
    if kind == 1:
        return _fenced(f"def {problem.entry_point}(*args):\n    return None\n")
    if kind == 2:
        return _fenced(f"import os\n\ndef {problem.entry_point}(*args):\n    os._exit(1)\n")
    if kind == 3 and index == 3:
        return _fenced(f"def {problem.entry_point}(*args):\n    while True:\n        pass\n")
    return _fenced(problem.reference_solution.strip("\n") + "\n")


def _records(path):
    rows = [without_timings(json.loads(line)) for line in path.read_text().splitlines()]
    return sorted(rows, key=lambda r: (r["task_id"], r.get("sample_index", r.get("repeat"))))


@pytest.fixture
def scripted(monkeypatch):
    def make(_config):
        return ScriptedGenerator(_script)

    monkeypatch.setattr(rollout_run, "make_generator", make)
    monkeypatch.setattr(search_run, "make_generator", make)


def _rollout(ray):
    return rollout_run.RolloutRun(
        benchmark="humaneval", limit=len(PROBLEMS), generator=LlamaCppConfig(),
        rollout=RolloutConfig(turns=3, concurrency=4), timeout_s=1.0, workers=2, ray=ray,
    )  # fmt: skip


def test_a_rollout_on_two_nodes_equals_the_local_one(ray_cluster, scripted, tmp_path):
    local = rollout_run.run_rollout(_rollout(None), tmp_path / "local")
    remote = rollout_run.run_rollout(_rollout(ray_cluster.address), tmp_path / "ray")
    expected = _records(local.path)
    assert len(expected) == len(PROBLEMS)
    assert _records(remote.path) == expected
    assert remote.solved_by_turn == local.solved_by_turn
    statuses = {t["oracle"]["status"] for r in expected for t in r["turns"]}
    assert {"passed", "failed", "crashed", "timeout"} <= statuses
    manifest = json.loads((tmp_path / "ray" / "manifest.json").read_text())
    assert manifest["sandbox"]["ray"] == ray_cluster.address
    assert len(manifest["sandbox"]["nodes"]) == 2 and "ray" not in manifest["config"]
    assert json.loads((tmp_path / "local" / "manifest.json").read_text())["sandbox"]["ray"] is None

    # the driver killed after three trajectories: resumed on the cluster, the run ends the same
    resumed = tmp_path / "resumed"
    shutil.copytree(tmp_path / "local", resumed)
    lines = (resumed / "trajectories.jsonl").read_text().splitlines(keepends=True)
    (resumed / "trajectories.jsonl").write_text("".join(lines[:3]))
    summary = rollout_run.run_rollout(_rollout(ray_cluster.address), resumed)
    assert summary.resumed == 3 and _records(summary.path) == expected
    manifest = json.loads((resumed / "manifest.json").read_text())
    assert manifest["sandbox"]["ray"] is None  # the first start, local
    assert manifest["resumes"][-1]["sandbox"]["ray"] == ray_cluster.address


def _search(ray):
    return search_run.SearchRun(
        benchmark="humaneval", limit=len(PROBLEMS), generator=LlamaCppConfig(),
        search=SearchConfig(select=Selection.PT, n=3, turns=2, concurrency=3),
        timeout_s=1.0, workers=2, ray=ray,
    )  # fmt: skip


def test_a_search_on_two_nodes_equals_the_local_one(ray_cluster, scripted, tmp_path):
    local, _, _ = search_run.run_search(_search(None), tmp_path / "local")
    remote, _, _ = search_run.run_search(_search(ray_cluster.address), tmp_path / "ray")
    expected = _records(tmp_path / "local" / "searches.jsonl")
    assert len(expected) == len(PROBLEMS)
    assert _records(tmp_path / "ray" / "searches.jsonl") == expected
    assert remote.to_dict() == local.to_dict()
