"""Per-iteration metrics of an expert-iteration run: ``metrics.json`` and its table.

The verifier's held-out ranking quality is measured on the first-turn candidates of the
held-out Best-of-N search (N i.i.d. samples per problem, each labelled by the hidden
tests), so it costs no extra generation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from mucode.core.files import write_json_atomically
from mucode.core.terminal import fitted_table
from mucode.rollout import TRAJECTORIES, read_trajectories
from mucode.search.run import SEARCHES, read_searches
from mucode.verifier.data import LabelledCode, ProblemCodes
from mucode.verifier.evaluation import ScoredProblem, report

METRICS = "metrics.json"


def solve_rates(rollout_dirs: Sequence[str | Path]) -> dict[str, Any]:
    """Share of trajectories, and of problems, solved by the hidden tests."""
    trajectories = [t for d in rollout_dirs for t in read_trajectories(Path(d) / TRAJECTORIES)
                    if not t.infra_error]  # fmt: skip
    problems: dict[str, bool] = {}
    for t in trajectories:
        problems[t.task_id] = problems.get(t.task_id, False) or t.solved
    solved = sum(t.solved for t in trajectories)
    return {
        "trajectories": len(trajectories),
        "solve_rate": solved / len(trajectories) if trajectories else None,
        "problems": len(problems),
        "problems_solved": sum(problems.values()),
    }


def heldout_verifier(search_dir: Path, n: int) -> dict[str, Any] | None:
    """ROC-AUC, pairwise accuracy and best-of-``n`` of the verifier on the first-turn
    candidates of a verifier-scored search; None if the search used no verifier."""
    scored = []
    for episode in read_searches(Path(search_dir) / SEARCHES):
        if not episode.turns or episode.turns[0].scores is None:
            continue
        first = episode.turns[0]
        labelled = [LabelledCode(c.code, c.oracle.passed) for c in first.candidates]
        by_code = dict(zip((c.code for c in labelled), first.scores, strict=True))
        distinct = tuple({c.code: c for c in labelled}.values())
        problem = ProblemCodes(episode.task_id, "", distinct, tuple(labelled))
        scored.append(ScoredProblem(problem, tuple(by_code[c.code] for c in distinct),
                                    tuple(first.scores)))  # fmt: skip
    return report(scored, (n,)).to_dict() if scored else None


def evaluation_metrics(evaluation: dict[str, Any] | None) -> dict[str, Any]:
    """Greedy accuracy per turn and Best-of-N final accuracy, per held-out set."""
    if not evaluation:
        return {}
    found = {}
    for name, runs in evaluation.items():
        greedy, best = runs["greedy"], runs["best_of_n"]
        found[name] = {
            "greedy_by_turn": [a["mean"] for a in greedy["accuracy_by_turn"]],
            "best_of_n": best["accuracy_by_turn"][-1],
            "verifier": heldout_verifier(Path(best["dir"]), _n_of(best)),
        }
    return found


def _n_of(summary: dict[str, Any]) -> int:
    return max(int(k) for k in summary["pass_at_k"]) // max(1, summary["repeats"])


def iteration_metrics(iteration: int, rollouts: Sequence[str | Path], relabelled: dict[str, Any],
                      tuned: dict[str, Any], evaluation: dict[str, Any] | None,
                      seconds: dict[str, float]) -> dict[str, Any]:  # fmt: skip
    """One row of ``metrics.json``."""
    return {
        "iteration": iteration,
        "rollouts": solve_rates(rollouts),
        "sft_data": relabelled,
        "sft": tuned.get("training", {}),
        "heldout": evaluation_metrics(evaluation),
        "seconds": seconds,
    }


def write_metrics(out: Path, base: dict[str, Any] | None,
                  rows: list[dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
    """Write ``metrics.json`` (atomically) and return it."""
    metrics = {"base": evaluation_metrics(base), "iterations": rows}
    write_json_atomically(out / METRICS, metrics)
    return metrics


def metrics_table(metrics: dict[str, Any]) -> Table:
    """One row for the base model and one per iteration."""
    table = fitted_table("expert iteration")
    for column in ("generator", "train solve", "verifier AUC / pairwise", "held-out",
                   "greedy by turn", "BoN"):  # fmt: skip
        table.add_column(column)
    for name, result in metrics["base"].items():
        table.add_row("base", "", _verifier_cell(result), name, *_eval_cells(result))
    for row in metrics["iterations"]:
        train = row["rollouts"]["solve_rate"]
        for name, result in row["heldout"].items() or {"": {}}.items():
            table.add_row(f"iter {row['iteration']}", f"{train:.3f}" if train is not None else "",
                          _verifier_cell(result), name, *_eval_cells(result))  # fmt: skip
    return table


def _verifier_cell(result: dict[str, Any]) -> str:
    verifier = result.get("verifier")
    if not verifier:
        return ""
    auc, pairwise = verifier["roc_auc"], verifier["pairwise_accuracy"]
    return f"{_number(auc)} / {_number(pairwise)}"


def _eval_cells(result: dict[str, Any]) -> tuple[str, str]:
    if not result:
        return "", ""
    greedy = " ".join(f"{a:.3f}" for a in result["greedy_by_turn"])
    best = result["best_of_n"]
    return greedy, f"{best['mean']:.3f} ± {(best['high'] - best['low']) / 2:.3f}"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
