"""The local search expert: per problem, the best of the rollouts' final codes.

Its inputs are trajectories read from rollout directories, each tagged with its source
and the expert iteration it belongs to (``RolloutSource``; ``"DIR@N"`` on the command line).

The candidates of a problem are the final codes of its trajectories, each distinct code
once (exact text), remembering every trajectory that ended with it. An empty final code
(an answer without code) is no candidate, and a trajectory the sandbox failed on
(``infra_error``) is left out before this module sees it. A candidate's score is

    score = β_O · oracle + β_L · verifier

where ``oracle`` is 1 when its stored oracle verdict passed (the first trajectory seen with
that code decides) and ``verifier`` is the learned verifier's score of (the prompt the
generator saw on turn 1, the code), as ``mucode.verifier`` forms it. y* is the candidate
with the highest score; exact ties go to the correct code (only while β_O > 0), then to the
higher verifier score, then to the candidate seen first (sources in the order given,
trajectories in file order). The oracle counts only through β_O, so with β_O = 0
(µCode-LV) the choice never sees it; with β_L = 0 (µCode-OV) no verifier is consulted.
With both positive, a correct code wins over an incorrect one only while the incorrect
one's verifier score is less than β_O / β_L above it (10 at the paper's β_O = 1,
β_L = 0.1; 100 at the reference code's 100:1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mucode.core.errors import ConfigError, DatasetError
from mucode.core.records import Trajectory
from mucode.rollout import TRAJECTORIES, read_trajectories

NO_CODE = float("-inf")  # the score of a trajectory whose final answer had no code


class TextScorer(Protocol):
    """Anything that scores (prompt, code) pairs, as ``Verifier.score_texts`` does."""

    def score_texts(self, prompts: Sequence[str], codes: Sequence[str]) -> list[float]:
        """One score per pair; higher means more likely correct."""
        ...


@dataclass(frozen=True, slots=True)
class SourcedTrajectory:
    """A trajectory and where it came from: its rollout directory and expert iteration."""

    trajectory: Trajectory
    source: str
    iteration: int

    @property
    def problem(self) -> str:
        """``benchmark:task_id``: MBPP and MBPP-sanitized share task ids."""
        return f"{self.trajectory.benchmark}:{self.trajectory.task_id}"

    @property
    def prompt(self) -> str:
        """The prompt the generator saw on turn 1 (what the verifier scores codes against)."""
        return self.trajectory.messages[0].content

    @property
    def final_code(self) -> str:
        """The last turn's code; empty without turns."""
        turns = self.trajectory.turns
        return turns[-1].code if turns else ""


@dataclass(frozen=True, slots=True)
class RolloutSource:
    """A rollout directory and the expert iteration its rollouts belong to."""

    path: Path
    iteration: int = 0

    @classmethod
    def parse(cls, text: str) -> RolloutSource:
        """``DIR`` (iteration 0) or ``DIR@N`` (iteration N)."""
        head, sep, tail = text.rpartition("@")
        if sep and tail.isdigit() and not Path(text).exists():
            return cls(Path(head), int(tail))
        return cls(Path(text))


SourceLike = RolloutSource | Path | str | tuple[Path | str, int]


def as_source(item: SourceLike) -> RolloutSource:
    """A ``RolloutSource`` from any accepted form (a bare path is iteration 0)."""
    if isinstance(item, RolloutSource):
        return item
    if isinstance(item, tuple):
        return RolloutSource(Path(item[0]), int(item[1]))
    return RolloutSource.parse(item) if isinstance(item, str) else RolloutSource(Path(item))


def load_sources(sources: Sequence[SourceLike]) -> tuple[list[SourcedTrajectory], list[dict]]:
    """Every judged trajectory of the sources, and per source its path, iteration, and
    counts of trajectories read and left out (``infra_error``)."""
    resolved = [as_source(s) for s in sources]
    paths = [s.path.resolve() for s in resolved]
    if len(set(paths)) != len(paths):
        raise ConfigError("a rollout directory is given twice; give each once")
    found, info = [], []
    for source in resolved:
        trajectories = _read_source(source.path)
        judged = [t for t in trajectories if not _sandbox_failed(t)]
        found += [SourcedTrajectory(t, str(source.path), source.iteration) for t in judged]
        info.append({"path": str(source.path), "iteration": source.iteration,
                     "trajectories": len(trajectories),
                     "infra_error": len(trajectories) - len(judged)})  # fmt: skip
    if not found:
        raise DatasetError(f"no usable trajectories in {', '.join(str(s.path) for s in resolved)}")
    return found, info


def _read_source(run_dir: Path) -> list[Trajectory]:
    path = run_dir / TRAJECTORIES
    if not run_dir.is_dir():
        raise DatasetError(f"{run_dir}: no such directory; pass a `mucode rollout` --out directory")
    if not path.is_file():
        raise DatasetError(f"{run_dir}: no {TRAJECTORIES}; pass a `mucode rollout` --out directory")
    try:
        trajectories = read_trajectories(path)
    except (KeyError, TypeError, ValueError) as e:
        raise DatasetError(f"{path}: not trajectories written by `mucode rollout` ({e})") from e
    for t in trajectories:
        _check_conversation(t, path)
    return trajectories


