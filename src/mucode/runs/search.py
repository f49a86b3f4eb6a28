"""A search run: problems, engine, sandbox and verifier started, searches appended, summary."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import model_validator

from mucode.commands.generation_run import GenerationRun, recorded_limits
from mucode.core.manifest import write_or_check_manifest
from mucode.core.progress import progress_bar
from mucode.core.records import Problem
from mucode.generation import make_generator
from mucode.generation.cache import CachedGenerator
from mucode.generation.config import GeneratorConfig
from mucode.sandbox import open_sandbox
from mucode.sandbox.limits import limits_from_options
from mucode.search.metrics import SearchSummary, summarize
from mucode.search.run import SEARCHES, Scorer, SearchConfig, Searcher, read_searches, searches_left

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
    """What the cached answers depend on besides the request: backend, model, and the
    settings that change answers (a fine-tuned adapter and its scale, speculation). Without
    them the namespace is the plain ``backend:model`` of earlier caches."""
    name = f"{generator.backend}:{generator.model or 'default'}"
    adapter = getattr(generator, "adapter", None)
    if adapter is not None:
        scale = getattr(generator, "adapter_scale", 1.0)
        name += f"+adapter:{_weights_digest(Path(adapter))}@{scale}"
    speculative = getattr(generator, "speculative", None)
    if speculative is not None and speculative.method != "off":
        name += f"+speculative:{speculative.model_dump_json()}"
    return name


def _weights_digest(adapter: Path) -> str:
    """The adapter's weights, by content: a retrained adapter in the same place is another
    model. A hub id (no local files) stands for itself."""
    weights = (".gguf", ".safetensors", ".bin")
    found = sorted(p for p in adapter.glob("adapter*") if p.suffix in weights)
    files = [adapter] if adapter.is_file() else found
    if not files:
        return str(adapter)
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def run_search(
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
        with open_sandbox(config.workers, limits, config.ray) as sandbox:
            per_problem = recorded_limits(problems, sandbox, out)
            searcher = Searcher(generator, sandbox, config.search, scorer)
            title = f"search {config.search.select.value} {config.benchmark}"
            with progress_bar(title, searcher.stats.rates) as progress:
                searcher.run(problems, out, progress, per_problem)
    finally:
        generator.close()
    return searcher
