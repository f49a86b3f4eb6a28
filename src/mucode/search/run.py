"""Run a multi-turn Best-of-N search over problems and repeats; resumable.

Per turn: N candidates from one ``generate`` call (candidate i uses the turn's seed + i,
so the first candidates of a search with N=5 are those of N=1 with the same seed); each
is judged on the public tests and, for labels only, on the hidden tests; a verifier
scores them if the rule needs it; the rule keeps one. The kept answer and its public
feedback extend the conversation. A search stops when the kept code passes the public
tests or after T turns. Hidden tests never reach a prompt, a stopping decision, or a
selection other than ``ov``. A turn with a candidate the sandbox kept failing on
(``infra_error`` after retries) ends the search before any selection, marked
``infra_error``: that candidate was not judged, so no rule may rank it as a failure.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from mucode.calibration import ProblemLimits, problem_limits
from mucode.core.errors import ConfigError, ContextFull
from mucode.core.jsonl import stream_jsonl
from mucode.core.records import Problem, Status, Turn
from mucode.env import INFRA_RETRIES, Episode, extract_code, judge
from mucode.generation.base import Generator, SamplingParams
from mucode.rollout import StepStats, derive_seed
from mucode.sandbox import ProgramRunner
from mucode.search.records import SearchEpisode, SearchTurn
from mucode.search.selectors import Selection, select
from mucode.streaming import pending, set_aside_unjudged, stream_to_jsonl

logger = logging.getLogger(__name__)

SEARCHES = "searches.jsonl"
Scorer = Callable[[Problem, Sequence[str]], list[float]]


class SearchConfig(BaseModel):
    """The search: selection rule, N, T, repeats and sampling."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    select: Selection = Selection.PT
    n: int = Field(5, ge=1, description="Candidates per turn.")
    turns: int = Field(3, ge=1, description="Maximum turns T.")
    repeats: int = Field(1, ge=1, description="Independent searches per problem, seeded apart.")
    concurrency: int = Field(4, ge=1, description="Searches in flight at once.")
    sampling: SamplingParams = Field(default_factory=lambda: SamplingParams(temperature=0.7))


def turn_seed(base: int, task_id: str, repeat: int, turn: int) -> int:
    """Seed of a turn's generate call (candidate i: + i)."""
    return derive_seed(base, task_id, "search", repeat, turn)


@dataclass
class Searcher:
    """The engine, sandbox and optional verifier a search runs with, and the work done."""

    generator: Generator
    sandbox: ProgramRunner
    config: SearchConfig
    scorer: Scorer | None = None
    stats: StepStats = field(default_factory=StepStats)

    def __post_init__(self) -> None:
        if self.config.select.needs_verifier and self.scorer is None:
            raise ConfigError(
                f"--select {self.config.select.value} needs a verifier (--verifier DIR)"
            )

    def search(self, problem: Problem, repeat: int,
               limits: ProblemLimits | None = None) -> SearchEpisode:  # fmt: skip
        """One search on one problem; code runs under ``limits`` (None: the sandbox's own)."""
        config = self.config
        episode = Episode(problem, repeat, config.turns)
        turns: list[SearchTurn] = []
        while not episode.done:
            t = len(episode.turns)
            try:
                candidates, scores = self._candidates(episode, repeat, limits)
            except ContextFull:
                episode.context_full = True
                break
            if any(c.infra_error for c in candidates):
                episode.infra_error = True
                _warn_unjudged(problem, repeat, candidates)
                break
            pick = random.Random(
                derive_seed(config.sampling.seed, problem.task_id, repeat, t, "pick")
            )
            index = select(config.select, candidates, scores, pick)
            turns.append(SearchTurn(candidates, scores, index))
            episode.record(candidates[index])
        return SearchEpisode(problem.task_id, problem.benchmark, problem.split, repeat,
                             tuple(episode.messages), tuple(turns),
                             episode.context_full, episode.infra_error)  # fmt: skip

    def _candidates(self, episode: Episode, repeat: int, limits: ProblemLimits | None):
        """This turn's N judged candidates and their verifier scores (None without one)."""
        problem, config = episode.problem, self.config
        seed = turn_seed(config.sampling.seed, problem.task_id, repeat, len(episode.turns))
        started = time.perf_counter()
        (answers,) = self.generator.generate([episode.messages], config.n, config.sampling, [seed])
        generate_s = time.perf_counter() - started
        codes = [extract_code(a.text, problem.entry_point).code for a in answers]
        started = time.perf_counter()
        verdicts = judge([(problem, code) for code in codes], self.sandbox, limits)
        self.stats.add(sum(a.completion_tokens for a in answers), generate_s,
                       2 * sum(map(bool, codes)), time.perf_counter() - started)  # fmt: skip
        candidates = tuple(
            Turn(answer, code, public, oracle, generate_s / len(answers))
            for answer, code, (public, oracle) in zip(answers, codes, verdicts, strict=True)
        )
        scores = tuple(self.scorer(problem, codes)) if self.scorer is not None else None
        return candidates, scores

    def run(self, problems: Sequence[Problem], out_dir: Path,
            on_progress: Callable[[int, int], None] | None = None,
            limits: ProblemLimits | None = None) -> Path:  # fmt: skip
        """Search every (problem, repeat) not yet in ``out_dir``; return the results file.

        Repeats run in order, so an interrupted run holds whole repeats first. Code runs
        under each problem's limits: ``limits``, by default ``problem_limits`` of the problems.
        """
        path = Path(out_dir) / SEARCHES
        path.parent.mkdir(parents=True, exist_ok=True)
        set_aside_unjudged(path)
        have = [e.key for e in read_searches(path)]
        runs = pending(_runs(problems, self.config.repeats), have)
        limits = limits if limits is not None else problem_limits(problems, self.sandbox)
        tasks = [partial(self._record, p, r, limits) for p, r in runs]
        stream_to_jsonl(tasks, path, self.config.concurrency, on_progress, already_done=len(have))
        return path

    def _record(self, problem: Problem, repeat: int, limits: ProblemLimits) -> dict:
        return self.search(problem, repeat, limits).to_dict()


def _warn_unjudged(problem: Problem, repeat: int, candidates: Sequence[Turn]) -> None:
    feedback = next(v.feedback for c in candidates for v in (c.public, c.oracle)
                    if v.status is Status.INFRA_ERROR)  # fmt: skip
    logger.warning("%s repeat %d: the sandbox failed on a candidate %d times (%s); the search "
                   "ends here and is left out of the accuracies", problem.task_id, repeat,
                   INFRA_RETRIES + 1, feedback)  # fmt: skip


def searches_left(problems: Sequence[Problem], repeats: int, out_dir: Path) -> int:
    """How many (problem, repeat) searches ``out_dir`` does not hold yet."""
    have = [e.key for e in read_searches(Path(out_dir) / SEARCHES)]
    return len(pending(_runs(problems, repeats), have))


def _runs(problems: Sequence[Problem], repeats: int) -> list[tuple[Problem, int]]:
    return [(p, r) for r in range(repeats) for p in problems]  # whole repeats first


def read_searches(path: Path) -> list[SearchEpisode]:
    """Searches already on disk; a last line without its newline (torn by a kill) is not one."""
    if not Path(path).exists():
        return []
    return [SearchEpisode.from_dict(obj) for _, obj in stream_jsonl(path, appended=True)]
