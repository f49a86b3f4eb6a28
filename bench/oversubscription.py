"""Engine threads vs CPU-bound sandbox programs: how generation speed depends on both.

On a small CPU, llama.cpp's decode threads spin-wait for each other, so one busy core
beside a decode that wants every core can slow it down badly. This measures the embedded
model's tok/s for each engine thread count, with 0..W sandbox workers kept busy by
programs that spin until their time limit (the worst case a rollout meets: code stuck in
a loop). Each setting loads the engine afresh in its own subprocess.

    python bench/oversubscription.py [--threads 1,2] [--busy 0,1,2] [--prompts 8]
        [--max-tokens 128]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time

SPIN = "while True:\n    pass\n"


def measure(threads: int, busy: int, prompts: int, max_tokens: int) -> dict:
    """tok/s of one batched greedy call while ``busy`` sandbox workers spin."""
    from mucode.benchmarks import format_prompt, load_problems
    from mucode.core.records import Message
    from mucode.generation import SamplingParams, make_generator
    from mucode.generation.config import LlamaCppConfig
    from mucode.sandbox import Job, Limits, Sandbox

    problems = load_problems("humaneval")[:prompts]
    conversations = [[Message("user", format_prompt(p))] for p in problems]
    generator = make_generator(LlamaCppConfig(parallel=prompts, threads=threads))
    sampling = SamplingParams(max_tokens=max_tokens)
    generator.generate(conversations[:2], 1, SamplingParams(max_tokens=16))  # page weights in
    stop = threading.Event()

    def spin(sandbox: Sandbox) -> None:
        while not stop.is_set():
            sandbox.run(Job(SPIN, ("assert True",)))

    with Sandbox(workers=max(busy, 1), limits=Limits(timeout_s=2)) as sandbox:
        spinners = [threading.Thread(target=spin, args=(sandbox,)) for _ in range(busy)]
        for spinner in spinners:
            spinner.start()
        time.sleep(0.5 if busy else 0)
        start = time.perf_counter()
        answers = generator.generate(conversations, 1, sampling)
        wall = time.perf_counter() - start
        stop.set()
        for spinner in spinners:
            spinner.join()
    generator.close()
    tokens = sum(a[0].completion_tokens for a in answers)
    return {"threads": threads, "busy_workers": busy, "tokens": tokens,
            "wall_s": round(wall, 2), "tok_s": round(tokens / wall, 2)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--busy", default="0,1,2")
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--one", nargs=2, type=int, metavar=("THREADS", "BUSY"),
                        help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(*args.one, args.prompts, args.max_tokens)))
        return
    for threads in map(int, args.threads.split(",")):
        for busy in map(int, args.busy.split(",")):
            command = [sys.executable, __file__, "--one", str(threads), str(busy), "--prompts",
                       str(args.prompts), "--max-tokens", str(args.max_tokens)]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            print(done.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
