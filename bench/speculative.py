"""N-gram speculative decoding (prompt lookup) against none, in the embedded llama.cpp engine.

Replays committed MBPP conversations (greedy, the run's own max_tokens, fixed seeds) through
one engine per configuration: (a) turn-1 answers (the first user message) and (b) repair
turns (the conversation up to a turn >= 2 answer, evenly spaced over all of them), at each
--parallel slot count and --threads count, speculation off and then each --draft-max x
--ngram-size setting. Then the end-to-end wall time of a short multi-turn rollout (the same
problems and seeds; problems whose committed episode needed a repair) off and on.

One JSON line per configuration, then a table. Ratios are against the off run of the same
(kind, parallel, threads) in this process: tok/s = completion tokens / wall time of the batch
(prompt processing included, as a run sees it); decode = llama.cpp's own generation rate per
request (timings.predicted_*). ``identical`` counts greedy answers equal to the off run's, the
correctness check at --parallel 1 (at more slots the engine is not deterministic anyway).

    python bench/speculative.py [--requests 10] [--parallel 1,4] [--threads 1,2]
        [--draft-max 8] [--ngram-size 4] [--rollout-problems 6] [--rollout-turns 3]
        [--trajectories bench/runs/mbpp-greedy-t3/trajectories.jsonl] [--max-tokens N]
        [--model GGUF] [--out results.jsonl]

Defaults take about 20-30 minutes on 2 cores (most of it at 1 thread); run it niced only
if nothing else competes for the cores, or the numbers measure the competition.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mucode.benchmarks import load_problems
from mucode.core.records import Message, Trajectory
from mucode.generation import SamplingParams
from mucode.generation.config import LlamaCppConfig, Speculation
from mucode.generation.llamacpp import EngineStats, LlamaCppGenerator
from mucode.rollout import RolloutConfig, derive_seed, read_trajectories, run_rollouts
from mucode.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[1]
OFF = Speculation()


@dataclass(frozen=True)
class Workload:
    """The requests of one kind, answered by every configuration alike."""

    kind: str
    conversations: list[list[Message]]
    seeds: list[int]


@dataclass(frozen=True)
class Measured:
    """One configuration's answers and what they cost."""

    texts: list[str]
    tokens: int
    wall_s: float
    engine: EngineStats


def _list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trajectories", type=Path,
                        default=ROOT / "bench/runs/mbpp-greedy-t3/trajectories.jsonl")  # fmt: skip
    parser.add_argument("--requests", type=int, default=10, help="per kind (turn 1, repair)")
    parser.add_argument("--parallel", type=_list, default=[1, 4], help="slot counts, e.g. 1,4")
    parser.add_argument("--threads", type=_list, default=[1, 2], help="thread counts, e.g. 1,2")
    parser.add_argument("--draft-max", type=_list, default=[8], help="e.g. 4,8,16")
    parser.add_argument("--ngram-size", type=_list, default=[4], help="e.g. 3,4")
    parser.add_argument("--max-tokens", type=int, default=None,
                        help="cap on answers [the committed run's max_tokens]")  # fmt: skip
    parser.add_argument("--rollout-problems", type=int, default=6, help="0: no rollout")
    parser.add_argument("--rollout-turns", type=int, default=3)
    parser.add_argument("--rollout-parallel", type=int, default=4)
    parser.add_argument("--rollout-threads", type=int, default=2)
    parser.add_argument("--rollout-temperature", type=float, default=0.0)
    parser.add_argument("--model", default=None, help="GGUF [the embedded default]")
    parser.add_argument("--out", type=Path, default=None, help="also append the lines here")
    return parser.parse_args()


def settings(args: argparse.Namespace) -> list[Speculation]:
    """Off first (the baseline), then every draft-max x ngram-size llama.cpp accepts."""
    pairs = [(d, n) for d in args.draft_max for n in args.ngram_size]
    for d, n in pairs:
        if d < n:
            print(f"skipped draft-max {d} with ngram-size {n}: llama.cpp would never draft",
                  file=sys.stderr)  # fmt: skip
    return [OFF, *(Speculation(method="ngram", draft_max=d, ngram_size=n)
                   for d, n in pairs if d >= n)]  # fmt: skip


