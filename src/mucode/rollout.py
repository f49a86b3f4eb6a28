"""Roll a generator out on problems for up to T turns; append finished trajectories.

Episodes stream: a few run at once, each turn being one ``generate`` call and one
sandbox run (public tests for feedback, the oracle for the label). A trajectory is
written (and flushed) only when its episode ends, so a run killed at any point, even
with ``kill -9``, restarts from the trajectories on disk with none lost and none
duplicated. ``step`` also advances many episodes in lockstep, for batch-oriented callers.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from mucode.calibration import ProblemLimits, problem_limits
from mucode.core.errors import ContextFull
from mucode.core.jsonl import stream_jsonl
from mucode.core.records import Problem, Trajectory, Turn
from mucode.env import Episode, extract_code, judge
from mucode.generation.base import Generator, SamplingParams
from mucode.sandbox import ProgramRunner
from mucode.streaming import pending, set_aside_unjudged, stream_to_jsonl

TRAJECTORIES = "trajectories.jsonl"


class RolloutConfig(BaseModel):
    """How many episodes, how long, and how to sample."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    turns: int = Field(3, ge=1, description="Maximum turns T per episode.")
    samples: int = Field(1, ge=1, description="Episodes (trajectories) per problem.")
    concurrency: int = Field(
        4, ge=1, description="Episodes in flight at once; match the engine's parallel slots."
    )
    sampling: SamplingParams = Field(default_factory=SamplingParams)


@dataclass
class StepStats:
    """Work done by this process (not counting resumed trajectories).

    Times are summed over episodes, so with several in flight they exceed the wall time.
    """

    tokens: int = 0
    generate_s: float = 0.0
    programs: int = 0
    execute_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def rates(self) -> dict[str, float]:
        """Running totals for a progress bar: generated tokens and programs run."""
        return {"tok": self.tokens, "programs": self.programs}

    def add(self, tokens: int, generate_s: float, programs: int, execute_s: float) -> None:
        """Count one step (thread-safe)."""
        with self.lock:
            self.tokens += tokens
            self.generate_s += generate_s
            self.programs += programs
            self.execute_s += execute_s


@dataclass(frozen=True, slots=True)
class RolloutSummary:
    """What a rollout run produced."""

    path: Path
    trajectories: int
    resumed: int
    solved_by_turn: tuple[float, ...]  # oracle accuracy if episodes had stopped after turn t
    stats: StepStats
    wall_s: float
    context_full: int = 0  # episodes ended because the conversation outgrew the context
    infra_error: int = 0  # episodes ended by a sandbox failure; left out of the accuracy

    @property
    def tokens_per_s(self) -> float:
        """Generated tokens per second of this run's wall time (the pipeline's rate)."""
        return self.stats.tokens / self.wall_s if self.wall_s else 0.0


