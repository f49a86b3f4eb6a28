"""Paper-style tables: selection method × benchmark × N, as markdown and as rich tables.

One table for the accuracy after the last turn (multi-turn BoN, the paper's main
comparison) and one for turn 1 (single-turn BoN). Oracle selection sits below the
methods, marked as an upper bound.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.table import Table

from mucode.core.errors import ConfigError
from mucode.core.terminal import fitted_table
from mucode.report.runs import SearchRunResult
from mucode.search.metrics import MeanCI

METHOD_ORDER = ("rand", "pt", "lv", "pt+lv", "ov")


@dataclass(frozen=True, slots=True)
class Grid:
    """Rows (methods), columns (benchmark, N), and cells."""

    title: str
    rows: tuple[str, ...]
    columns: tuple[tuple[str, int], ...]
    cells: dict[tuple[str, tuple[str, int]], MeanCI]


def _method_rank(select: str) -> int:
    return METHOD_ORDER.index(select) if select in METHOD_ORDER else len(METHOD_ORDER)


def _row_label(run: SearchRunResult, runs: Sequence[SearchRunResult]) -> str:
    label = f"{run.select} (oracle, upper bound)" if run.upper_bound else run.select
    if len({r.model for r in runs}) > 1:
        label += f" · {run.model}"
    if len({r.turns for r in runs}) > 1:
        label += f" · T={run.turns}"
    return label


def grid(runs: Sequence[SearchRunResult], title: str,
         pick: Callable[[SearchRunResult], MeanCI]) -> Grid:  # fmt: skip
    """Lay ``pick(run)`` out by method (rows) and (benchmark, N) (columns)."""
    ordered = sorted(runs, key=lambda r: (r.upper_bound, _method_rank(r.select), r.model))
    rows = tuple(dict.fromkeys(_row_label(r, runs) for r in ordered))
    columns = tuple(sorted({(r.benchmark, r.n) for r in runs}))
    filled_by: dict[tuple[str, tuple[str, int]], SearchRunResult] = {}
    for run in ordered:
        key = (_row_label(run, runs), (run.benchmark, run.n))
        if key in filled_by:
            raise ConfigError(f"{filled_by[key].path} and {run.path} would fill the same cell "
                              f"({key[0]}, {_header(key[1])}); report them separately")  # fmt: skip
        filled_by[key] = run
    return Grid(title, rows, columns, {key: pick(run) for key, run in filled_by.items()})


def tables(runs: Sequence[SearchRunResult]) -> list[Grid]:
    """After the last turn, and after turn 1."""
    return [
        grid(runs, "BoN accuracy after the last turn (hidden tests, mean ± 95% CI)",
             lambda r: r.summary.accuracy_by_turn[-1]),
        grid(runs, "BoN accuracy after turn 1 (single-turn BoN)",
             lambda r: r.summary.accuracy_by_turn[0]),
    ]  # fmt: skip


def _header(column: tuple[str, int]) -> str:
    benchmark, n = column
    return f"{benchmark} N={n}"


def to_markdown(table: Grid) -> str:
    """A GitHub-flavoured markdown table with its title."""
    lines = [f"**{table.title}**", "",
             "| method | " + " | ".join(_header(c) for c in table.columns) + " |",
             "|---|" + "---|" * len(table.columns)]  # fmt: skip
    for row in table.rows:
        cells = [str(table.cells[(row, c)]) if (row, c) in table.cells else "—"
                 for c in table.columns]  # fmt: skip
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def to_rich(table: Grid) -> Table:
    """The same table for the terminal."""
    rendered = fitted_table(table.title)
    rendered.add_column("method")
    for column in table.columns:
        rendered.add_column(_header(column), justify="right")
    for row in table.rows:
        rendered.add_row(row, *[str(table.cells[(row, c)]) if (row, c) in table.cells else "—"
                                for c in table.columns])  # fmt: skip
    return rendered
