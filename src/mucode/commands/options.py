"""Command-line options shared by several commands, each declared once."""

from __future__ import annotations

from enum import Enum
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
    int | None,
    typer.Option(
        min=1, help="Sandbox worker processes (with --ray: per node); default: one per core."
    ),
]
RayAddress = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="ADDRESS",
        help="Run the programs on a Ray cluster, one sandbox actor per node: 'auto' (the "
        "cluster this machine is in), HOST:PORT, ray://HOST:PORT, or 'local' (a new "
        "one-machine cluster). Needs the ray extra on every node.",
    ),
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


class Backend(str, Enum):
    """Generation backends available from the command line."""

    LLAMACPP = "llamacpp"
    OPENAI = "openai"
    HF = "hf"
    VLLM = "vllm"


Tasks = Annotated[str | None, typer.Option(help="Comma-separated task ids (default: all).")]
Limit = Annotated[int, typer.Option(min=0, help="Only the first N problems (0 = all).")]
BackendOption = Annotated[Backend, typer.Option(help="Generation backend.")]
Model = Annotated[
    str | None,
    typer.Option(
        help="GGUF path (llamacpp; default: the embedded Qwen2.5-Coder-0.5B), "
        "or model name / directory (openai, hf, vllm)."
    ),
]
BaseUrl = Annotated[
    list[str] | None,
    typer.Option(
        metavar="URL",
        help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1. Repeat it for replicas "
        "of one model: each request goes to the one with the fewest in flight, and to another "
        "one if its server fails (which is then set aside for a while).",
    ),
]
Adapter = Annotated[
    str | None,
    typer.Option(
        help="hf: a PEFT (LoRA) adapter directory or hub id on --model; llamacpp: a GGUF LoRA "
        "adapter file or a directory holding adapter.gguf."
    ),
]
Turns = Annotated[int, typer.Option(min=1, help="Maximum turns T.")]
TopP = Annotated[float, typer.Option(min=0.0, max=1.0)]
MaxTokens = Annotated[int, typer.Option(min=1, help="Longest answer per turn.")]
Seed = Annotated[int, typer.Option(help="Base seed for sampling.")]
Threads = Annotated[
    int | None, typer.Option(min=1, help="llamacpp: CPU threads (default: all cores).")
]
CacheRam = Annotated[
    int,
    typer.Option(
        "--cache-ram",
        min=-1,
        help="llamacpp: host memory that keeps past prompts' KV for reuse, in MiB "
        "(0 = off, -1 = no limit).",
    ),
]
Context = Annotated[
    int, typer.Option(min=256, help="llamacpp: context window per slot, in tokens.")
]


class SpeculativeMethod(str, Enum):
    """Speculative decoding from the command line."""

    OFF = "off"
    NGRAM = "ngram"


Speculative = Annotated[
    SpeculativeMethod,
    typer.Option(
        help="llamacpp, vllm: 'ngram' drafts tokens by looking the last n-gram up in the "
        "conversation (prompt lookup; the model checks each draft), 'off' does not."
    ),
]
DraftMax = Annotated[
    int | None,
    typer.Option(
        min=1, max=256, help="With --speculative ngram: most tokens drafted per step [8]."
    ),
]
NgramSize = Annotated[
    int | None,
    typer.Option(
        min=1, max=64,
        help="With --speculative ngram: tokens matched against the conversation to find a "
        "draft [4].",
    ),
]  # fmt: skip
