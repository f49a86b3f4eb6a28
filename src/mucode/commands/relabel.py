"""Body of ``mucode relabel``: validate the options, load the verifier if the method
weighs it, build the dataset, and render its summary."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from rich.table import Table

from mucode.commands import invalid_options
from mucode.core.terminal import fitted_table

if TYPE_CHECKING:
    from mucode.training.relabel import RelabelConfig


def build_config(**options: Any) -> RelabelConfig:
    """Validate ``relabel`` options; errors name the option."""
    from mucode.training.relabel import RelabelConfig

    try:
        return RelabelConfig(**options)
    except ValidationError as e:
        raise invalid_options("relabel", e) from e


def run(config: RelabelConfig, rollout_dirs: Sequence[str], verifier_dir: Path | None, out: Path,
        batch_size: int) -> dict[str, Any]:  # fmt: skip
    """Build the dataset into ``out``; the verifier is loaded only when the method weighs it."""
    from mucode.training.relabel import RolloutSource, build_dataset, require_verifier

    sources = [RolloutSource.parse(text) for text in rollout_dirs]
    require_verifier(config, verifier_dir is not None)
    scorer, name = None, None
    if config.needs_verifier:
        from mucode.verifier.model import BatchedVerifier, Verifier

        scorer, name = BatchedVerifier(Verifier.load(verifier_dir), batch_size), str(verifier_dir)
    return build_dataset(config, sources, scorer, out, verifier_name=name)


def _settings(config: dict[str, Any]) -> str:
    names = {"beta_oracle": "β_O", "beta_verifier": "β_L", "k": "k", "pool": "pool",
             "rft_target": "rft target"}  # fmt: skip
    shown = [f"{label} {config[key]}" for key, label in names.items() if config[key] is not None]
    return ", ".join([*shown, f"iteration {config['iteration']}"])


def summary_table(summary: dict[str, Any]) -> Table:
    """What was built: problems, the expert's choices, rows by label and by iteration."""
    table = fitted_table(f"relabel: {summary['method']} ({_settings(summary['config'])})")
    table.add_column("")
    table.add_column("count", justify="right")
    left_out = sum(s["infra_error"] for s in summary["sources"])
    rows = [
        ("problems (solved / unsolved)",
         f"{summary['problems']} ({summary['solved']} / {summary['unsolved']})"),
        ("trajectories (left out: infra_error)", f"{summary['trajectories']} ({left_out})"),
    ]  # fmt: skip
    if summary["expert_incorrect"] is not None:
        wrong, overruled = summary["expert_incorrect"], summary["expert_overruled_oracle"]
        rows.append(("y* failing the oracle (a correct code outscored)", f"{wrong} ({overruled})"))
    rows.append(("rows", str(summary["rows"])))
    rows += [(f"  {kind}", str(n)) for kind, n in summary["rows_by_label"].items() if n]
    rows += [(f"rollouts of iteration {s['iteration']}: {s['path']}", str(s["trajectories"]))
             for s in summary["sources"]]  # fmt: skip
    targets = summary["rows_by_target_iteration"]
    rows += [(f"rows with states / targets from iteration {i}", f"{n} / {targets.get(i, 0)}")
             for i, n in summary["rows_by_state_iteration"].items()]  # fmt: skip
    for row in rows:
        table.add_row(*row)
    return table
