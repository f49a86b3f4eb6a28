"""Programs/s of `evaluate`'s sandbox through Ray against the local pool, in one script.

Judges the MBPP reference solutions (setup code and every test; Mbpp/123, whose reference
alone needs ~6.5 s of CPU, left out) with:

- ``local``: the local pool, ``--workers`` workers;
- ``ray-1``: a one-node Ray cluster started on this machine (``ray.cluster_utils``) with
  ``--workers`` CPUs, so one sandbox actor with as many workers;
- ``ray-N``: ``--nodes`` nodes on this machine, sharing the same CPUs (one each when there
  are as many CPUs as nodes), so Ray's per-node overhead shows.

Each measurement runs in a fresh interpreter; the modes alternate ``--repeats`` times and
medians are reported. Timed: ``run_many`` over every program (what `evaluate` spends per
program once running); reported apart: starting the pool or cluster and its actors. Every
mode must give the same verdicts. The local mode also reports CPU-ms per program (driver,
workers and programs, from ``getrusage``): the unit cost of the capacity plan.

    python bench/ray_throughput.py --data-dir ../shared/data [--split test] [--repeats 3]
        [--workers 2] [--nodes 2] [--copies 1] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

SLOW_TASK = "Mbpp/123"


def _jobs(args: argparse.Namespace) -> tuple[list[str], list]:
    from mucode.benchmarks import load_problems
    from mucode.sandbox import Job

    problems = [p for p in load_problems("mbpp", split=args.split, data_dir=args.data_dir)
                if p.task_id != SLOW_TASK][: args.limit or None] * args.copies  # fmt: skip
    jobs = [Job(p.reference_solution, p.all_tests, p.setup_code) for p in problems]
    return [p.task_id for p in problems], jobs


def _cpu_s() -> float:
    mine = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def measure_local(args: argparse.Namespace) -> dict:
    from mucode.sandbox import Limits, Sandbox

    ids, jobs = _jobs(args)
    cpu, start = _cpu_s(), time.perf_counter()
    with Sandbox(workers=args.workers, limits=Limits(timeout_s=args.timeout)) as sandbox:
        ready = time.perf_counter()
        verdicts = sandbox.run_many(jobs)
        done = time.perf_counter()
    cpu = _cpu_s() - cpu  # the workers were waited for on close, so their CPU is counted
    return {"start_s": ready - start, "run_s": done - ready, "cpu_ms_per_program":
            1000 * cpu / len(jobs), "passed": [v.passed for v in verdicts], "ids": ids}  # fmt: skip


def measure_ray(args: argparse.Namespace, nodes: int) -> dict:
    import ray
    from ray.cluster_utils import Cluster

    from mucode.distributed.sandbox import RaySandbox
    from mucode.sandbox import Limits

    ids, jobs = _jobs(args)
    cpus = max(1, args.workers // nodes)
    start = time.perf_counter()
    cluster = Cluster(initialize_head=True,
                      head_node_args={"num_cpus": cpus, "include_dashboard": False})  # fmt: skip
    try:
        for _ in range(nodes - 1):
            cluster.add_node(num_cpus=cpus)
        cluster.wait_for_nodes()
        with RaySandbox(cluster.address, limits=Limits(timeout_s=args.timeout)) as sandbox:
            ready = time.perf_counter()
            verdicts = sandbox.run_many(jobs)
            done = time.perf_counter()
            workers = sandbox.info.workers
    finally:
        ray.shutdown()
        cluster.shutdown()
    return {"start_s": ready - start, "run_s": done - ready, "workers": workers,
            "passed": [v.passed for v in verdicts], "ids": ids}  # fmt: skip


def _in_subprocess(args: argparse.Namespace, mode: str) -> dict:
    cmd = [sys.executable, __file__, "--data-dir", str(args.data_dir), "--split", args.split,
           "--timeout", str(args.timeout), "--workers", str(args.workers),
           "--nodes", str(args.nodes), "--copies", str(args.copies), "--limit", str(args.limit),
           "--measure", mode]  # fmt: skip
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(args: argparse.Namespace) -> dict:
    """Alternate the modes ``args.repeats`` times; medians, ratios against local."""
    modes = ["local", "ray-1", f"ray-{args.nodes}"]
    runs: dict[str, list[dict]] = {mode: [] for mode in modes}
    for _ in range(args.repeats):
        for mode in modes:
            runs[mode].append(_in_subprocess(args, mode))
    programs = len(runs["local"][0]["passed"])
    summary: dict = {"programs": programs, "workers": args.workers, "split": args.split}
    local_rate = programs / statistics.median(r["run_s"] for r in runs["local"])
    for mode, results in runs.items():
        rate = programs / statistics.median(r["run_s"] for r in results)
        summary[mode] = {
            "programs_per_s": round(rate, 1), "ratio_to_local": round(rate / local_rate, 3),
            "run_s": [round(r["run_s"], 2) for r in results],
            "start_s": round(statistics.median(r["start_s"] for r in results), 2),
            "passed": sum(results[-1]["passed"]),
            "verdicts_differ_from_local": sum(
                a != b for r in results for a, b in zip(r["passed"], runs["local"][0]["passed"],
                                                          strict=True)),
        }  # fmt: skip
    summary["local"]["cpu_ms_per_program"] = round(
        statistics.median(r["cpu_ms_per_program"] for r in runs["local"]), 1
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--nodes", type=int, default=2, help="nodes of the multi-node mode")
    parser.add_argument("--copies", type=int, default=1, help="judge every program this often")
    parser.add_argument("--limit", type=int, default=0, help="first N programs (0: all)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure == "local":
        result = measure_local(args)
    elif args.measure:
        result = measure_ray(args, int(args.measure.removeprefix("ray-")))
    else:
        result = compare(args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
