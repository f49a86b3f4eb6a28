"""What a finished rollout run holds, read back from its trajectories (no model needed).

    python bench/rollout_stats.py RUN_DIR [RUN_DIR ...]

Prints, per run directory, one JSON line: trajectories, accuracy on the hidden tests after
each turn, tokens generated, answers cut at max_tokens, episodes ended because the
conversation outgrew the context or the sandbox kept failing (`infra_error`, left out of
the accuracy), answers without code, and problems that feedback fixed (hidden tests failed
at turn 1, passed at the end).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mucode.rollout import TRAJECTORIES, accuracy_by_turn, read_trajectories


def run_stats(run_dir: Path) -> dict:
    """Counts and per-turn accuracy of one run directory."""
    trajectories = read_trajectories(run_dir / TRAJECTORIES)
    if not trajectories:
        raise SystemExit(f"{run_dir}: no trajectories")
    turns = [turn for t in trajectories for turn in t.turns]
    horizon = max(len(t.turns) for t in trajectories)
    fixed = sum(bool(t.turns) and not t.turns[0].oracle.passed and t.solved for t in trajectories)
    return {
        "run": str(run_dir),
        "trajectories": len(trajectories),
        "accuracy_by_turn": [round(a, 4) for a in accuracy_by_turn(trajectories, horizon)],
        "turns": len(turns),
        "tokens": sum(turn.completion.completion_tokens for turn in turns),
        "truncated_answers": sum(turn.completion.truncated for turn in turns),
        "answers_without_code": sum(not turn.code for turn in turns),
        "context_full": sum(t.context_full for t in trajectories),
        "infra_error": sum(t.infra_error for t in trajectories),
        "fixed_after_feedback": fixed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+", type=Path)
    for run_dir in parser.parse_args().run_dirs:
        print(json.dumps(run_stats(run_dir)))


if __name__ == "__main__":
    main()
