"""Bodies of ``mucode sandbox info`` and ``mucode sandbox run``."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from mucode.core.records import Status, Verdict
from mucode.sandbox import Job, Limits, Sandbox

_STATUS_STYLE = {Status.PASSED: "green", Status.FAILED: "red", Status.TIMEOUT: "yellow",
                 Status.CRASHED: "magenta", Status.INFRA_ERROR: "bold red"}  # fmt: skip


def print_info(console: Console, json_output: bool, launcher: str | None = None) -> None:
    """Start one worker and print the isolation layers it reported and what programs see."""
    with Sandbox(workers=1, launcher=launcher) as sandbox:
        info = sandbox.info
    view = info.view.describe() if info.view is not None else None
    if json_output:
        print(json.dumps({"launcher": info.launcher, "layers": list(info.layers),
                          "missing": info.missing, "python": info.python,
                          "limits": Limits().model_dump(), "view": view}))  # fmt: skip
        return
    table = Table(title=f"mucode sandbox isolation (launcher: {info.launcher})")
    table.add_column("layer")
    table.add_column("state")
    for layer in info.layers:
        table.add_row(layer, "[green]active[/]")
    for layer, why in info.missing.items():
        table.add_row(layer, f"[red]missing[/] ({why})")
    console.print(table)
    limits = ", ".join(f"{k}={v}" for k, v in Limits().model_dump().items())
    console.print(f"default limits: {limits}", highlight=False)
    _print_view(console, view)


def _print_view(console: Console, view: dict | None) -> None:
    """What a program can see and import, one group per line."""
    if view is None:
        console.print("programs see the host's file system: no allow-list view (see above)")
        return
    links = [f"{path} -> {target}" for path, target in view["symlinks"].items()]
    groups = [
        ("sees, read-only", view["read_only"]),
        ("symlinks", links),
        ("private tmpfs, wiped after each run", view["private_tmpfs"]),
        ("fresh", view["fresh"]),
        ("masked (empty)", view["masked"]),
        ("imports from", view["imports_from"]),
        ("cannot import from (not in the view)", view["cannot_import_from"]),
    ]
    for title, paths in groups:
        console.print(f"[bold]{title}:[/] {', '.join(paths) or 'nothing'}", highlight=False)


def split_tests(source: str) -> tuple[str, ...]:
    """One test per top-level statement; a file that does not parse stays one test."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return (source,)
    return tuple(ast.get_source_segment(source, node) or "" for node in tree.body)


def run_one(console: Console, files: tuple[Path, Path | None, Path | None], limits: Limits,
            json_output: bool) -> bool:  # fmt: skip
    """Run a program file with optional test and setup files; print the verdict."""
    code, test, setup = files
    job = Job(
        program=code.read_text(encoding="utf-8"),
        tests=split_tests(test.read_text(encoding="utf-8")) if test else (),
        setup_code=setup.read_text(encoding="utf-8") if setup else "",
    )
    with Sandbox(workers=1, limits=limits) as sandbox:
        verdict = sandbox.run(job)
    if json_output:
        print(verdict.to_json())
    else:
        _print_verdict(console, verdict)
    return verdict.passed


def _print_verdict(console: Console, verdict: Verdict) -> None:
    style = _STATUS_STYLE[verdict.status]
    console.print(
        f"[{style}]{verdict.status.value}[/]  tests {verdict.tests_passed}/{verdict.tests_total}"
        f"  {verdict.duration_s:.3f} s"
    )
    console.print(verdict.feedback, highlight=False, markup=False)
