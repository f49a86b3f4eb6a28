"""Re-extract every stored model answer with today's `extract_code` and count what changes.

    MUCODE_DATA_DIR=/work/shared/data python bench/extraction_check.py [--runs bench/runs]

Answers: every turn of `RUNS/mbpp-*/trajectories.jsonl`, every candidate of
`RUNS/search-humaneval-*/searches.jsonl`, and every line of the answer cache
`RUNS/humaneval-answers.jsonl` (matched to its problem and stored code by recomputing the
request keys of the search runs' candidates). An extraction changes when the code
extracted now, with the problem's entry point, differs from the code stored with the
answer. The old and the new code of each changed answer are both judged now, in mucode's
sandbox, on the public + private tests, so a verdict change is the extractor's doing (the
stored verdicts came from an older sandbox). Prints each changed answer, then one JSON line
per source and a total over the runs (the cache repeats the search runs' answers).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import TypeAdapter

from mucode.benchmarks import load_problems
from mucode.core.records import Message, Problem
from mucode.env import extract_code, judge
from mucode.generation import SamplingParams
from mucode.generation.cache import request_key
from mucode.generation.config import GeneratorConfig
from mucode.runs.search import cache_namespace
from mucode.sandbox import Sandbox
from mucode.search.run import turn_seed

CACHE = "humaneval-answers.jsonl"


@dataclass(frozen=True)
class Answer:
    """One stored model answer and the code extracted from it when it was made."""

    source: str
    problem: Problem
    text: str
    old_code: str

    @property
    def new_code(self) -> str:
        return extract_code(self.text, self.problem.entry_point).code


@cache
def _problems(benchmark: str, split: str) -> dict[str, Problem]:
    return {p.task_id: p for p in load_problems(benchmark, split)}


def _problem(record: dict) -> Problem:
    return _problems(record["benchmark"], record["split"])[record["task_id"]]


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open() if line.strip()]


def trajectory_answers(run_dir: Path) -> list[Answer]:
    """Every turn of a rollout run."""
    return [Answer(run_dir.name, _problem(r), turn["completion"]["text"], turn["code"])
            for r in _records(run_dir / "trajectories.jsonl") for turn in r["turns"]]  # fmt: skip


def search_answers(run_dir: Path) -> list[Answer]:
    """Every candidate of every turn of a search run."""
    return [Answer(run_dir.name, _problem(r), c["completion"]["text"], c["code"])
            for r in _records(run_dir / "searches.jsonl")
            for turn in r["turns"] for c in turn["candidates"]]  # fmt: skip


def candidate_keys(run_dir: Path) -> dict[str, Answer]:
    """A search run's candidates by the answer-cache key of the request that made them."""
    config = json.loads((run_dir / "manifest.json").read_text())["config"]
    namespace = cache_namespace(TypeAdapter(GeneratorConfig).validate_python(config["generator"]))
    sampling = SamplingParams(**config["search"]["sampling"])
    keys = {}
    for r in _records(run_dir / "searches.jsonl"):
        conversation = [Message(**m) for m in r["messages"]]
        for t, turn in enumerate(r["turns"]):
            seed = turn_seed(sampling.seed, r["task_id"], r["repeat"], t)
            for i, c in enumerate(turn["candidates"]):
                key = request_key(namespace, conversation[: 2 * t + 1], sampling, seed + i)
                keys[key] = Answer(CACHE, _problem(r), c["completion"]["text"], c["code"])
    return keys


def cache_answers(path: Path, search_dirs: list[Path]) -> list[Answer]:
    """The cached answers, each matched to the search candidate it was."""
    keys = {k: a for run_dir in search_dirs for k, a in candidate_keys(run_dir).items()}
    rows = _records(path)
    unmatched = [row["key"] for row in rows if row["key"] not in keys]
    if unmatched:
        raise SystemExit(f"{path}: {len(unmatched)} answers match no search candidate")
    return [keys[row["key"]] for row in rows]


def verdicts(answers: list[Answer], sandbox: Sandbox) -> dict[tuple[str, str], str]:
    """Oracle status of the old and the new code of each answer, keyed by (task_id, code).

    The problems' reference solutions are judged in the same batch and must pass: if they
    do not, the sandbox itself is broken and no verdict is worth reporting.
    """
    programs = {(a.problem.task_id, code): a.problem for a in answers
                for code in (a.old_code, a.new_code, a.problem.reference_solution)}  # fmt: skip
    judged = judge([(problem, code) for (_, code), problem in programs.items()], sandbox)
    status = {key: oracle.status.value for key, (_, oracle) in zip(programs, judged, strict=True)}
    for a in answers:
        if status[a.problem.task_id, a.problem.reference_solution] != "passed":
            raise SystemExit(f"the sandbox fails {a.problem.task_id}'s reference solution")
    return status


def summary(source: str, answers: list[Answer], status: dict[tuple[str, str], str]) -> dict:
    """Answers, changed extractions and oracle verdict transitions (old -> new) of a source."""
    changed = [a for a in answers if a.new_code != a.old_code]
    moves = Counter(
        f"{status[a.problem.task_id, a.old_code]} -> {status[a.problem.task_id, a.new_code]}"
        for a in changed
    )
    flipped = sum(n for move, n in moves.items() if len(set(move.split(" -> "))) == 2)
    return {"source": source, "answers": len(answers), "changed": len(changed),
            "verdict_changed": flipped, "transitions": dict(sorted(moves.items()))}  # fmt: skip


def _first_line(code: str) -> str:
    return code.strip().splitlines()[0][:60] if code.strip() else "<no code>"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=Path("bench/runs"))
    args = parser.parse_args()
    search_dirs = sorted(args.runs.glob("search-humaneval-*/"))
    sources = {d.name: trajectory_answers(d) for d in sorted(args.runs.glob("mbpp-*/"))}
    sources |= {d.name: search_answers(d) for d in search_dirs}
    sources[CACHE] = cache_answers(args.runs / CACHE, search_dirs)
    changed = [a for answers in sources.values() for a in answers if a.new_code != a.old_code]
    with Sandbox(workers=1) as sandbox:
        status = verdicts(changed, sandbox)
    for a in changed:
        old, new = status[a.problem.task_id, a.old_code], status[a.problem.task_id, a.new_code]
        print(f"{a.source} {a.problem.task_id}: {old} -> {new}  "
              f"old {_first_line(a.old_code)!r}  new {_first_line(a.new_code)!r}")  # fmt: skip
    for source, answers in sources.items():
        print(json.dumps(summary(source, answers, status)))
    runs = [a for source, answers in sources.items() if source != CACHE for a in answers]
    print(json.dumps(summary("total (runs)", runs, status)))


if __name__ == "__main__":
    main()
