"""What one step of `mucode verifier train` costs: seconds per step and peak memory.

Runs the real training (same config, data, backbone, collator and Trainer as the command)
for its first ``--steps`` steps, then stops; nothing is saved but the manifest. Prints, per
step, its seconds, the batch's shape (sequences x padded tokens) and the process RSS; then
the mean of the steps after the first (the first one warms up) and the peak RSS.

    nice -n 5 python bench/verifier_step_cost.py --base embedded --loss bt --batch-size 16 \\
        --max-length 384 --lora-r 16 --steps 3

With ``--lora-layers K`` only the top K layers train, on states of the layers below that a
pass over the run's inputs stores first (timed too); ``--problems N`` keeps that pass short
by training on the first N problems of the rollouts only (the step's cost does not depend
on which problems).

    nice -n 5 python bench/verifier_step_cost.py --base embedded --loss bt --batch-size 4 \
        --max-length 384 --lora-layers 4 --problems 3 --steps 3

With ``--score N`` it times scoring instead: the first N first-turn codes of the rollouts,
five per call (one search turn's candidates at N=5), with an untrained head on the same
backbone (the cost does not depend on the weights).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

from transformers import TrainerCallback

from mucode.verifier import collator as verifier_collator
from mucode.verifier import trainer as verifier_trainer
from mucode.verifier.train import VerifierTrainConfig, train_verifier

ROLLOUTS = Path("bench/runs/relabelled/mbpp-train-s4-t2")


class Enough(Exception):
    """Raised after the last measured step."""


def rss_mib(field: str = "VmRSS") -> float:
    """The process's resident memory (``VmHWM``: its peak), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


class StatePassClock:
    """Hears the state pass's progress: its seconds and inputs."""

    def __init__(self) -> None:
        self.begun, self.seconds, self.inputs = 0.0, 0.0, 0

    def __call__(self, done: int, total: int) -> None:
        if not self.begun:
            self.begun = time.perf_counter()
        else:
            self.seconds, self.inputs = time.perf_counter() - self.begun, done


class StepClock(TrainerCallback):
    """Times each training step and stops after ``steps``."""

    def __init__(self, steps: int, shapes: list) -> None:
        self.steps, self.shapes, self.seconds = steps, shapes, []
        self.started = 0.0

    def on_train_begin(self, args, state, control, **kwargs):
        print(f"model ready: RSS {rss_mib():.0f} MiB, peak so far {rss_mib('VmHWM'):.0f} MiB",
              flush=True)  # fmt: skip

    def on_step_begin(self, args, state, control, **kwargs):
        self.started = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.seconds.append(time.perf_counter() - self.started)
        shape = "x".join(map(str, self.shapes[-1])) if self.shapes else "?"
        print(f"step {state.global_step}: {self.seconds[-1]:.1f} s, batch {shape} tokens, "
              f"RSS {rss_mib():.0f} MiB", flush=True)  # fmt: skip
        if state.global_step >= self.steps:
            raise Enough


def first_problems(rollouts: Path, n: int, into: Path) -> Path:
    """A rollout directory holding the trajectories of the first ``n`` problems of ``rollouts``."""
    kept: set[str] = set()
    lines = []
    for line in (rollouts / "trajectories.jsonl").read_text().splitlines():
        task = json.loads(line)["task_id"]
        if task in kept or len(kept) < n:
            kept.add(task)
            lines.append(line)
    into.mkdir(parents=True, exist_ok=True)
    (into / "trajectories.jsonl").write_text("\n".join(lines) + "\n")
    return into


def time_scoring(config: VerifierTrainConfig, n: int) -> None:
    """Seconds per call of five candidates, as `mucode search --select lv` scores a turn."""
    import transformers

    from mucode.verifier.backbones import inspect_backbone
    from mucode.verifier.data import load_problem_codes
    from mucode.verifier.model import Verifier, load_tokenizer, prepare_model

    backbone = inspect_backbone(config.base)
    dtype = backbone.dtype(config.dtype)
    tokenizer = load_tokenizer(backbone.path)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        backbone.path, num_labels=1, dtype=dtype
    )
    layout = {"input": backbone.input_format.value, "dtype": dtype}
    verifier = Verifier(prepare_model(model, tokenizer, dtype), tokenizer, config.max_length,
                        layout)  # fmt: skip
    pairs = [(p.prompt, c.code) for p in load_problem_codes(config.rollouts) for c in p.first_turn]
    seconds = []
    for first in range(0, n, 5):
        prompts, codes = zip(*pairs[first : first + 5], strict=True)
        started = time.perf_counter()
        verifier.score_texts(prompts, codes)
        seconds.append(time.perf_counter() - started)
    print(f"{config.base} dtype {dtype}: {statistics.mean(seconds):.2f} s per 5 candidates "
          f"({len(seconds)} calls); peak RSS {rss_mib('VmHWM') / 1024:.2f} GiB")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rollouts", type=Path, default=ROLLOUTS)
    parser.add_argument("--base", default="embedded")
    parser.add_argument("--loss", default="bt")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=384)
    parser.add_argument("--lora-r", type=int, default=None)
    parser.add_argument("--lora-layers", type=int, default=None)
    parser.add_argument("--problems", type=int, default=0, help="train on the first N problems")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--gradient-checkpointing", action=argparse.BooleanOptionalAction)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--score", type=int, default=0, help="time scoring N codes instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="step-cost-") as scratch:
        measure(args, Path(scratch))


def measure(args: argparse.Namespace, scratch: Path) -> None:
    """Time the steps (or scoring) ``args`` ask for, working in ``scratch``."""
    rollouts = args.rollouts
    if args.problems:
        rollouts = first_problems(args.rollouts, args.problems, scratch / "rollouts")
    config = VerifierTrainConfig(
        rollouts=(rollouts,), base=args.base, loss=args.loss, batch_size=args.batch_size,
        lora_layers=args.lora_layers,
        max_length=args.max_length, lora_r=args.lora_r, dtype=args.dtype,
        gradient_checkpointing=args.gradient_checkpointing, validation_fraction=0,
        learning_rate=1e-4, seed=0,
    )  # fmt: skip
    if args.score:
        time_scoring(config, args.score)
        return
    shapes: list = []
    collate = verifier_collator.VerifierCollator.__call__

    def recording(self, examples):
        batch = collate(self, examples)
        shapes.append(tuple(batch["input_ids"].shape))
        return batch

    verifier_collator.VerifierCollator.__call__ = recording
    clock = StepClock(args.steps, shapes)
    original_init = verifier_trainer.VerifierTrainer.__init__

    def with_clock(self, *a, **kw):
        original_init(self, *a, **kw)
        self.add_callback(clock)

    verifier_trainer.VerifierTrainer.__init__ = with_clock
    started = time.perf_counter()
    progress = StatePassClock()
    with contextlib.suppress(Enough):
        train_verifier(config, scratch / "out", progress)
    if progress.seconds:
        print(f"state pass: {progress.seconds / progress.inputs:.1f} s per input "
              f"({progress.inputs} inputs)")  # fmt: skip
    later = clock.seconds[1:] or clock.seconds
    print(f"{args.base} {args.loss} batch {args.batch_size} x {args.max_length} lora_r "
          f"{args.lora_r} lora_layers {args.lora_layers} dtype {args.dtype} gradient checkpointing "
          f"{args.gradient_checkpointing}: {statistics.mean(later):.1f} s/step after the "
          f"first ({clock.seconds[0]:.1f} s); peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2:.2f} GiB; "
          f"{time.perf_counter() - started:.0f} s in all")  # fmt: skip


if __name__ == "__main__":
    main()
