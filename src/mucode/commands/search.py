"""Body of ``mucode search``: options -> configs -> Searcher.run -> summary table."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError, model_validator
from rich.console import Console
from rich.table import Table

from mucode.commands import context_full_warning, infra_error_warning, invalid_options
from mucode.commands.generation_run import GenerationRun, recorded_limits
from mucode.generation import make_generator
from mucode.generation.cache import CachedGenerator
from mucode.generation.config import GeneratorConfig
from mucode.manifest import write_or_check_manifest
from mucode.progress import progress_bar
from mucode.records import Problem
from mucode.sandbox import Sandbox
from mucode.sandbox.limits import limits_from_options
from mucode.search.metrics import SearchSummary, summarize
from mucode.search.run import (
    SEARCHES,
    Scorer,
    SearchConfig,
    Searcher,
    read_searches,
    searches_left,
)
from mucode.terminal import fitted_table

SUMMARY = "summary.json"


class SearchRun(GenerationRun):
    """Everything that defines a search run; stored in its manifest."""

    search: SearchConfig
    verifier: Path | None = None

    @model_validator(mode="after")
    def _verifier_when_needed(self) -> SearchRun:
        if self.search.select.needs_verifier and self.verifier is None:
            raise ValueError(f"--select {self.search.select.value} needs --verifier DIR")
        return self


def build_run(**options: object) -> SearchRun:
    """Validate options; errors name the option."""
    try:
        return SearchRun(**options)
    except ValidationError as e:
        raise invalid_options("search", e) from e


def verifier_scorer(path: Path) -> Scorer:
    """Scores from a saved verifier, one call at a time on one CPU thread, so scoring
    does not oversubscribe the cores the engine's threads are spinning on."""
    import torch

    from mucode.verifier.model import Verifier

    verifier = Verifier.load(path)
    if verifier.model.device.type == "cpu":
        torch.set_num_threads(1)
    lock = threading.Lock()

    def score(problem: Problem, codes: Sequence[str]) -> list[float]:
        with lock:
            return verifier.score([problem] * len(codes), codes)

    return score


def cache_namespace(generator: GeneratorConfig) -> str:
    """What the cached answers depend on besides the request: backend and model."""
    return f"{generator.backend}:{generator.model or 'default'}"


def run(
    config: SearchRun, out: Path, cache: Path | None = None
) -> tuple[SearchSummary, Searcher | None, float]:
    """Resolve problems, check the manifest, start engine, sandbox and verifier, search.

    With ``cache``, answers are looked up in (and added to) that file first. A run with
    nothing left to do starts nothing and returns no searcher.
    """
    problems = config.problems()
    left = searches_left(problems, config.search.repeats, out)
    write_or_check_manifest(out, config, work_left=left > 0)
    searcher = None
    started = time.perf_counter()
    if left:
        searcher = _search(config, problems, out, cache)
    summary = summarize(read_searches(out / SEARCHES), config.search.turns, config.search.n)
    (out / SUMMARY).write_text(json.dumps(summary.to_dict(), indent=2) + "\n")
    return summary, searcher, time.perf_counter() - started


def _search(config: SearchRun, problems: list[Problem], out: Path, cache: Path | None) -> Searcher:
    scorer = verifier_scorer(config.verifier) if config.verifier is not None else None
    generator = make_generator(config.generator)
    if cache is not None:
        generator = CachedGenerator(generator, cache, cache_namespace(config.generator))
    limits = limits_from_options(timeout_s=config.timeout_s)
    try:
        with Sandbox(workers=config.workers, limits=limits) as sandbox:
            per_problem = recorded_limits(problems, sandbox, out)
            searcher = Searcher(generator, sandbox, config.search, scorer)
            title = f"search {config.search.select.value} {config.benchmark}"
            with progress_bar(title, searcher.stats.rates) as progress:
                searcher.run(problems, out, progress, per_problem)
    finally:
        generator.close()
    return searcher


def summary_table(summary: SearchSummary, config: SearchConfig) -> Table:
    """Accuracy per turn with its 95% interval."""
    bound = "oracle selection: an upper bound, not a method" if config.select.upper_bound else None
    table = fitted_table(f"search {config.select.value}, N={config.n}: {summary.problems} "
                         f"problems × {summary.repeats} repeats", caption=bound)  # fmt: skip
    table.add_column("turn")
    table.add_column("BoN accuracy (hidden tests), mean ± 95% CI")
    for turn, accuracy in enumerate(summary.accuracy_by_turn, start=1):
        table.add_row(str(turn), str(accuracy))
    return table


def print_summary(console: Console, summary: SearchSummary, config: SearchConfig,
                  searcher: Searcher | None, wall_s: float, out: Path) -> None:  # fmt: skip
    """Table, pass@k of the first-turn candidates, per-repeat accuracy, throughput."""
    console.print(summary_table(summary, config))
    pass_k = ", ".join(f"pass@{k} {v:.3f}" for k, v in summary.pass_at_k.items())
    repeats = ", ".join(f"{a:.3f}" for a in summary.repeat_accuracy)
    console.print(f"first-turn candidates: {pass_k}; final accuracy per repeat: {repeats}",
                  highlight=False, soft_wrap=True)  # fmt: skip
    if searcher is None:
        console.print(f"nothing left to run: {out} was complete", highlight=False, soft_wrap=True)
    else:
        _print_work(console, searcher, wall_s)
    if summary.context_full:
        console.print(context_full_warning(summary.context_full, "search(es)"), soft_wrap=True)
    if summary.infra_error:
        console.print(infra_error_warning(summary.infra_error, "search(es)"), soft_wrap=True)
    console.print(f"searches: {out / SEARCHES}; summary: {out / SUMMARY}", highlight=False,
                  soft_wrap=True)  # fmt: skip


def _print_work(console: Console, searcher: Searcher, wall_s: float) -> None:
    stats, generator = searcher.stats, searcher.generator
    fresh = generator.generated_tokens if isinstance(generator, CachedGenerator) else stats.tokens
    console.print(f"generated {fresh} tokens ({fresh / wall_s if wall_s else 0:.1f} tok/s), ran "
                  f"{stats.programs} programs; wall {wall_s:.1f} s", highlight=False,
                  soft_wrap=True)  # fmt: skip
    if isinstance(generator, CachedGenerator):
        console.print(f"answer cache {generator.path}: {generator.hits} answers reused, "
                      f"{generator.misses} generated", highlight=False, soft_wrap=True)  # fmt: skip
