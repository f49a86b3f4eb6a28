"""The command line, driven through typer's CliRunner (and once as a real process)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from mucode.cli import app

runner = CliRunner()


def test_help_lists_the_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("evaluate", "benchmarks", "sandbox"):
        assert command in result.output


def test_benchmarks_list_names_every_benchmark():
    result = runner.invoke(app, ["benchmarks", "list"])
    assert result.exit_code == 0
    for name in ("humaneval", "mbpp", "mbpp-sanitized", "mbpp-plus-snapshot"):
        assert name in result.output


def test_benchmarks_show_prints_the_problem_as_json(shared_data_dir):
    result = runner.invoke(
        app, ["benchmarks", "show", "Mbpp/11", "--data-dir", str(shared_data_dir), "--json"]
    )
    assert result.exit_code == 0, result.output
    problem = json.loads(result.output.strip().splitlines()[-1])
    assert problem["task_id"] == "Mbpp/11" and len(problem["public_tests"]) == 1


def test_sandbox_info_reports_layers():
    result = runner.invoke(app, ["sandbox", "info", "--json"])
    assert result.exit_code == 0
    info = json.loads(result.output.strip().splitlines()[-1])
    assert any("rlimits" in layer for layer in info["layers"])


@pytest.mark.parametrize(
    ("body", "status", "code"), [("a + b", "passed", 0), ("a - b", "failed", 1)]
)
def test_sandbox_run_prints_the_verdict_and_exits_accordingly(tmp_path, body, status, code):
    program = tmp_path / "add.py"
    program.write_text(f"def add(a, b):\n    return {body}\n")
    tests = tmp_path / "test_add.py"
    tests.write_text("assert add(1, 2) == 3\nassert add(0, 0) == 0\n")
    result = runner.invoke(
        app, ["sandbox", "run", "--code", str(program), "--test", str(tests), "--json"]
    )
    assert result.exit_code == code
    verdict = json.loads(result.output.strip().splitlines()[-1])
    assert verdict["status"] == status and verdict["tests_total"] == 2


def test_evaluate_reference_humaneval_gives_pass_at_1_of_one(tmp_path):
    out = tmp_path / "results.jsonl"
    cmd = [sys.executable, "-m", "mucode", "evaluate", "--samples", "reference", "-b",
           "humaneval", "--k", "1", "--out", str(out), "--json"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["pass@1"] == 1.0 and summary["n_tasks"] == 164
    assert sum(1 for _ in out.open()) == 164


def test_conflicting_sample_sources_are_rejected(tmp_path):
    samples = tmp_path / "s.jsonl"
    samples.write_text('{"task_id": "HumanEval/0", "completion": "    return True\\n"}\n')
    done = subprocess.run(
        [sys.executable, "-m", "mucode", "evaluate", str(samples), "--samples", "reference"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "not both" in done.stderr


def test_bad_k_gives_a_readable_error():
    done = subprocess.run(
        [sys.executable, "-m", "mucode", "evaluate", "--samples", "reference", "--k", "1,x"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "invalid evaluate options: ks" in done.stderr and "pydantic" not in done.stderr


def test_infra_errors_option_is_validated():
    result = runner.invoke(app, ["evaluate", "--samples", "reference", "--infra-errors", "ignore"])
    assert result.exit_code != 0
