"""Body of ``mucode search``: options -> config (run by ``mucode.runs.search``) -> table."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from mucode.commands import context_full_warning, infra_error_warning, invalid_options
from mucode.core.terminal import fitted_table
from mucode.generation.cache import CachedGenerator
from mucode.runs.search import SUMMARY, SearchRun
from mucode.search.metrics import SearchSummary
from mucode.search.run import SEARCHES, SearchConfig, Searcher


def build_run(**options: object) -> SearchRun:
    """Validate options; errors name the option."""
    try:
        return SearchRun(**options)
    except ValidationError as e:
        raise invalid_options("search", e) from e


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
