"""`mucode evaluate --ray` (a second driver joining the test's cluster) gives exactly the
local verdicts on every HumanEval reference solution and on failing samples."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mucode.benchmarks import load_problems
from mucode.evaluation.evaluate import EvaluationConfig, evaluate_samples
from mucode.sandbox import Limits
from tests.distributed.conftest import without_timings

pytest.importorskip("ray", reason="install the ray extra: pip install -e '.[ray]'")

FAILING = [
    "def {entry}(*args):\n    return None\n",  # wrong
    "import os\nos._exit(1)\n",  # crashes
    "def {entry}(*args):\n    return (\n",  # a syntax error
]


def _samples(path):
    problems = load_problems("humaneval")
    rows = [{"task_id": p.task_id, "code": p.reference_solution} for p in problems]
    for i, problem in enumerate(problems[:12]):
        rows.append({"task_id": problem.task_id,
                     "code": FAILING[i % 3].format(entry=problem.entry_point)})  # fmt: skip
    rows.append({"task_id": problems[0].task_id, "code": "while True:\n    pass\n"})  # timeout
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _results(path):
    return [without_timings(json.loads(line)) for line in path.read_text().splitlines()]


def test_evaluate_on_ray_gives_the_local_verdicts(ray_cluster, tmp_path):
    samples = _samples(tmp_path / "samples.jsonl")
    config = EvaluationConfig(benchmark="humaneval", ks=(1,), workers=2,
                              limits=Limits(timeout_s=2.0))  # fmt: skip
    local = evaluate_samples(samples, config, output=tmp_path / "local.jsonl")
    command = [sys.executable, "-m", "mucode", "evaluate", str(samples), "-b", "humaneval",
               "--k", "1", "--timeout", "2", "--ray", "auto", "--out", str(tmp_path / "ray.jsonl"),
               "--json"]  # fmt: skip
    env = {**os.environ, "RAY_ADDRESS": ray_cluster.address}  # what `auto` finds first
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    remote = json.loads(done.stdout.strip().splitlines()[-1])
    assert _results(tmp_path / "ray.jsonl") == _results(tmp_path / "local.jsonl")
    assert remote["status_counts"] == local.status_counts
    assert remote["pass@1"] == pytest.approx(local.pass_at_k[1])
    counts = local.status_counts
    assert counts["passed"] >= 160 and counts["failed"] and counts["crashed"] and counts["timeout"]
