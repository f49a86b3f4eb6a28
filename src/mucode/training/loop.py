"""Expert iteration (the paper's Algorithm 1) as one resumable run directory.

Per iteration i: roll out the current generator on the training problems; train the
verifier on every rollout so far; relabel rollouts with the local search expert (all so
far, or only the newest, per ``schedule``); fine-tune from the base model (or continue the
previous adapter); evaluate the new generator on the held-out problems. The base model is
evaluated once first. Layout::

    RUN/manifest.json  stages.json  metrics.json
    RUN/base/eval/...
    RUN/iter-0/{rollouts,verifier,sft-data,generator,eval}/

``stages.json`` records each finished stage with its time; a killed run started again
skips those and resumes the interrupted stage where that stage's own files say it stopped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from mucode.core.files import write_json_atomically
from mucode.core.manifest import write_or_check_manifest
from mucode.training import stages
from mucode.training.config import TrainConfig
from mucode.training.metrics import iteration_metrics, write_metrics

STAGES = "stages.json"


@dataclass
class StageLog:
    """Which stages of a run have finished, and how long each took."""

    path: Path
    done: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, run_dir: Path) -> StageLog:
        """The run's log (empty for a new run)."""
        path = run_dir / STAGES
        return cls(path, json.loads(path.read_text()) if path.exists() else {})

    def run(self, name: str, work: Callable[[], Any], announce: Callable[[str], None]) -> Any:
        """``work()`` unless ``name`` finished before; its result is kept in the log."""
        if name in self.done:
            return self.done[name]["result"]
        announce(name)
        started = time.perf_counter()
        result = work()
        self.done[name] = {"seconds": round(time.perf_counter() - started, 1), "result": result}
        write_json_atomically(self.path, self.done, default=str)
        return result

    def seconds(self, prefix: str) -> dict[str, float]:
        """Time of each finished stage whose name starts with ``prefix``."""
        return {name.removeprefix(prefix): entry["seconds"] for name, entry in self.done.items()
                if name.startswith(prefix)}  # fmt: skip


def run_training(config: TrainConfig, out: Path,
                 announce: Callable[[str], None] = lambda _: None) -> dict[str, Any]:  # fmt: skip
    """Run (or resume) every iteration into ``out``; return the metrics."""
    out = Path(out)
    write_or_check_manifest(out, config)
    log = StageLog.load(out)
    sources: list[tuple[Path, int]] = []  # (rollout dir, iteration), oldest first
    datasets: list[Path] = []  # each iteration's SFT dataset
    finetuned: Path | None = None
    rows: list[dict[str, Any]] = []
    base_eval: dict[str, Any] | None = None
    for i in range(config.iterations):
        it, step = out / f"iter-{i}", f"iter-{i}/"
        if i == 0 and config.initial_rollouts:
            newest = [(Path(p), 0) for p in config.initial_rollouts]
        else:
            made = log.run(step + "rollout", partial(_rollout, config, finetuned, it, i), announce)
            newest = [(Path(made), i)]
        sources += newest
        data = tuple(sources) if config.schedule.aggregate == "all" else tuple(newest)
        verifier_dir = it / "verifier"
        log.run(step + "verifier", partial(stages.verifier, config, tuple(p for p, _ in sources),
                                           verifier_dir), announce)  # fmt: skip
        if i == 0 and config.evaluation.problems and config.evaluation.base:
            base_eval = log.run("base/eval", partial(stages.evaluate, config, None, verifier_dir,
                                                     out / "base" / "eval"), announce)  # fmt: skip
        relabelled = log.run(step + "relabel", partial(stages.relabel, config, data, verifier_dir,
                                                       i, it / "sft-data"), announce)  # fmt: skip
        datasets.append(it / "sft-data")
        train_on = tuple(datasets) if config.schedule.aggregate == "accumulate" else datasets[-1:]
        start = finetuned if config.schedule.finetune_from == "previous" else None
        tuned = log.run(step + "sft", partial(stages.sft, config, tuple(train_on), start,
                                              it / "generator"), announce)  # fmt: skip
        finetuned = it / "generator"
        evaluation = None
        if config.evaluation.problems:
            evaluate = partial(stages.evaluate, config, finetuned, verifier_dir, it / "eval")
            evaluation = log.run(step + "eval", evaluate, announce)
        rows.append(iteration_metrics(i, [p for p, _ in newest], relabelled, tuned, evaluation,
                                      log.seconds(step)))  # fmt: skip
        write_metrics(out, base_eval, rows)
    return write_metrics(out, base_eval, rows)


def _rollout(config: TrainConfig, finetuned: Path | None, it: Path, iteration: int) -> str:
    return str(stages.rollout(config, finetuned, it / "rollouts", config.seed + iteration))
