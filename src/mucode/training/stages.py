"""The stages of one expert iteration, each a call into the package that owns it.

Every stage resumes on its own (rollouts and searches from their JSONL, verifier and SFT
from their checkpoints, relabelling by rebuilding), so the loop only has to call them in
order. Generators of later iterations are the base model plus the newest adapter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mucode.core.errors import ConfigError
from mucode.generation.base import SamplingParams
from mucode.generation.causal_lm import EMBEDDED, resolve_causal_lm
from mucode.generation.config import GeneratorConfig, HFConfig, LlamaCppConfig, VLLMConfig
from mucode.rollout import RolloutConfig
from mucode.runs.rollout import RolloutRun, run_rollout
from mucode.runs.search import SearchRun, run_search
from mucode.search.run import SearchConfig
from mucode.search.selectors import Selection
from mucode.training.config import ProblemSet, TrainConfig
from mucode.training.relabel import build_dataset
from mucode.training.sft import fine_tune
from mucode.verifier.model import Verifier
from mucode.verifier.train import train_verifier


def generator(config: TrainConfig, finetuned: Path | None) -> GeneratorConfig:
    """The engine config for the base model, or for the base plus a fine-tuned ``finetuned``."""
    settings = config.generator  # the config checked that the backend serves what it trains
    full = finetuned is not None and config.sft.get("method") == "full"
    adapter = None if finetuned is None or full else str(finetuned)
    if settings.backend == "llamacpp":
        model = None if settings.base == EMBEDDED else settings.base
        return LlamaCppConfig(model=model, adapter=adapter, parallel=settings.parallel,
                              threads=settings.threads, context=settings.context,
                              speculative=settings.speculative)  # fmt: skip
    model = str(finetuned) if full else resolve_causal_lm(settings.base)
    if settings.backend == "hf":
        return HFConfig(model=model, adapter=adapter, batch_size=settings.parallel)
    return VLLMConfig(model=model, speculative=settings.speculative)


def rollout(config: TrainConfig, finetuned: Path | None, out: Path, seed: int) -> Path:
    """Roll the current generator out on the training problems into ``out``."""
    sampling = config.rollout
    run = RolloutRun(
        **_problems(config.problems), generator=generator(config, finetuned),
        timeout_s=config.timeout_s, workers=config.workers,
        rollout=RolloutConfig(turns=sampling.turns, samples=sampling.samples,
                              concurrency=sampling.concurrency,
                              sampling=SamplingParams(temperature=sampling.temperature,
                                                      max_tokens=sampling.max_tokens, seed=seed)),
    )  # fmt: skip
    run_rollout(run, out)
    return out


def verifier(config: TrainConfig, rollouts: tuple[Path, ...], out: Path) -> dict[str, Any]:
    """Train the verifier on ``rollouts`` into ``out``."""
    return train_verifier(config.verifier_config(rollouts), out)


def relabel(config: TrainConfig, rollouts: tuple[tuple[Path, int], ...], verifier_dir: Path,
            iteration: int, out: Path) -> dict[str, Any]:  # fmt: skip
    """Build the iteration's SFT dataset from ``(rollout dir, iteration)`` pairs with the
    expert of ``verifier_dir``."""
    relabel_config = config.relabel_config(iteration)
    scorer = Verifier.load(verifier_dir) if relabel_config.needs_verifier else None
    return build_dataset(relabel_config, rollouts, scorer, out, str(verifier_dir))


def sft(config: TrainConfig, datasets: tuple[Path, ...], start: Path | None,
        out: Path) -> dict[str, Any]:  # fmt: skip
    """Fine-tune from the base model (or, when ``start`` is given, continue that generator)."""
    base = config.generator.base if start is None else str(start)
    result = fine_tune(config.sft_config(datasets, base), out)
    if config.generator.backend == "llamacpp" and result["gguf_adapter"] is None:
        raise ConfigError(f"{out}: the adapter could not be exported to GGUF (see the warning "
                          "above), so llamacpp cannot serve it; fine-tune and serve with "
                          "generator.backend: hf")  # fmt: skip
    return result


def evaluate(config: TrainConfig, finetuned: Path | None, verifier_dir: Path,
             out: Path) -> dict[str, Any]:  # fmt: skip
    """Greedy multi-turn and Best-of-N search on every held-out problem set."""
    settings = config.evaluation
    engine = generator(config, finetuned)
    results: dict[str, Any] = {}
    for problems in settings.problems:
        name = problems.benchmark + (f"-{problems.split}" if problems.split else "")
        greedy = SearchConfig(select=Selection.PT, n=1, turns=settings.turns,
                              concurrency=settings.concurrency,
                              sampling=SamplingParams(max_tokens=settings.max_tokens,
                                                      seed=config.seed))  # fmt: skip
        best_of = SearchConfig(select=settings.select, n=settings.best_of, turns=settings.turns,
                               concurrency=settings.concurrency,
                               sampling=SamplingParams(temperature=settings.temperature,
                                                       max_tokens=settings.max_tokens,
                                                       seed=config.seed))  # fmt: skip
        runs = {"greedy": greedy, "best_of_n": best_of}
        results[name] = {
            kind: _search(config, problems, engine, search, verifier_dir, out / f"{name}-{kind}")
            for kind, search in runs.items()
        }
    return results


def _search(config: TrainConfig, problems: ProblemSet, engine: GeneratorConfig,
            search: SearchConfig, verifier_dir: Path, out: Path) -> dict[str, Any]:  # fmt: skip
    verifier_path = verifier_dir if search.select.needs_verifier else None
    run = SearchRun(**_problems(problems), generator=engine, search=search, verifier=verifier_path,
                    timeout_s=config.timeout_s, workers=config.workers)  # fmt: skip
    summary = run_search(run, out)[0]
    return {"dir": str(out), **summary.to_dict()}


def _problems(problems: ProblemSet) -> dict[str, Any]:
    return problems.model_dump(include={"benchmark", "split", "tasks", "limit", "data_dir"})
