"""A rich progress bar on stderr behind a plain ``(done, total)`` callback.

Library code takes an optional callback and stays free of UI; commands wrap a call in
:func:`progress_bar`. rich is imported only when a bar is made, so commands start fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Counters = Callable[[], dict[str, float]]


@contextmanager
def progress_bar(
    description: str, counters: Counters | None = None
) -> Iterator[Callable[[int, int], None]]:
    """Yield a thread-safe ``(done, total)`` callback that drives a bar on stderr.

    ``counters()`` returns running totals (e.g. ``{"tok": 1200, "programs": 40}``); the bar
    shows each as a rate over the elapsed time. The bar is drawn only when stderr is a
    terminal, so logs and pipes stay clean.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[rates]}"),
    )
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        task = progress.add_task(description, total=None, rates="")

        def update(done: int, total: int) -> None:
            elapsed = progress.tasks[0].elapsed
            rates = ""
            if counters is not None and elapsed:
                rates = " ".join(f"{v / elapsed:.1f} {k}/s" for k, v in counters().items())
            progress.update(task, completed=done, total=total, rates=rates)

        yield update