def _check_conversation(trajectory: Trajectory, path: Path) -> None:
    """A state needs the prompt, then each answer followed by its feedback."""
    needed = max(1, 2 * len(trajectory.turns))
    roles = [m.role for m in trajectory.messages[:needed]]
    if roles != (["user", "assistant"] * max(1, len(trajectory.turns)))[:needed]:
        raise DatasetError(
            f"{path}: trajectory {trajectory.key} has {len(trajectory.turns)} turns but its "
            f"messages run {roles}; expected the prompt, then each answer and its feedback"
        )


def _sandbox_failed(trajectory: Trajectory) -> bool:
    return trajectory.infra_error or any(turn.infra_error for turn in trajectory.turns)


@dataclass(frozen=True, slots=True)
class Beta:
    """The expert's weights on the oracle and on the learned verifier."""

    oracle: float
    verifier: float

    def score(self, correct: bool, verifier: float | None) -> float:
        """β_O · oracle + β_L · verifier (a verifier term of 0 when β_L is 0)."""
        learned = self.verifier * verifier if self.verifier else 0.0
        return self.oracle * float(correct) + learned


@dataclass(frozen=True, slots=True)
class Candidate:
    """One distinct final code of a problem, with its scores and every trajectory it ended."""

    code: str
    correct: bool
    verifier: float | None  # None when no verifier was consulted (β_L = 0)
    score: float
    origins: tuple[SourcedTrajectory, ...]


@dataclass(frozen=True, slots=True)
class Pool:
    """A problem's trajectories and the candidates among their final codes.

    ``iteration`` is None for a pool of every iteration's trajectories, else the one
    iteration whose trajectories alone form the pool.
    """

    problem: str
    iteration: int | None
    trajectories: tuple[SourcedTrajectory, ...]
    candidates: tuple[Candidate, ...]
    beta: Beta

    @property
    def best(self) -> Candidate | None:
        """y*: the highest score; at a tie the correct code (if β_O > 0), then the higher
        verifier score, then the first seen."""
        if not self.candidates:
            return None
        weighs_oracle = self.beta.oracle > 0
        return max(self.candidates, key=lambda c: _rank(c, weighs_oracle))  # first of equals

    @property
    def has_correct(self) -> bool:
        """Some candidate passes the oracle."""
        return any(c.correct for c in self.candidates)

    def candidate(self, code: str) -> Candidate | None:
        """The candidate with this exact code, if any."""
        return next((c for c in self.candidates if c.code == code), None)

    def final_score(self, trajectory: SourcedTrajectory) -> float:
        """The expert score of a trajectory's final code (``NO_CODE`` without code)."""
        found = self.candidate(trajectory.final_code) if trajectory.final_code else None
        return found.score if found else NO_CODE


def _rank(candidate: Candidate, weighs_oracle: bool) -> tuple[float, bool, float]:
    verifier = candidate.verifier if candidate.verifier is not None else 0.0
    return candidate.score, weighs_oracle and candidate.correct, verifier


def group_pools(
    trajectories: Sequence[SourcedTrajectory], by_iteration: bool
) -> list[tuple[str, int | None, list[SourcedTrajectory]]]:
    """(problem, iteration, trajectories) per pool, in first-seen order; one pool per
    problem, or one per (problem, iteration) when ``by_iteration``."""
    pools: dict[tuple[str, int | None], list[SourcedTrajectory]] = {}
    for t in trajectories:
        pools.setdefault((t.problem, t.iteration if by_iteration else None), []).append(t)
    return [(problem, iteration, members) for (problem, iteration), members in pools.items()]


def expert_pools(trajectories: Sequence[SourcedTrajectory], beta: Beta,
                 scorer: TextScorer | None, by_iteration: bool = False) -> list[Pool]:  # fmt: skip
    """Every pool with its scored candidates; the verifier scores each distinct
    (prompt, code) once, in one batched call, and only when β_L is not 0."""
    groups = [
        (problem, iteration, members, _distinct_finals(members))
        for problem, iteration, members in group_pools(trajectories, by_iteration)
    ]
    verifier = _verifier_scores(groups, beta, scorer)
    pools = []
    for problem, iteration, members, finals in groups:
        candidates = []
        for code, origins in finals.items():
            correct = origins[0].trajectory.turns[-1].oracle.passed
            score = verifier.get((origins[0].prompt, code)) if verifier else None
            candidates.append(Candidate(code, correct, score, beta.score(correct, score),
                                        tuple(origins)))  # fmt: skip
        pools.append(Pool(problem, iteration, tuple(members), tuple(candidates), beta))
    return pools


def _distinct_finals(members: Sequence[SourcedTrajectory]) -> dict[str, list[SourcedTrajectory]]:
    finals: dict[str, list[SourcedTrajectory]] = {}
    for t in members:
        if t.final_code:
            finals.setdefault(t.final_code, []).append(t)
    return finals


def _verifier_scores(groups: Sequence[tuple], beta: Beta,
                     scorer: TextScorer | None) -> dict[tuple[str, str], float]:  # fmt: skip
    if not beta.verifier:
        return {}
    if scorer is None:
        raise ConfigError(f"the expert weighs the verifier (beta_verifier {beta.verifier}) "
                          "but no verifier was given")  # fmt: skip
    pairs = list(dict.fromkeys((origins[0].prompt, code) for *_, finals in groups
                               for code, origins in finals.items()))  # fmt: skip
    if not pairs:
        return {}
    scores = scorer.score_texts([p for p, _ in pairs], [c for _, c in pairs])
    if len(scores) != len(pairs):
        raise ValueError(f"the verifier returned {len(scores)} scores for {len(pairs)} codes")
    return dict(zip(pairs, scores, strict=True))
