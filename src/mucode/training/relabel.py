"""SFT datasets from rollouts: µCode's relabelling and its baselines, one builder per method.

Every method reads trajectories (``trajectories.jsonl`` of one or more rollout directories,
possibly of several expert iterations; the problem prompt is each trajectory's first
message, so no benchmark is loaded), pools them per problem with the local search expert
(``mucode.training.expert``) and writes rows of one shape (``mucode.training.examples``). A
row's state is the conversation before turn t of a trajectory; the methods differ in which
trajectories, which turns and which target. "Successful" means the last turn passes the
stored oracle (public + hidden tests). Trajectories the sandbox failed on are left out.

- ``mucode`` (µCode; the paper's β_O = 1, β_L = 0.1): per problem, up to ``k`` failed
  trajectories, highest expert score of their final code first (ties: first seen), have
  every state relabelled with y*; every successful trajectory keeps its own final code as
  the target at every state. A y* that fails the oracle (no correct code: the verifier's
  best incorrect one) labels its rows ``unsolved``; ``keep_unsolved=False`` drops them.
- ``ov`` / ``lv`` (µCode-OV / µCode-LV of Table 2): the same with β_L = 0 / β_O = 0. Only
  y* and the order of the failed trajectories change; which trajectories failed, and the
  ``unsolved`` flag, always come from the stored oracle (provenance, not the expert).
- ``rft-lv`` (RFT-LV of Table 2): the top ``k`` trajectories per problem by the verifier's
  score of their final code, successful or not, kept as they were: each state is trained on
  the trajectory's own next action (``rft_target="next"``; "final": its own final code).
- ``star`` (STaR, single-turn RFT): every first-turn answer that passes the oracle, on the
  prompt alone.
- ``multi-star`` (Multi-STaR, multi-turn RFT): every state of every successful trajectory,
  trained on its own next action, so the failed answers of a trajectory that later
  succeeded are trained on too (as the issue states the paper describes it).

Reading of the paper: its body text could not be consulted offline. RFT-LV is read as
rejection fine-tuning (selection by the verifier, actions kept as taken); the authors' code
selects the same trajectories but trains every state on the final answer
(``create_merged_RS_data.py``: "[RFT w/ LV] Include up to 'K' samples with the highest
reward", then ``convert_multi_to_many_script.py --relabel_only``): ``rft_target="final"``.

The authors' code (github.com/portal-cornell/muCode) as named settings:

- ``mucode-reference`` (``bash/mucode.sh``: ``create_merged_RS_data.py --K 1
  --num_to_relabel 3 --merge_positive_data``, then ``convert_multi_to_many_script.py
  --relabel_only``): score = RM reward + 100 · oracle label, so β 100:1 (β_O = 1,
  β_L = 0.01 here); y* is the top final answer; the (up to) 3 failed trajectories with the
  highest reward are relabelled with it; every successful trajectory keeps its own final
  answer; every state of a kept trajectory gets its target. Each iteration relabels only its
  own new rollouts, with candidates from those alone (``pool="iteration"``), and appends the
  rows to the earlier iterations' dataset, whose targets stay as they were.
- ``multi-star-reference`` (``bash/rft.sh``: ``convert_to_sft.py``, then
  ``convert_multi_to_many_script.py --relabel_only``): every successful trajectory, each
  state trained on the trajectory's final (correct) answer (``rft_target="final"``).

Not reproduced: the reference trains on the raw answer text (explanations included) after
a ``<|response|>`` marker used for loss masking, and keeps duplicate candidates.

Sources: ``RolloutSource(path, iteration)``, a ``(path, iteration)`` pair or ``"DIR@N"``;
a bare path counts as iteration 0. Building is a pure function of its inputs, so a killed
build is simply run again; its files are replaced atomically.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mucode.core.errors import ConfigError
from mucode.core.manifest import record_in_manifest, write_or_check_manifest
from mucode.training.examples import (
    DATASET,
    LabelKind,
    Method,
    Origin,
    Scores,
    SftExample,
    format_answer,
    write_examples,
    write_summary,
)
from mucode.training.expert import (
    Beta,
    Pool,
    RolloutSource,
    SourcedTrajectory,
    SourceLike,
    TextScorer,
    expert_pools,
    load_sources,
)

__all__ = [
    "Method",
    "RelabelConfig",
    "RolloutSource",
    "build_dataset",
    "build_examples",
    "load_sources",
    "require_verifier",
    "summarize",
]

_EXPERT_METHODS = (Method.MUCODE, Method.OV, Method.LV, Method.MUCODE_REFERENCE)
# per method: each setting it uses -> (its default, whether the method fixes it)
_SETTINGS: dict[Method, dict[str, tuple[Any, bool]]] = {
    Method.MUCODE: {"beta_oracle": (1.0, False), "beta_verifier": (0.1, False)},
    Method.OV: {"beta_oracle": (1.0, False), "beta_verifier": (0.0, True)},
    Method.LV: {"beta_oracle": (0.0, True), "beta_verifier": (0.1, False)},
    Method.MUCODE_REFERENCE: {
        "beta_oracle": (1.0, True),
        "beta_verifier": (0.01, True),
        "pool": ("iteration", True),
    },
    Method.RFT_LV: {
        "beta_oracle": (0.0, True),
        "beta_verifier": (1.0, False),
        "rft_target": ("next", False),
    },
    Method.STAR: {},
    Method.MULTI_STAR: {"rft_target": ("next", False)},
    Method.MULTI_STAR_REFERENCE: {"rft_target": ("final", True)},
}
for _method in (*_EXPERT_METHODS, Method.RFT_LV):
    _SETTINGS[_method] = {"k": (3, False), "pool": ("all", False), **_SETTINGS[_method]}


class RelabelConfig(BaseModel):
    """How to build an SFT dataset. Settings a method does not use stay None; each
    method's defaults fill the rest, and a setting a method fixes cannot be changed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Method = Field(Method.MUCODE, description="How the dataset is built.")
    beta_oracle: float | None = Field(None, ge=0, description="β_O: the oracle's weight.")
    beta_verifier: float | None = Field(None, ge=0, description="β_L: the verifier's weight.")
    k: int | None = Field(None, ge=1, description="Failed trajectories relabelled per problem "
                          "(µCode), or trajectories kept per problem (RFT-LV).")  # fmt: skip
    keep_unsolved: bool = Field(True, description="Keep rows whose y* fails the oracle.")
    pool: Literal["all", "iteration"] | None = Field(
        None, description="Expert candidates and top-k from every iteration's rollouts of a "
        "problem, or from each iteration's alone (the reference code).")  # fmt: skip
    rft_target: Literal["next", "final"] | None = Field(
        None, description="RFT rows: a state's own next action, or its trajectory's final code."
    )
    iteration: int = Field(0, ge=0, description="The expert iteration the dataset is for.")

    @model_validator(mode="before")
    @classmethod
    def _method_settings(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        try:
            method = Method(data.get("method", Method.MUCODE))
        except ValueError:
            return data  # the field's own validation names the choices
        resolved = {**data}
        for name in ("beta_oracle", "beta_verifier", "k", "pool", "rft_target"):
            given = data.get(name)
            if name not in _SETTINGS[method]:
                if given is not None:
                    raise ValueError(f"method {method} takes no {name} (got {given!r})")
                continue
            default, fixed = _SETTINGS[method][name]
            if fixed and given is not None and given != default:
                raise ValueError(f"method {method} fixes {name} at {default!r} (got {given!r})")
            resolved[name] = default if given is None else given
        if method in _EXPERT_METHODS and not resolved["beta_oracle"] + resolved["beta_verifier"]:
            raise ValueError("beta_oracle and beta_verifier are both 0: the expert has no score")
        if method is Method.RFT_LV and not resolved["beta_verifier"]:
            raise ValueError("rft-lv ranks trajectories by the verifier: beta_verifier must be > 0")
        return resolved

    @property
    def beta(self) -> Beta | None:
        """The expert's weights; None for the baselines that use no expert."""
        if self.beta_oracle is None or self.beta_verifier is None:
            return None
        return Beta(self.beta_oracle, self.beta_verifier)

    @property
    def needs_verifier(self) -> bool:
        """True when building needs a learned verifier's scores."""
        return bool(self.beta_verifier)


def require_verifier(config: RelabelConfig, given: bool) -> None:
    """Refuse a method that weighs the verifier when no verifier is given."""
    if not config.needs_verifier or given:
        return
    fix = "pass --verifier DIR (written by `mucode verifier train`)"
    if config.method in (Method.MUCODE, Method.MUCODE_REFERENCE):
        fix += ", or --beta-verifier 0 (the oracle-only expert, µCode-OV)"
    raise ConfigError(f"method {config.method} weighs the learned verifier (beta_verifier "
                      f"{config.beta_verifier}) but no verifier was given: {fix}")  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Target:
    code: str
    origin: Origin
    correct: bool


def _own(t: SourcedTrajectory, index: int) -> _Target:
    """Turn ``index``'s code of ``t`` (0 = the first answer)."""
    turn = t.trajectory.turns[index]
    return _Target(turn.code, Origin(t.source, t.iteration, t.trajectory.key, index + 1),
                   turn.oracle.passed)  # fmt: skip


def _final(t: SourcedTrajectory) -> _Target:
    return _own(t, len(t.trajectory.turns) - 1)


def _rows(pool: Pool, t: SourcedTrajectory, targets: Sequence[_Target], label: LabelKind,
          config: RelabelConfig) -> list[SftExample]:  # fmt: skip
    """One row per state of ``t`` that has a target: the state before turn i gets
    ``targets[i]``, unless its code is empty (nothing to train on)."""
    rows, expert, trajectory = [], config.beta is not None, t.trajectory
    final = pool.final_score(t) if expert else None
    for index, aim in enumerate(targets):
        if not aim.code:
            continue
        candidate = pool.candidate(aim.code)
        scores = Scores(aim.correct, candidate.verifier if candidate else None,
                        candidate.score if candidate and expert else None,
                        final if final is not None and math.isfinite(final) else None)  # fmt: skip
        state = Origin(t.source, t.iteration, trajectory.key, index + 1)
        rows.append(SftExample(trajectory.messages[: 2 * index + 1], format_answer(aim.code),
                               trajectory.task_id, trajectory.benchmark, trajectory.split, label,
                               state, aim.origin, scores, config.iteration))  # fmt: skip
    return rows


def _top(pool: Pool, trajectories: Sequence[SourcedTrajectory], k: int | None) -> set[int]:
    """Ids of the ``k`` trajectories whose final code scores highest (ties: first seen)."""
    return {id(t) for t in sorted(trajectories, key=pool.final_score, reverse=True)[:k]}


def _mucode_rows(pool: Pool, config: RelabelConfig) -> list[SftExample]:
    """Successful trajectories on their own final code; the top ``k`` failed ones on y*."""
    chosen = _top(pool, [t for t in pool.trajectories
                         if not t.trajectory.solved and t.trajectory.turns], config.k)  # fmt: skip
    best = pool.best
    relabel = _final(best.origins[0]) if best is not None else None  # y*, where it was written
    label = LabelKind.RELABELLED if best is not None and best.correct else LabelKind.UNSOLVED
    rows = []
    for t in pool.trajectories:
        n_states = len(t.trajectory.turns)
        if t.trajectory.solved:
            rows += _rows(pool, t, [_final(t)] * n_states, LabelKind.OWN, config)
        elif id(t) in chosen and relabel is not None:
            rows += _rows(pool, t, [relabel] * n_states, label, config)
    return rows


def _rft_rows(pool: Pool, t: SourcedTrajectory, config: RelabelConfig) -> list[SftExample]:
    """Every state of ``t`` on its own next action, or on its own final code."""
    n_states = len(t.trajectory.turns)
    if config.rft_target == "next":
        targets = [_own(t, i) for i in range(n_states)]
    else:
        targets = [_final(t)] * n_states
    return _rows(pool, t, targets, LabelKind.RFT, config)


def _rft_lv_rows(pool: Pool, config: RelabelConfig) -> list[SftExample]:
    """The top ``k`` trajectories by the verifier's score of their final code."""
    chosen = _top(pool, [t for t in pool.trajectories if t.final_code], config.k)
    return [row for t in pool.trajectories if id(t) in chosen for row in _rft_rows(pool, t, config)]


def _multi_star_rows(pool: Pool, config: RelabelConfig) -> list[SftExample]:
    """Every successful trajectory, every state."""
    return [row for t in pool.trajectories if t.trajectory.solved
            for row in _rft_rows(pool, t, config)]  # fmt: skip


def _star_rows(pool: Pool, config: RelabelConfig) -> list[SftExample]:
    """Every first-turn answer that passes the oracle, on the prompt alone."""
    firsts = [t for t in pool.trajectories if t.trajectory.turns and _own(t, 0).correct]
    return [row for t in firsts for row in _rows(pool, t, [_own(t, 0)], LabelKind.RFT, config)]


_BUILDERS: dict[Method, Callable[[Pool, RelabelConfig], list[SftExample]]] = {
    **{m: _mucode_rows for m in _EXPERT_METHODS},
    Method.RFT_LV: _rft_lv_rows,
    Method.STAR: _star_rows,
    Method.MULTI_STAR: _multi_star_rows,
    Method.MULTI_STAR_REFERENCE: _multi_star_rows,
}


def build_examples(
    config: RelabelConfig,
    trajectories: Sequence[SourcedTrajectory],
    scorer: TextScorer | None = None,
) -> tuple[list[SftExample], list[Pool]]:
    """The dataset's rows (``keep_unsolved`` applied) and the expert's pools."""
    require_verifier(config, scorer is not None)
    beta = config.beta or Beta(1.0, 0.0)  # baselines: pools by problem, no verifier
    pools = expert_pools(trajectories, beta, scorer if config.beta else None,
                         by_iteration=config.pool == "iteration")  # fmt: skip
    rows = [row for pool in pools for row in _BUILDERS[config.method](pool, config)]
    if not config.keep_unsolved:
        rows = [row for row in rows if row.label is not LabelKind.UNSOLVED]
    return rows, pools


def summarize(config: RelabelConfig, pools: Sequence[Pool],
              rows: Sequence[SftExample]) -> dict[str, Any]:  # fmt: skip
    """Counts of what was built: problems, expert choices, and rows by label and origin."""
    solved: dict[str, bool] = {}
    for pool in pools:
        solved[pool.problem] = solved.get(pool.problem, False) or pool.has_correct
    expert = config.method in _EXPERT_METHODS
    wrong = [p for p in pools if p.best is not None and not p.best.correct] if expert else []
    return {
        "method": config.method.value,
        "config": config.model_dump(mode="json"),
        "problems": len(solved),
        "solved": sum(solved.values()),
        "unsolved": len(solved) - sum(solved.values()),
        "pools": len(pools),
        "trajectories": sum(len(p.trajectories) for p in pools),
        "expert_incorrect": len(wrong) if expert else None,
        "expert_overruled_oracle": sum(p.has_correct for p in wrong) if expert else None,
        "rows": len(rows),
        "rows_by_label": {kind.value: sum(r.label is kind for r in rows) for kind in LabelKind},
        "rows_by_state_iteration": _by(r.state.iteration for r in rows),
        "rows_by_target_iteration": _by(r.target_from.iteration for r in rows),
        "rows_with_own_target": sum(_same_trajectory(r.state, r.target_from) for r in rows),
        "trajectories_trained": len({(r.state.source, r.state.trajectory) for r in rows}),
        "problems_trained": len({(r.benchmark, r.task_id) for r in rows}),
    }


def _by(values: Iterable[int]) -> dict[str, int]:
    return {str(k): v for k, v in sorted(Counter(values).items())}


def _same_trajectory(a: Origin, b: Origin) -> bool:
    return (a.source, a.trajectory) == (b.source, b.trajectory)


def build_dataset(config: RelabelConfig, rollout_dirs: Sequence[SourceLike],
                  verifier: TextScorer | None, out_dir: Path,
                  verifier_name: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Build the dataset into ``out_dir`` (``sft.jsonl``, ``summary.json``, manifest) and
    return the summary. ``verifier`` may be None when the method gives it no weight."""
    require_verifier(config, verifier is not None)
    trajectories, sources = load_sources(rollout_dirs)
    out_dir = Path(out_dir)
    write_or_check_manifest(out_dir, config)
    rows, pools = build_examples(config, trajectories, verifier if config.needs_verifier else None)
    write_examples(out_dir / DATASET, rows)
    summary = {**summarize(config, pools, rows), "sources": sources, "verifier": verifier_name}
    write_summary(out_dir, summary)
    record_in_manifest(out_dir, "inputs", {"rollouts": sources, "verifier": verifier_name})
    return summary
