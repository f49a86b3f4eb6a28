"""Sampled accuracy with and without n-gram speculation, on the same problems and seeds.

With sampling, speculation changes which tokens are drawn (the draft check consumes the
random stream differently), so answers differ from the run without it; what must not
change is the accuracy. This script runs `mucode rollout` twice on the same MBPP-test
problems, seeds and settings, `--speculative off` and `--speculative ngram`, then reads
both trajectories files (without mucode's own code) and prints, per run, hidden-test
accuracy after each turn with a 95% interval, tokens and wall time, and for the pair the
trajectories only one of the two solved and the accuracy difference with a 95% bootstrap
interval over problems (resampling problems keeps a problem's samples together).

    python bench/speculative_sampled.py [--limit 40] [--samples 2] [--turns 3]
        [--temperature 0.7] [--seed 0] [--out bench/runs/speculative-sampled]
    python bench/speculative_sampled.py --pool DIR [DIR ...]   # several seeds' runs, pooled

Each rollout resumes where it stopped if interrupted. About 40 minutes on 2 cores. With the
same seed, both arms draw the same random numbers token by token (llama.cpp checks a draft
by sampling each drafted position with the request's own sampler), so answers agree until
the batched check's rounding flips a near-tie: the pair is strongly paired.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ARMS = ("off", "ngram")


def _rollout(arm: str, out: Path, args: argparse.Namespace) -> float:
    """Run (or resume) one arm's rollout; return its wall time in seconds."""
    command = [
        "mucode", "rollout", "-b", "mbpp", "--split", "test", "--limit", str(args.limit),
        "--samples", str(args.samples), "--turns", str(args.turns),
        "--temperature", str(args.temperature), "--seed", str(args.seed),
        "--speculative", arm, "--out", str(out),
    ]
    if data_dir := os.environ.get("MUCODE_DATA_DIR"):
        command += ["--data-dir", data_dir]
    print("+", " ".join(command), flush=True)
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start


def _solved_by_turn(path: Path, turns: int) -> dict[tuple[str, int], list[bool]]:
    """(task, sample) -> solved after each turn (a stopped trajectory keeps its last verdict)."""
    solved = {}
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if row.get("infra_error"):
            continue
        flags = [turn["oracle"]["status"] == "passed" for turn in row["turns"]]
        flags += [flags[-1]] * (turns - len(flags))
        solved[(row["task_id"], row["sample_index"])] = flags
    return solved


def _tokens(path: Path) -> int:
    return sum(turn["completion"]["completion_tokens"]
               for line in path.read_text().splitlines()
               for turn in json.loads(line)["turns"])


def _wilson(k: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of k successes in n."""
    z = 1.96
    centre = (k + z * z / 2) / (n + z * z)
    half = z * math.sqrt(k * (n - k) / n + z * z / 4) / (n + z * z)
    return centre - half, centre + half


def _mcnemar_p(only_a: int, only_b: int) -> float:
    """Exact two-sided McNemar p-value of the discordant pairs (trajectories as independent)."""
    n = only_a + only_b
    tail = sum(math.comb(n, i) for i in range(min(only_a, only_b) + 1)) / 2**n
    return min(1.0, 2 * tail)


def _bootstrap_difference(a: dict, b: dict, keys: list, draws: int = 10_000) -> tuple[float, float]:
    """95% percentile interval of accuracy(b) - accuracy(a), resampling problems (a
    problem's samples in every pooled run stay together)."""
    by_task = defaultdict(list)
    for key in keys:
        by_task[key[1]].append(key)
    tasks = sorted(by_task)
    rng = random.Random(0)
    differences = []
    for _ in range(draws):
        picked = [key for task in rng.choices(tasks, k=len(tasks)) for key in by_task[task]]
        differences.append(sum(b[k][-1] - a[k][-1] for k in picked) / len(picked))
    differences.sort()
    return differences[int(0.025 * draws)], differences[int(0.975 * draws) - 1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("bench/runs/speculative-sampled"))
    parser.add_argument("--pool", type=Path, nargs="+", help="report these runs, pooled")
    args = parser.parse_args(argv)

    runs = {arm: {"solved": {}, "tokens": 0, "seconds": 0.0} for arm in ARMS}
    for out in args.pool or [args.out]:
        for arm in ARMS:
            seconds = 0.0 if args.pool else _rollout(arm, out / arm, args)
            path = out / arm / "trajectories.jsonl"
            solved = _solved_by_turn(path, args.turns)  # keys carry the run: seeds differ
            runs[arm]["solved"].update({(str(out), *key): flags for key, flags in solved.items()})
            runs[arm]["tokens"] += _tokens(path)
            runs[arm]["seconds"] += seconds
    keys = sorted(set(runs["off"]["solved"]) & set(runs["ngram"]["solved"]))
    for arm in ARMS:
        solved = runs[arm]["solved"]
        by_turn = []
        for turn in range(args.turns):
            k = sum(solved[key][turn] for key in keys)
            low, high = _wilson(k, len(keys))
            by_turn.append({"turn": turn + 1, "accuracy": round(k / len(keys), 3),
                            "ci95": [round(low, 3), round(high, 3)]})
        print(json.dumps({"arm": arm, "trajectories": len(keys), "accuracy_by_turn": by_turn,
                          "completion_tokens": runs[arm]["tokens"],
                          "wall_s_this_call": round(runs[arm]["seconds"], 1)}))
    off, ngram = runs["off"]["solved"], runs["ngram"]["solved"]
    low, high = _bootstrap_difference(off, ngram, keys)
    only_off = sum(off[k][-1] and not ngram[k][-1] for k in keys)
    only_ngram = sum(ngram[k][-1] and not off[k][-1] for k in keys)
    print(json.dumps({
        "pair": "ngram - off", "trajectories": len(keys),
        "only_off_solved": only_off, "only_ngram_solved": only_ngram,
        "mcnemar_p": round(_mcnemar_p(only_off, only_ngram), 3),
        "difference_last_turn": round(sum(ngram[k][-1] - off[k][-1] for k in keys) / len(keys), 3),
        "difference_ci95": [round(low, 3), round(high, 3)],
    }))


if __name__ == "__main__":
    sys.exit(main())
