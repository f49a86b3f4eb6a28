"""Body of ``mucode report``: read search runs, write report.md and plots, print them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from mucode.report.plots import accuracy_vs_n, accuracy_vs_turn
from mucode.report.runs import SearchRunResult, load_run, unpaired
from mucode.report.tables import tables, to_markdown, to_rich

REPORT = "report.md"


def write_report(runs: Sequence[SearchRunResult], out: Path) -> Path:
    """``report.md`` (tables, one line per run, the plots) and the PNGs, in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    turn_plot = accuracy_vs_turn(runs, out / "accuracy_vs_turn.png")
    n_plot = accuracy_vs_n(runs, out / "accuracy_vs_n.png")
    parts = ["# mucode search report", ""]
    parts += [f"> **Warning:** {warning}\n" for warning in unpaired(runs)]
    parts += [to_markdown(table) for table in tables(runs)]
    parts += ["## Runs", "", *[f"- {run.one_line()}" for run in runs], ""]
    parts += [f"![accuracy vs turn]({turn_plot.name})", "", f"![accuracy vs N]({n_plot.name})", ""]
    path = out / REPORT
    path.write_text("\n".join(parts))
    return path


def run_report(console: Console, run_dirs: Sequence[Path], out: Path) -> Path:
    """Load every run, write the report, print its tables and summaries."""
    runs = [load_run(d) for d in run_dirs]
    path = write_report(runs, out)
    for table in tables(runs):
        console.print(to_rich(table))
    for run in runs:
        console.print(run.one_line(), highlight=False, soft_wrap=True, markup=False)
    for warning in unpaired(runs):
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    console.print(f"report: {path} (plots beside it)", highlight=False, soft_wrap=True)
    return path
