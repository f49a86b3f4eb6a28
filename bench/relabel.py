"""Judge a run's stored code again with today's sandbox; write the run with new verdicts.

    MUCODE_DATA_DIR=/work/shared/data python bench/relabel.py RUN_DIR --out NEW_DIR

RUN_DIR is a rollout run, or a search run: then its kept candidates, one trajectory per
search (the path the search took), are what is judged, and the accuracy after each turn is
the search's own (for rules whose choice no verdict decides: rand, lv, and N = 1).

Every turn's code is judged as the rollout judged it: `env.judge`, so the public tests (the
feedback and the stopping rule) and the oracle, public + private tests (the label), in a
sandbox with the run's recorded settings (`timeout_s`, `workers`) and each problem's wall
limit from `calibration.problem_limits`. NEW_DIR/trajectories.jsonl holds the same
trajectories, in the same order, with only the verdicts replaced (a turn the sandbox now
fails on marks its trajectory `infra_error`, as a rollout would). NEW_DIR/manifest.json is
the run's manifest plus a "relabelled" entry: when, mucode's revision and versions, the
source directory, the limits used and the counts printed below.

Episodes are not played again: prompts, answers and codes stay as they were. A changed public
verdict could have changed what came after it: its feedback was the next turn's prompt, and
before the last allowed turn its pass/fail decided whether the episode stopped. Turns where
that decision would now differ are counted ("stop would change"); the turns after such a
turn belong to a conversation the current sandbox would not have had, so their labels are
those of the stored code, not of a re-run.

Prints, as Markdown: the label (oracle) changes, passed -> not passed, not passed -> passed
and other status changes, each with its task ids (`task#sample turn`) and both verdicts'
last feedback lines; the public-verdict changes; and the accuracy after each turn
(`rollout.accuracy_by_turn`) before and after.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

from mucode.calibration import problem_limits
from mucode.commands.generation_run import GenerationRun
from mucode.core.jsonl import write_jsonl
from mucode.core.manifest import MANIFEST, git_state, versions
from mucode.core.records import Trajectory, Verdict
from mucode.env import judge
from mucode.rollout import TRAJECTORIES, accuracy_by_turn, read_trajectories
from mucode.runs.rollout import RolloutRun
from mucode.runs.search import SearchRun
from mucode.sandbox import Sandbox
from mucode.sandbox.limits import limits_from_options
from mucode.search.run import SEARCHES, read_searches

KINDS = ("passed -> not passed", "not passed -> passed", "other status change")
SIDES = ("oracle", "public")


def relabel(trajectories: list[Trajectory], config: GenerationRun, data_dir: Path | None):
    """The trajectories with every turn judged again, and the per-problem limits used."""
    problems = {p.task_id: p for p in config.model_copy(update={"data_dir": data_dir}).problems()}
    programs = [(problems[t.task_id], turn.code) for t in trajectories for turn in t.turns]
    sandbox_limits = limits_from_options(timeout_s=config.timeout_s)
    with Sandbox(workers=config.workers, limits=sandbox_limits) as sandbox:
        limits = problem_limits(list(problems.values()), sandbox)
        verdicts = iter(judge(programs, sandbox, limits))
    relabelled = []
    for t in trajectories:
        turns = tuple(replace(turn, public=public, oracle=oracle)
                      for turn, (public, oracle)
                      in zip(t.turns, islice(verdicts, len(t.turns)), strict=True))  # fmt: skip
        infra_error = t.infra_error or any(turn.infra_error for turn in turns)
        relabelled.append(replace(t, turns=turns, infra_error=infra_error))
    return relabelled, limits


def kind(old: Verdict, new: Verdict) -> str | None:
    """Which of KINDS a verdict change is; None when the status is the same."""
    if old.status is new.status:
        return None
    if old.passed != new.passed:
        return KINDS[0] if old.passed else KINDS[1]
    return KINDS[2]


def stop_would_change(t: Trajectory, index: int, new_public: Verdict, horizon: int) -> bool:
    """Would the new public verdict of turn ``index`` (0-based) change whether ``t`` stopped?

    A turn the episode went on from had failed its public tests: a pass now would stop it.
    The last turn stopped it: if by passing the public tests before the last allowed turn,
    a failure now would let it go on (an end by horizon, context or sandbox stays an end).
    """
    if index < len(t.turns) - 1:
        return new_public.passed
    stopped_by_pass = t.turns[index].public.passed and not (t.context_full or t.infra_error)
    return stopped_by_pass and index + 1 < horizon and not new_public.passed


def _last_line(verdict: Verdict) -> str:
    lines = [line.strip() for line in verdict.feedback.splitlines() if line.strip()]
    return (lines[-1] if lines else "")[:90].replace("|", "\\|")


def changes(old: list[Trajectory], new: list[Trajectory], horizon: int) -> dict:
    """Oracle and public verdict changes by kind, as (where, old turn, new turn) triples."""
    found: dict = {side: {k: [] for k in KINDS} for side in SIDES}
    found |= {"stop would change": [], "shown feedback changed": []}
    for t_old, t_new in zip(old, new, strict=True):
        for i, (a, b) in enumerate(zip(t_old.turns, t_new.turns, strict=True)):
            where = f"{t_old.key} t{i + 1}"
            for side in SIDES:
                change = kind(getattr(a, side), getattr(b, side))
                if change:
                    found[side][change].append((where, a, b))
            if stop_would_change(t_old, i, b.public, horizon):
                found["stop would change"].append(where)
            if i < len(t_old.turns) - 1 and a.public.feedback != b.public.feedback:
                found["shown feedback changed"].append((where, a, b))
    return found


def _print_changes(title: str, side: str, by_kind: dict[str, list]) -> None:
    print(f"\n{title}: " + ", ".join(f"{k} {len(found)}" for k, found in by_kind.items()))
    if not any(by_kind.values()):
        return
    print("\n| change | where | old verdict | new verdict |\n|---|---|---|---|")
    for k, found in by_kind.items():
        for where, a, b in found:
            old, new = getattr(a, side), getattr(b, side)
            print(f"| {k} | {where} | {old.status}: {_last_line(old)} "
                  f"| {new.status}: {_last_line(new)} |")  # fmt: skip


def _read_run(run_dir: Path, recorded: dict) -> tuple[GenerationRun, int, list[Trajectory]]:
    """The run's config, its horizon T, and its trajectories (a search: its kept paths)."""
    if (run_dir / SEARCHES).exists():
        search = SearchRun.model_validate(recorded)
        kept = [episode.kept_path() for episode in read_searches(run_dir / SEARCHES)]
        return search, search.search.turns, kept
    rollout = RolloutRun.model_validate(recorded)
    return rollout, rollout.rollout.turns, read_trajectories(run_dir / TRAJECTORIES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--data-dir", type=Path, help="default: $MUCODE_DATA_DIR, else the manifest's"
    )
    args = parser.parse_args()
    if args.out.resolve() == args.run_dir.resolve():
        raise SystemExit("--out must be a new directory, not the run itself")
    manifest = json.loads((args.run_dir / MANIFEST).read_text())
    config, horizon, old = _read_run(args.run_dir, manifest["config"])
    data_dir = args.data_dir or (None if os.environ.get("MUCODE_DATA_DIR") else config.data_dir)
    new, limits = relabel(old, config, data_dir)
    found = changes(old, new, horizon)
    before, after = accuracy_by_turn(old, horizon), accuracy_by_turn(new, horizon)

    args.out.mkdir(parents=True, exist_ok=True)
    write_jsonl(args.out / TRAJECTORIES, (t.to_dict() for t in new))
    counts = {side: {k: [w for w, _, _ in c] for k, c in found[side].items()} for side in SIDES}
    manifest["relabelled"] = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": str(args.run_dir),
        "git": git_state(),
        "versions": versions(),
        "limits": limits.to_dict(),
        "turns": sum(len(t.turns) for t in old),
        "changes": counts,
        "stop_would_change": found["stop would change"],
        "shown_feedback_changed": [w for w, _, _ in found["shown feedback changed"]],
        "infra_error_trajectories": sum(t.infra_error for t in new),
        "accuracy_by_turn": {"before": before, "after": after},
    }
    (args.out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")

    print(f"## {args.run_dir} -> {args.out}")
    print(f"\n{len(old)} trajectories, {manifest['relabelled']['turns']} turns, horizon {horizon}")
    for side in SIDES:
        _print_changes(f"{side} verdict changes", side, found[side])
    stops = found["stop would change"]
    print(f"\npublic changes that would change whether the episode stopped: {len(stops)}"
          + (f" ({', '.join(stops)})" if stops else ""))  # fmt: skip
    shown = {"feedback text changed": found["shown feedback changed"]}
    _print_changes(
        "public feedback shown to the model (turns followed by another)", "public", shown
    )
    print(f"trajectories with infra_error now: {sum(t.infra_error for t in new)}")
    print("\n| turn | accuracy before | after |\n|---|---|---|")
    for turn, (a, b) in enumerate(zip(before, after, strict=True), start=1):
        print(f"| {turn} | {a:.3f} | {b:.3f} |")


if __name__ == "__main__":
    main()
