"""Verifier data from rollout directories: labelled codes, pointwise and pairwise sets.

Every turn's code is labelled by its oracle verdict (public + hidden tests); turns whose
oracle run was an ``infra_error`` carry no label and are left out. The verifier sees the
problem prompt (the first user message, no turn history) and the code. Identical codes of
one problem are kept once. Validation problems are chosen by problem, never by sample, so
no problem is on both sides.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mucode.core.errors import DatasetError
from mucode.core.records import Status, Trajectory
from mucode.rollout import TRAJECTORIES, read_trajectories


@dataclass(frozen=True, slots=True)
class LabelledCode:
    """One distinct code for one problem, with the oracle's label."""

    code: str
    correct: bool


@dataclass(frozen=True, slots=True)
class ProblemCodes:
    """A problem's prompt, its distinct labelled codes, and the first-turn candidates.

    ``first_turn`` keeps every sample's first-turn code in sample order, duplicates
    included: i.i.d. draws from the generator, the pool for best-of-N selection.
    """

    key: str  # "benchmark:task_id": MBPP and MBPP-sanitized share task ids
    prompt: str
    codes: tuple[LabelledCode, ...]
    first_turn: tuple[LabelledCode, ...]

    @property
    def correct(self) -> tuple[str, ...]:
        """Distinct codes that pass the oracle."""
        return tuple(c.code for c in self.codes if c.correct)

    @property
    def incorrect(self) -> tuple[str, ...]:
        """Distinct codes that fail the oracle."""
        return tuple(c.code for c in self.codes if not c.correct)


@dataclass(frozen=True, slots=True)
class PointExample:
    """Pointwise (BCE) example."""

    prompt: str
    code: str
    label: float


@dataclass(frozen=True, slots=True)
class PairExample:
    """Pairwise (Bradley–Terry) example: ``chosen`` passes the oracle, ``rejected`` fails."""

    prompt: str
    chosen: str
    rejected: str


class _Builder:
    def __init__(self, prompt: str) -> None:
        self.prompt = prompt
        self.codes: dict[str, bool] = {}  # first label seen wins
        self.first_turn: list[LabelledCode] = []


def _labelled_turns(trajectory: Trajectory) -> Iterable[tuple[int, LabelledCode]]:
    for index, turn in enumerate(trajectory.turns):
        if turn.oracle.status is not Status.INFRA_ERROR:
            yield index, LabelledCode(turn.code, turn.oracle.passed)


def _prompt_of(trajectory: Trajectory, where: str) -> str:
    if not trajectory.messages or trajectory.messages[0].role != "user":
        raise DatasetError(f"{where}: trajectory {trajectory.key} does not start with a prompt")
    return trajectory.messages[0].content


def load_problem_codes(rollout_dirs: Sequence[Path]) -> list[ProblemCodes]:
    """Labelled codes per problem from one or more rollout directories, in first-seen order."""
    builders: dict[str, _Builder] = {}
    for run_dir in rollout_dirs:
        path = Path(run_dir) / TRAJECTORIES
        if not path.exists():
            raise DatasetError(f"{run_dir}: no {TRAJECTORIES}; pass a `mucode rollout` --out dir")
        for trajectory in read_trajectories(path):
            key = f"{trajectory.benchmark}:{trajectory.task_id}"
            builder = builders.setdefault(key, _Builder(_prompt_of(trajectory, str(path))))
            for index, labelled in _labelled_turns(trajectory):
                builder.codes.setdefault(labelled.code, labelled.correct)
                if index == 0:
                    builder.first_turn.append(labelled)
    if not builders:
        raise DatasetError(f"no trajectories in {', '.join(map(str, rollout_dirs))}")
    return [
        ProblemCodes(
            key,
            b.prompt,
            tuple(LabelledCode(*item) for item in b.codes.items()),
            tuple(b.first_turn),
        )
        for key, b in builders.items()
    ]


def split_by_problem(
    problems: Sequence[ProblemCodes], validation_fraction: float, seed: int
) -> tuple[list[ProblemCodes], list[ProblemCodes]]:
    """(train, validation): a seeded shuffle of the problems, cut by ``validation_fraction``."""
    if not 0 <= validation_fraction < 1:
        raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
    order = sorted(range(len(problems)), key=lambda i: problems[i].key)
    random.Random(seed).shuffle(order)
    n_validation = math.ceil(validation_fraction * len(problems))
    held_out = set(order[:n_validation])
    train = [p for i, p in enumerate(problems) if i not in held_out]
    validation = [p for i, p in enumerate(problems) if i in held_out]
    return train, validation


def point_examples(problems: Iterable[ProblemCodes]) -> list[PointExample]:
    """Every distinct code of every problem with its 0/1 label."""
    return [PointExample(p.prompt, c.code, float(c.correct)) for p in problems for c in p.codes]


def pair_examples(
    problems: Iterable[ProblemCodes], pairs_per_problem: int, seed: int
) -> list[PairExample]:
    """Up to ``pairs_per_problem`` random (correct, incorrect) pairs within each problem.

    Pairs never cross problems and never pair a code with itself (a code has one label).
    Sampling is without replacement, seeded per problem so adding problems does not
    change the pairs of the others.
    """
    pairs = []
    for p in problems:
        correct, incorrect = p.correct, p.incorrect
        total = len(correct) * len(incorrect)
        if total == 0:
            continue
        rng = random.Random(f"{seed}|{p.key}")
        for flat in rng.sample(range(total), min(pairs_per_problem, total)):
            chosen, rejected = divmod(flat, len(incorrect))
            pairs.append(PairExample(p.prompt, correct[chosen], incorrect[rejected]))
    return pairs
