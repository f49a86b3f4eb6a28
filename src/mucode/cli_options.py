"""Command-line options shared by several commands, each declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

BenchmarkName = Annotated[
    str, typer.Option("--benchmark", "-b", help="Benchmark: see `mucode benchmarks list`.")
]
Split = Annotated[
    str | None, typer.Option(help="Benchmark split; default: the benchmark's evaluation split.")
]
DataDir = Annotated[
    Path | None,
    typer.Option(
        envvar="MUCODE_DATA_DIR",
        help="Directory with benchmark files (mbpp.jsonl, ...); else the Hugging Face hub.",
    ),
]
Workers = Annotated[
    int | None, typer.Option(min=1, help="Sandbox worker processes; default: one per core.")
]
Timeout = Annotated[
    float | None,
    typer.Option("--timeout", min=0.01, help="Wall-clock limit per program, in seconds [10]."),
]
JsonOutput = Annotated[
    bool, typer.Option("--json", help="Print the result as one JSON object on the last line.")
]
MemoryMb = Annotated[
    int | None,
    typer.Option("--memory-mb", min=64, help="Address-space limit per program, in MiB [2048]."),
]
