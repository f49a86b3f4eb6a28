"""Re-count a search run from its raw JSON lines, without mucode's own code.

    python bench/search_check.py RUN_DIR [RUN_DIR ...] [--paired]

An independent check of the numbers `mucode search` and `mucode report` print: per run
directory, one JSON line with the searches, the hidden-test accuracy of the kept code
after each turn (a search that stopped keeps its last code), turns used, answers and
tokens, pass@1 and pass@N of the first-turn candidates (per problem, then averaged), and
the number of stopping-rule violations (a search must stop exactly when its
kept code passes the public tests, or at the last turn), which should be 0. Compare
`accuracy_by_turn` with the run's summary.json. With `--paired`, one more line per pair
of runs: how many searches (problem, repeat) only one of the two solved after the last turn.
Searches marked `infra_error` (the sandbox failed, so nothing was judged) are left out of
every count, as `mucode search` leaves them out, and only counted (`infra_error`); in a
pair, a search left out of either run is left out of both.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
from collections import defaultdict
from pathlib import Path


def _passed(verdict: dict | None) -> bool:
    return bool(verdict) and verdict["status"] == "passed"


def _first_turn_pass_at(searches: list[dict], k: int) -> float:
    """1 - C(n - c, k) / C(n, k) per problem over its first-turn candidates, then the mean."""
    first = defaultdict(list)
    for search in searches:
        first[search["task_id"]] += search["turns"][0]["candidates"] if search["turns"] else []
    scores = []
    for candidates in first.values():
        n, c = len(candidates), sum(_passed(x["oracle"]) for x in candidates)
        scores.append(1 - math.comb(n - c, k) / math.comb(n, k) if n >= k else 0.0)
    return round(sum(scores) / len(scores), 4)


def _searches(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "searches.jsonl").open() if line.strip()]


def _key(search: dict) -> tuple[str, int]:
    return search["task_id"], search["repeat"]


def _kept(search: dict) -> list[dict]:
    """The kept candidate of each turn of one search."""
    return [turn["candidates"][turn["selected"]] for turn in search["turns"]]


def _solved_at_the_end(searches: list[dict]) -> set[tuple[str, int]]:
    """(task_id, repeat) of the searches whose last kept code passed the hidden tests."""
    return {_key(search) for search in searches
            if (kept := _kept(search)) and _passed(kept[-1]["oracle"])}  # fmt: skip


def paired(a: Path, b: Path, solved: dict[Path, set[tuple[str, int]]],
           unjudged: dict[Path, set[tuple[str, int]]]) -> dict:  # fmt: skip
    """Searches solved by only one of two runs over the same problems."""
    solved_a, solved_b = solved[a] - unjudged[b], solved[b] - unjudged[a]
    return {"a": str(a), "b": str(b), "only_a": len(solved_a - solved_b),
            "only_b": len(solved_b - solved_a), "both": len(solved_a & solved_b)}  # fmt: skip


def check(run_dir: Path, searches: list[dict]) -> dict:
    """Counts and per-turn accuracy of one search run directory and its searches."""
    config = json.loads((run_dir / "manifest.json").read_text())["config"]["search"]
    horizon = config["turns"]
    kept_by_search = [_kept(search) for search in searches]
    accuracy = []
    for t in range(horizon):
        solved = [bool(kept) and _passed(kept[min(t, len(kept) - 1)]["oracle"])
                  for kept in kept_by_search]  # fmt: skip
        accuracy.append(round(sum(solved) / len(solved), 4))
    violations = 0
    for search, kept in zip(searches, kept_by_search, strict=True):
        stops = [_passed(k["public"]) for k in kept]
        if search.get("context_full"):
            continue  # ended early by the context: no rule to check
        violations += any(stops[:-1]) or (len(kept) < horizon and not stops[-1])
    candidates = [c for search in searches for turn in search["turns"] for c in turn["candidates"]]
    return {
        "run": str(run_dir),
        "select": config["select"],
        "n": config["n"],
        "searches": len(searches),
        "problems": len({s["task_id"] for s in searches}),
        "accuracy_by_turn": accuracy,
        "mean_turns": round(sum(map(len, kept_by_search)) / len(searches), 3),
        "answers": len(candidates),
        "tokens": sum(c["completion"]["completion_tokens"] for c in candidates),
        "pass@1": _first_turn_pass_at(searches, 1),
        f"pass@{config['n']}": _first_turn_pass_at(searches, config["n"]),
        "stop_rule_violations": violations,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+", type=Path)
    parser.add_argument("--paired", action="store_true", help="compare every pair of runs")
    args = parser.parse_args()
    records = {run_dir: _searches(run_dir) for run_dir in args.run_dirs}
    searches = {d: [s for s in found if not s.get("infra_error")] for d, found in records.items()}
    unjudged = {d: {_key(s) for s in found if s.get("infra_error")} for d, found in records.items()}
    for run_dir in args.run_dirs:
        print(json.dumps({**check(run_dir, searches[run_dir]),
                          "infra_error": len(unjudged[run_dir])}))  # fmt: skip
    if args.paired:
        solved = {run_dir: _solved_at_the_end(searches[run_dir]) for run_dir in args.run_dirs}
        for a, b in itertools.combinations(args.run_dirs, 2):
            print(json.dumps(paired(a, b, solved, unjudged)))


if __name__ == "__main__":
    main()
