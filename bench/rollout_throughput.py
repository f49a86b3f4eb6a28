"""Rollout pipeline throughput as a ratio of the raw engine's, on the same prompts.

Both use one loaded llama.cpp engine (the embedded default model, greedy, same seeds):
(a) the engine answers the turn-1 prompts of K problems in one batched call; (b) the
rollout pipeline runs the same K problems for one turn (prompting, code extraction,
sandbox runs on public and hidden tests, JSONL writes). Ratio = (b) tok/s / (a) tok/s.

    python bench/rollout_throughput.py [--problems 16] [--parallel 4] [--max-tokens 400]
        [--threads N] [--workers N] [--pipeline-only]

``--threads`` (engine) and ``--workers`` (sandbox) size the two together; with
``--pipeline-only`` only the pipeline runs, to compare sizings with each other.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from mucode.benchmarks import format_prompt, load_problems
from mucode.core.records import Message
from mucode.generation import SamplingParams, make_generator
from mucode.generation.config import LlamaCppConfig
from mucode.rollout import RolloutConfig, episode_seed, run_rollouts
from mucode.sandbox import Sandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=16)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=400)
    parser.add_argument("--threads", type=int, default=None, help="engine threads [all cores]")
    parser.add_argument("--workers", type=int, default=None, help="sandbox workers [all cores]")
    parser.add_argument("--pipeline-only", action="store_true")
    args = parser.parse_args()
    problems = load_problems("humaneval")[: args.problems]
    sampling = SamplingParams(max_tokens=args.max_tokens)
    generator = make_generator(LlamaCppConfig(parallel=args.parallel, threads=args.threads))
    prompts = [[Message("user", format_prompt(p))] for p in problems]
    seeds = [episode_seed(sampling.seed, p.task_id, 0, 0) for p in problems]
    generator.generate(prompts[:4], 1, SamplingParams(max_tokens=64))  # page the weights in

    def engine_rate() -> tuple[int, float]:
        start = time.perf_counter()
        raw = generator.generate(prompts, 1, sampling, seeds)
        return sum(c[0].completion_tokens for c in raw), time.perf_counter() - start

    config = RolloutConfig(turns=1, concurrency=args.parallel, sampling=sampling)
    sizing = {"threads": args.threads or "all", "workers": args.workers or "all"}
    if args.pipeline_only:
        with Sandbox(workers=args.workers) as sandbox, tempfile.TemporaryDirectory() as out:
            summary = run_rollouts(problems, generator, sandbox, config, Path(out))
        generator.close()
        print(json.dumps({**sizing, "tokens": summary.stats.tokens,
                          "wall_s": round(summary.wall_s, 2),
                          "tok_s": round(summary.tokens_per_s, 2)}))  # fmt: skip
        return
    raw_tokens, before_s = engine_rate()
    with Sandbox(workers=args.workers) as sandbox, tempfile.TemporaryDirectory() as out:
        summary = run_rollouts(problems, generator, sandbox, config, Path(out))
    _, after_s = engine_rate()  # the engine alone again, after the pipeline: no order bias
    generator.close()
    raw_s = min(before_s, after_s)
    raw_rate, pipe_rate = raw_tokens / raw_s, summary.tokens_per_s
    print(json.dumps({
        "problems": len(problems), "parallel": args.parallel,
        "engine": {"tokens": raw_tokens, "wall_s": [round(before_s, 2), round(after_s, 2)],
                   "tok_s": round(raw_rate, 2)},
        "pipeline": {"tokens": summary.stats.tokens, "wall_s": round(summary.wall_s, 2),
                     "tok_s": round(pipe_rate, 2)},
        "ratio": round(pipe_rate / raw_rate, 3),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