def derive_seed(*parts: object) -> int:
    """A 32-bit seed fixed by ``parts``, whatever the batch, thread or restart."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big")


def episode_seed(base: int, task_id: str, sample: int, turn: int) -> int:
    """The seed of one rollout request: fixed by (base seed, task, sample, turn)."""
    return derive_seed(base, task_id, sample, turn)


def read_trajectories(path: Path) -> list[Trajectory]:
    """Trajectories already on disk; a last line without its newline (torn by a kill) is not one."""
    if not Path(path).exists():
        return []
    return [Trajectory.from_dict(obj) for _, obj in stream_jsonl(path, appended=True)]


def step(episodes: Sequence[Episode], generator: Generator, sandbox: ProgramRunner,
         sampling: SamplingParams, stats: StepStats,
         limits: ProblemLimits | None = None) -> None:  # fmt: skip
    """Advance every unfinished episode by one turn; add the work done to ``stats``.

    Code runs under each problem's wall limit from ``limits`` (None: the sandbox's own)."""
    active = [e for e in episodes if not e.done]
    if not active:
        return
    seeds = [
        episode_seed(sampling.seed, e.problem.task_id, e.sample_index, len(e.turns)) for e in active
    ]
    start = time.perf_counter()
    try:
        completions = generator.generate([e.messages for e in active], 1, sampling, seeds)
    except ContextFull:
        if len(active) == 1:
            active[0].context_full = True
        else:  # find which conversations outgrew the context: step each on its own
            for episode in active:
                step([episode], generator, sandbox, sampling, stats, limits)
        return
    batch_s = time.perf_counter() - start
    codes = [
        extract_code(c[0].text, e.problem.entry_point).code
        for e, c in zip(active, completions, strict=True)
    ]
    start = time.perf_counter()
    programs = [(e.problem, code) for e, code in zip(active, codes, strict=True)]
    verdicts = judge(programs, sandbox, limits)
    tokens = sum(c[0].completion_tokens for c in completions)
    stats.add(tokens, batch_s, 2 * sum(map(bool, codes)), time.perf_counter() - start)
    for episode, code, answer, (public, oracle) in zip(active, codes, completions, verdicts,
                                                       strict=True):  # fmt: skip
        episode.record(Turn(answer[0], code, public, oracle, batch_s / len(active)))


def run_rollouts(  # noqa: PLR0913 - a caller may watch `stats` and record `limits`
    problems: Sequence[Problem],
    generator: Generator,
    sandbox: ProgramRunner,
    config: RolloutConfig,
    out_dir: Path,
    on_progress: Callable[[int, int], None] | None = None,
    stats: StepStats | None = None,
    limits: ProblemLimits | None = None,
) -> RolloutSummary:
    """Roll out every (problem, sample) not yet on disk; return the run's summary.

    The work done is added to ``stats`` (a fresh one by default) as it happens. Code runs
    under each problem's limits: ``limits``, by default ``problem_limits`` of the problems.

    ``config.concurrency`` episodes run at once, each in its own thread: while one runs
    its code in the sandbox the others are generating, so the engine's slots stay full
    and execution overlaps generation. Finished trajectories are appended as they end.
    """
    started = time.perf_counter()
    stats = stats if stats is not None else StepStats()
    path = Path(out_dir) / TRAJECTORIES
    path.parent.mkdir(parents=True, exist_ok=True)
    set_aside_unjudged(path)
    existing = read_trajectories(path)
    runs = pending(_runs(problems, config.samples), (t.key for t in existing))
    todo = [Episode(p, s, config.turns) for p, s in runs]
    limits = limits if limits is not None else problem_limits(problems, sandbox)
    tasks = [partial(_play, e, generator, sandbox, config.sampling, stats, limits) for e in todo]
    stream_to_jsonl(tasks, path, config.concurrency, on_progress, already_done=len(existing))
    return summarize_rollouts(path, config.turns, stats, time.perf_counter() - started,
                              resumed=len(existing))  # fmt: skip


def summarize_rollouts(path: Path, horizon: int, stats: StepStats, wall_s: float,
                       resumed: int | None = None) -> RolloutSummary:  # fmt: skip
    """Summary of the trajectories in ``path``; ``resumed`` of them came from earlier runs
    (default: all, for a run that had nothing left to do)."""
    trajectories = read_trajectories(path)
    return RolloutSummary(path, len(trajectories),
                          len(trajectories) if resumed is None else resumed,
                          accuracy_by_turn(trajectories, horizon), stats, wall_s,
                          sum(t.context_full for t in trajectories),
                          sum(t.infra_error for t in trajectories))  # fmt: skip


def rollouts_left(problems: Sequence[Problem], samples: int, out_dir: Path) -> int:
    """How many (problem, sample) trajectories ``out_dir`` does not hold yet."""
    existing = read_trajectories(Path(out_dir) / TRAJECTORIES)
    return len(pending(_runs(problems, samples), (t.key for t in existing)))


def _runs(problems: Sequence[Problem], samples: int) -> list[tuple[Problem, int]]:
    return [(p, s) for p in problems for s in range(samples)]  # a problem's samples together


def _play(episode: Episode, generator: Generator, sandbox: ProgramRunner, sampling: SamplingParams,
          stats: StepStats, limits: ProblemLimits) -> dict:  # fmt: skip
    while not episode.done:
        step([episode], generator, sandbox, sampling, stats, limits)
    return episode.trajectory().to_dict()


def accuracy_by_turn(trajectories: Sequence[Trajectory], horizon: int) -> tuple[float, ...]:
    """Oracle accuracy had every episode stopped after turn t (t = 1..horizon).

    An episode that stopped early (public tests passed, or its conversation outgrew the
    context) keeps its last turn's label; one with no turn at all counts as unsolved. An
    episode the sandbox failed on (``infra_error``) was not judged and is left out.
    """
    judged = [t for t in trajectories if not t.infra_error]
    if not judged:
        return ()
    return tuple(
        sum(bool(t.turns) and t.turns[min(turn, len(t.turns)) - 1].oracle.passed
            for t in judged) / len(judged)
        for turn in range(1, horizon + 1)
    )  # fmt: skip
