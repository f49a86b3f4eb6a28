"""Bodies of ``mucode benchmarks list`` and ``mucode benchmarks show``."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown
from rich.syntax import Syntax
from rich.table import Table

from mucode.benchmarks import BENCHMARKS, format_prompt, get_problem

_PREFIXES = {"humaneval": "humaneval", "mbpp": "mbpp"}


def benchmarks_table() -> Table:
    """Every benchmark with its splits and data source."""
    table = Table(title="benchmarks", show_lines=True)
    table.add_column("name", no_wrap=True)
    for column in ("splits", "description", "data"):
        table.add_column(column)
    for info in BENCHMARKS.values():
        splits = ", ".join(f"[b]{s}[/]" if s == info.default_split else s for s in info.splits)
        table.add_row(info.name, splits, info.description, info.source)
    return table


def _benchmark_of(task_id: str, benchmark: str | None) -> str:
    if benchmark is not None:
        return benchmark
    prefix = task_id.split("/", 1)[0].lower() if "/" in task_id else ""
    return _PREFIXES.get(prefix, "mbpp")


def show_problem(console: Console, task_id: str, benchmark: str | None, data_dir: Path | None,
                 json_output: bool) -> None:  # fmt: skip
    """Print one problem: prompt, tests and reference solution."""
    problem = get_problem(_benchmark_of(task_id, benchmark), task_id, data_dir=data_dir)
    if json_output:
        print(json.dumps(problem.to_dict()))
        return
    console.rule(f"{problem.task_id} ({problem.benchmark}, split {problem.split})")
    console.print("[bold]Prompt shown to the model (turn 1)[/]")
    console.print(Markdown(format_prompt(problem)))
    for title, tests in (("Public tests", problem.public_tests),
                         ("Private tests", problem.private_tests)):  # fmt: skip
        console.print(f"[bold]{title}[/] ({len(tests)})")
        for test in tests:
            console.print(Syntax(test if len(test) < 3000 else test[:3000] + "\n# ...", "python"))
    if problem.setup_code.strip():
        console.print("[bold]Setup code[/]")
        console.print(Syntax(problem.setup_code, "python"))
    console.print("[bold]Reference solution[/]")
    console.print(Syntax(problem.reference_solution, "python"))
