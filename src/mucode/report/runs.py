"""A search run directory read back: its settings (from the manifest) and its results."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mucode.core.errors import ConfigError
from mucode.core.manifest import MANIFEST
from mucode.search.metrics import SearchSummary, summarize
from mucode.search.run import SEARCHES, read_searches


@dataclass(frozen=True, slots=True)
class SearchRunResult:
    """One search run: what was run and how it scored."""

    path: Path
    benchmark: str
    split: str
    select: str
    n: int
    turns: int
    temperature: float
    model: str
    summary: SearchSummary
    tasks: frozenset[str]  # the problems it searched

    @property
    def upper_bound(self) -> bool:
        """Oracle selection: a ceiling, never a method."""
        return self.select == "ov"

    def one_line(self) -> str:
        """``path: benchmark select N T R: turn 1 -> final (CI); pass@1``."""
        s = self.summary
        first, last = s.accuracy_by_turn[0], s.accuracy_by_turn[-1]
        bound = " [upper bound]" if self.upper_bound else ""
        pass_1 = f"; pass@1 {s.pass_at_k[1]:.3f}" if 1 in s.pass_at_k else ""
        return (f"{self.path}: {self.benchmark}/{self.split} {self.select}{bound} N={self.n} "
                f"T={self.turns} R={s.repeats}, {s.problems} problems, {self.model}: "
                f"turn 1 {first.mean:.3f} -> turn {self.turns} {last}{pass_1}")  # fmt: skip


def _model_label(generator: dict) -> str:
    model = generator.get("model")
    return f"{generator.get('backend', '?')}:{Path(model).name if model else 'default'}"


def load_run(path: Path) -> SearchRunResult:
    """Read a ``mucode search`` run directory; a clear error for anything else."""
    path = Path(path)
    searches, manifest = path / SEARCHES, path / MANIFEST
    if not searches.exists() or not manifest.exists():
        raise ConfigError(f"{path} is not a `mucode search` run directory (needs {SEARCHES} "
                          f"and {MANIFEST})")  # fmt: skip
    config = json.loads(manifest.read_text())["config"]
    search = config["search"]
    episodes = read_searches(searches)
    if not episodes:
        raise ConfigError(f"{path}: no finished searches yet")
    return SearchRunResult(
        path=path, benchmark=config["benchmark"], split=episodes[0].split,
        select=search["select"], n=search["n"], turns=search["turns"],
        temperature=search["sampling"]["temperature"], model=_model_label(config["generator"]),
        summary=summarize(episodes, search["turns"], search["n"]),
        tasks=frozenset(e.task_id for e in episodes),
    )  # fmt: skip


def unpaired(runs: Sequence[SearchRunResult]) -> list[str]:
    """A warning per benchmark whose runs did not all search the same problems (a run
    still in progress, or different --tasks/--limit): their rows are not comparable."""
    warnings = []
    for benchmark in dict.fromkeys(r.benchmark for r in runs):
        same = [r for r in runs if r.benchmark == benchmark]
        if len({r.tasks for r in same}) > 1:
            counts = ", ".join(f"{r.path.name} {len(r.tasks)}" for r in same)
            warnings.append(f"{benchmark}: the runs searched different problems ({counts}), "
                            "so their accuracies are not a paired comparison")  # fmt: skip
    return warnings
