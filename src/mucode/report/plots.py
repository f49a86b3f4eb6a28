"""Report plots: accuracy against turn (one line per run) and against N (per method).

Both plots give a (benchmark, method) the same colour; in the turn plot, the marker tells N apart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from mucode.core.plotting import pyplot, save_png
from mucode.report.runs import SearchRunResult


def _dodge(index: int, count: int, width: float = 0.2) -> float:
    """Horizontal offset of line ``index`` of ``count``, so error bars do not overlap."""
    return (index - (count - 1) / 2) * width / max(count - 1, 1)


def _colours(runs: Sequence[SearchRunResult]) -> dict[tuple[str, str], str]:
    """One colour of matplotlib's default cycle per (benchmark, method), in sorted order."""
    keys = sorted({(run.benchmark, run.select) for run in runs})
    return {key: f"C{index % 10}" for index, key in enumerate(keys)}


def _markers(runs: Sequence[SearchRunResult]) -> dict[int, str]:
    """One marker per N, smallest N first."""
    return dict(zip(sorted({run.n for run in runs}), "osD^v<>ph*", strict=False))


def accuracy_vs_turn(runs: Sequence[SearchRunResult], path: Path) -> Path:
    """One line per run with 95% intervals as error bars, shifted apart a little."""
    plt = pyplot()
    colours, markers = _colours(runs), _markers(runs)
    figure, axes = plt.subplots(figsize=(6, 4))
    for index, run in enumerate(runs):
        points = run.summary.accuracy_by_turn
        turns = [turn + _dodge(index, len(runs)) for turn in range(1, len(points) + 1)]
        errors = [[p.mean - p.low for p in points], [p.high - p.mean for p in points]]
        style = "--" if run.upper_bound else "-"
        axes.errorbar(turns, [p.mean for p in points], yerr=errors, fmt=style, capsize=3,
                      color=colours[(run.benchmark, run.select)], marker=markers.get(run.n, "o"),
                      label=f"{run.benchmark} {run.select} N={run.n}")  # fmt: skip
    axes.set(xlabel="turn", ylabel="BoN accuracy (hidden tests)", title="accuracy vs turn",
             xticks=range(1, max(r.turns for r in runs) + 1), ylim=(-0.02, 1.02))  # fmt: skip
    axes.legend(fontsize="small")
    return save_png(figure, path)


def accuracy_vs_n(runs: Sequence[SearchRunResult], path: Path) -> Path:
    """Final-turn accuracy against N, one line per (benchmark, method), shifted apart."""
    plt = pyplot()
    lines: dict[tuple[str, str], list[SearchRunResult]] = defaultdict(list)
    for run in runs:
        lines[(run.benchmark, run.select)].append(run)
    colours = _colours(runs)
    figure, axes = plt.subplots(figsize=(6, 4))
    for index, ((benchmark, select), members) in enumerate(sorted(lines.items())):
        members.sort(key=lambda r: r.n)
        finals = [r.summary.accuracy_by_turn[-1] for r in members]
        errors = [[f.mean - f.low for f in finals], [f.high - f.mean for f in finals]]
        shift = _dodge(index, len(lines))
        axes.errorbar([r.n + shift for r in members], [f.mean for f in finals], yerr=errors,
                      marker="o", capsize=3, color=colours[(benchmark, select)],
                      label=f"{benchmark} {select}")  # fmt: skip
    axes.set(xlabel="N (candidates per turn)", ylabel="BoN accuracy after the last turn",
             title="accuracy vs N", xticks=sorted({r.n for r in runs}), ylim=(-0.02, 1.02),
             xlim=(min(r.n for r in runs) - 0.5, max(r.n for r in runs) + 0.5))  # fmt: skip
    axes.legend(fontsize="small")
    return save_png(figure, path)
