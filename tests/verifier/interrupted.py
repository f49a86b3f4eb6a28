"""Killing a run part-way (a progress callback that raises) and running the CLI in-process."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

from mucode.cli import main


class Killed(Exception):
    """Stands in for a kill part-way through a run."""


def killed_once(done_at_least: int) -> Callable[[int, int], None]:
    """A progress callback that raises ``Killed`` once ``done_at_least`` inputs are done."""

    def progress(done: int, total: int) -> None:
        if done >= done_at_least:
            raise Killed

    return progress


def run_main(monkeypatch, *args) -> int:
    """``mucode ARGS…`` in this process; its exit code."""
    monkeypatch.setattr(sys, "argv", ["mucode", *map(str, args)])
    with pytest.raises(SystemExit) as done:
        main()
    return done.value.code
