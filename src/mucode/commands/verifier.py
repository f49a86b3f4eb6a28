"""Bodies of ``mucode verifier train | score | eval``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from rich.table import Table

from mucode.benchmarks import format_prompt
from mucode.commands import invalid_options
from mucode.core.errors import ConfigError
from mucode.core.jsonl import write_jsonl
from mucode.core.terminal import fitted_table
from mucode.verifier.evaluation import VerifierReport

if TYPE_CHECKING:
    from mucode.verifier.train import VerifierTrainConfig


def build_train_config(**options: Any) -> VerifierTrainConfig:
    """Validate ``verifier train`` options; errors name the option."""
    from mucode.verifier.train import VerifierTrainConfig

    try:
        return VerifierTrainConfig(**options)
    except ValidationError as e:
        raise invalid_options("verifier train", e) from e


def run_train(config: VerifierTrainConfig, out: Path) -> dict[str, Any]:
    """Train (or resume) a verifier; the feature pass of a head-only or --lora-layers run
    drives a progress bar."""
    from mucode.core.progress import progress_bar
    from mucode.verifier.train import train_verifier

    if not (config.head_only or config.lora_layers):
        return train_verifier(config, out)
    with progress_bar("backbone features") as progress:
        return train_verifier(config, out, progress)


def parse_ns(text: str) -> tuple[int, ...]:
    """``"1,2,5"`` -> (1, 2, 5); each N at least 1."""
    try:
        ns = tuple(int(part) for part in text.split(","))
    except ValueError as e:
        raise ConfigError(f"--best-of takes comma-separated integers, got {text!r}") from e
    if not ns or min(ns) < 1:
        raise ConfigError(f"--best-of values must be at least 1, got {text!r}")
    return ns


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def report_table(report: VerifierReport, title: str) -> Table:
    """AUC, pairwise accuracy, then verifier / random / oracle selection at each N."""
    table = fitted_table(title)
    for column in ("metric", "verifier", "random", "oracle", "problems"):
        table.add_column(column)
    table.add_row("ROC-AUC", _fmt(report.roc_auc), "0.500", "1.000", str(report.problems))
    table.add_row(f"pairwise accuracy ({report.pairs} pairs)", _fmt(report.pairwise_accuracy),
                  "0.500", "1.000", str(report.problems))  # fmt: skip
    for b in report.best_of_n:
        table.add_row(f"best-of-{b.n} accuracy", _fmt(b.verifier), _fmt(b.random),
                      _fmt(b.oracle), str(b.problems))  # fmt: skip
    return table


def run_eval(verifier_dir: Path, rollouts: Sequence[Path], ns: tuple[int, ...], out: Path,
             batch_size: int, features: Path | None = None) -> VerifierReport:  # fmt: skip
    """Score held-out rollouts; write ``report.json`` and ``report.png`` into ``out``.

    With ``features`` (verifiers trained with --head-only or --lora-layers) scores go through
    that store of backbone features or states."""
    from mucode.core.progress import progress_bar
    from mucode.verifier.data import load_problem_codes
    from mucode.verifier.evaluation import report, score_problems
    from mucode.verifier.model import BatchedVerifier, Verifier
    from mucode.verifier.plot import plot_report

    verifier = Verifier.load(verifier_dir)
    problems = load_problem_codes(rollouts)
    if features is None:
        scored = score_problems(BatchedVerifier(verifier, batch_size).score_texts, problems)
    else:
        from mucode.verifier.probe import stored_scorer
        from mucode.verifier.states import stored_states_scorer

        scorer = stored_states_scorer if verifier.metadata.get("lora_layers") else stored_scorer
        with progress_bar("backbone features") as progress:
            scored = score_problems(scorer(verifier, features, batch_size, progress), problems)
    result = report(scored, ns)
    out.mkdir(parents=True, exist_ok=True)
    summary = {"verifier": str(verifier_dir), "rollouts": [str(r) for r in rollouts],
               **result.to_dict()}  # fmt: skip
    (out / "report.json").write_text(json.dumps(summary, indent=2) + "\n")
    title = f"{verifier_dir.name} ({verifier.metadata.get('loss', '?')}) on " + ", ".join(
        r.name for r in rollouts
    )
    plot_report(scored, result, out / "report.png", title)
    return result


def run_score(  # noqa: PLR0913 - one per option of the command
    samples_file: Path, verifier_dir: Path, problems_by_id: dict, benchmark: str, out: Path,
    batch_size: int, ray: str | None = None,
) -> Path:  # fmt: skip
    """Add a ``score`` to every sample line; write them to ``out`` in input order.

    With ``ray`` (a Ray address) the samples are scored by one verifier actor per node."""
    from mucode.evaluation.samples import read_samples

    samples = read_samples(samples_file, problems_by_id, benchmark)
    problems = [problems_by_id[s.task_id] for s in samples]
    codes = [s.program for s in samples]
    if ray is None:
        from mucode.verifier.model import Verifier

        scores = Verifier.load(verifier_dir).score(problems, codes, batch_size)
    else:
        scores = _score_on_ray(ray, verifier_dir, [format_prompt(p) for p in problems], codes,
                               batch_size)  # fmt: skip
    rows = [{**s.fields, "score": score} for s, score in zip(samples, scores, strict=True)]
    write_jsonl(out, rows)
    return out


def _score_on_ray(address: str, verifier_dir: Path, prompts: list[str], codes: list[str],
                  batch_size: int) -> list[float]:  # fmt: skip
    """``Verifier.score_texts`` on the Ray cluster at ``address``."""
    from mucode.core.optional import import_ray

    import_ray(address)
    from mucode.distributed.scoring import RayScorer

    with RayScorer(address, verifier_dir) as scorer:
        return scorer.score_texts(prompts, codes, batch_size)