def evenly(items: Sequence[Any], count: int) -> list[Any]:
    """``count`` items spread evenly over ``items`` (all of them if there are fewer)."""
    if count >= len(items):
        return list(items)
    return [items[i * len(items) // count] for i in range(count)]


def workloads(trajectories: list[Trajectory], count: int) -> list[Workload]:
    """Turn-1 prompts and repair conversations (up to a turn >= 2 answer) from the records."""
    firsts = [t.messages[:1] for t in evenly(trajectories, count)]
    repairs = [t.messages[: 2 * turn + 1] for t in trajectories for turn in range(1, len(t.turns))]
    chosen = evenly(repairs, count)

    def seeds(kind: str, conversations: list[list[Message]]) -> list[int]:
        return [derive_seed("speculative-bench", kind, i) for i in range(len(conversations))]

    return [Workload("turn1", firsts, seeds("turn1", firsts)),
            Workload("repair", chosen, seeds("repair", chosen))]  # fmt: skip


def measure(generator: LlamaCppGenerator, work: Workload, sampling: SamplingParams) -> Measured:
    """Answer the workload in one batched call, timed."""
    before = generator.stats()
    start = time.perf_counter()
    answers = generator.generate(work.conversations, 1, sampling, work.seeds)
    wall = time.perf_counter() - start
    completions = [samples[0] for samples in answers]
    return Measured([c.text for c in completions], sum(c.completion_tokens for c in completions),
                    wall, generator.stats() - before)  # fmt: skip


def start_engine(model: str | None, parallel: int, threads: int,
                 speculative: Speculation) -> LlamaCppGenerator:  # fmt: skip
    generator = LlamaCppGenerator(LlamaCppConfig(model=model, parallel=parallel, threads=threads,
                                                 speculative=speculative))  # fmt: skip
    warm = [[Message("user", "Write a Python function that returns 1.")]] * parallel
    generator.generate(warm, 1, SamplingParams(max_tokens=16))  # page the weights in
    return generator


def setting_fields(speculative: Speculation) -> dict[str, Any]:
    return {"speculative": speculative.method, "draft_max": speculative.draft_max,
            "ngram_size": speculative.ngram_size}  # fmt: skip


def replay_line(where: dict[str, Any], run: Measured, base: Measured | None) -> dict[str, Any]:
    """The JSON line of one replay configuration, with ratios against ``base`` (off)."""
    engine = run.engine
    decode = 1000 * engine.predicted_tokens / engine.predicted_ms if engine.predicted_ms else 0.0
    line = {**where, "requests": len(run.texts), "tokens": run.tokens,
            "wall_s": round(run.wall_s, 2), "tok_s": round(run.tokens / run.wall_s, 2),
            "decode_tok_s": round(decode, 2), "prompt_tokens": engine.prompt_tokens,
            "drafted": engine.drafted, "accepted": engine.accepted}  # fmt: skip
    if base is not None:
        base_decode = 1000 * base.engine.predicted_tokens / base.engine.predicted_ms
        line["ratio_tok_s"] = round(line["tok_s"] / (base.tokens / base.wall_s), 3)
        line["ratio_decode"] = round(decode / base_decode, 3)
        line["identical"] = sum(a == b for a, b in zip(run.texts, base.texts, strict=True))
    return line


def replays(args: argparse.Namespace, work: list[Workload],
            sampling: SamplingParams) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Every (parallel, threads, setting, kind) replay, off before on."""
    for parallel in args.parallel:
        for threads in args.threads:
            baselines: dict[str, Measured] = {}
            for speculative in settings(args):
                generator = start_engine(args.model, parallel, threads, speculative)
                try:
                    for load in work:
                        run = measure(generator, load, sampling)
                        base = None if speculative == OFF else baselines[load.kind]
                        baselines.setdefault(load.kind, run)
                        where = {"kind": load.kind, "parallel": parallel, "threads": threads}
                        yield replay_line({**where, **setting_fields(speculative)}, run, base)
                finally:
                    generator.close()


def rollout_problems(args: argparse.Namespace, trajectories: list[Trajectory]) -> list[Any]:
    """Problems whose committed episode needed a repair, evenly spaced, from the run's split."""
    manifest = json.loads((args.trajectories.parent / "manifest.json").read_text())["config"]
    repaired = [t.task_id for t in trajectories if len(t.turns) >= 2]
    ids = evenly(repaired, args.rollout_problems)
    data_dir = manifest.get("data_dir")
    return load_problems(manifest["benchmark"], split=manifest.get("split"), task_ids=ids,
                         data_dir=ROOT / data_dir if data_dir else None)  # fmt: skip


def rollout_line(args: argparse.Namespace, problems: list[Any], speculative: Speculation,
                 sampling: SamplingParams) -> tuple[dict[str, Any], list[str]]:  # fmt: skip
    """One rollout of ``problems`` with ``speculative``: its line and every turn's code."""
    generator = start_engine(args.model, args.rollout_parallel, args.rollout_threads, speculative)
    config = RolloutConfig(turns=args.rollout_turns, concurrency=args.rollout_parallel,
                           sampling=sampling)  # fmt: skip
    try:
        with Sandbox() as sandbox, tempfile.TemporaryDirectory() as out:
            before = generator.stats()
            summary = run_rollouts(problems, generator, sandbox, config, Path(out))
            engine = generator.stats() - before
            done = sorted(read_trajectories(summary.path), key=lambda t: t.task_id)
    finally:
        generator.close()
    codes = [turn.code or "" for t in done for turn in t.turns]
    line = {"kind": "rollout", "parallel": args.rollout_parallel,
            "threads": args.rollout_threads, **setting_fields(speculative),
            "problems": len(problems), "turns": args.rollout_turns,
            "temperature": sampling.temperature, "answers": len(codes),
            "tokens": summary.stats.tokens, "wall_s": round(summary.wall_s, 2),
            "solved_by_turn": [round(a, 3) for a in summary.solved_by_turn],
            "drafted": engine.drafted, "accepted": engine.accepted}  # fmt: skip
    return line, codes


def rollouts(args: argparse.Namespace, trajectories: list[Trajectory],
             max_tokens: int) -> Iterator[dict[str, Any]]:  # fmt: skip
    """The end-to-end rollout, off then each setting, wall time relative to off."""
    problems = rollout_problems(args, trajectories)
    sampling = SamplingParams(temperature=args.rollout_temperature, max_tokens=max_tokens)
    base: tuple[dict[str, Any], list[str]] | None = None
    for speculative in settings(args):
        line, codes = rollout_line(args, problems, speculative, sampling)
        if base is None:
            base = (line, codes)
        else:
            line["ratio_wall"] = round(base[0]["wall_s"] / line["wall_s"], 3)
            same = sum(a == b for a, b in zip(codes, base[1], strict=False))
            line["identical_codes"] = f"{same}/{max(len(codes), len(base[1]))}"
        yield line


def table(lines: list[dict[str, Any]]) -> str:
    """The lines as one Markdown table."""
    head = ("| kind | parallel | threads | setting | tok/s | × off | decode tok/s | × off "
            "| accepted/drafted | identical | wall s |")  # fmt: skip
    rows = [head, "|" + "---|" * 11]
    for line in lines:
        setting = "off" if line["speculative"] == "off" else (
            f"ngram d{line['draft_max']} n{line['ngram_size']}")  # fmt: skip
        ratio = line.get("ratio_tok_s", line.get("ratio_wall", ""))
        identical = line.get("identical", line.get("identical_codes", ""))
        if "identical" in line:
            identical = f"{identical}/{line['requests']}"
        drafts = f"{line['accepted']}/{line['drafted']}" if line["drafted"] else ""
        cells = [line["kind"], line["parallel"], line["threads"], setting, line.get("tok_s", ""),
                 ratio, line.get("decode_tok_s", ""), line.get("ratio_decode", ""), drafts,
                 identical, line["wall_s"]]  # fmt: skip
        rows.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(rows)


def emit(line: dict[str, Any], out: Path | None) -> None:
    text = json.dumps(line)
    print(text, flush=True)
    if out is not None:
        with out.open("a", encoding="utf-8") as f:
            f.write(text + "\n")


def main() -> None:
    args = parse_args()
    trajectories = read_trajectories(args.trajectories)
    manifest = json.loads((args.trajectories.parent / "manifest.json").read_text())["config"]
    max_tokens = args.max_tokens or manifest["rollout"]["sampling"]["max_tokens"]
    sampling = SamplingParams(max_tokens=max_tokens)
    lines: list[dict[str, Any]] = []
    started = time.perf_counter()
    for line in replays(args, workloads(trajectories, args.requests), sampling):
        emit(line, args.out)
        lines.append(line)
    if args.rollout_problems:
        for line in rollouts(args, trajectories, max_tokens):
            emit(line, args.out)
            lines.append(line)
    print(table(lines))
    print(f"total {time.perf_counter() - started:.0f} s; tok/s and × off: wall time incl. prompt "
          "processing; × off for rollout: off wall / this wall")  # fmt: skip


if __name__ == "__main__":
    main()
