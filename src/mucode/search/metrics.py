"""Search results as numbers: BoN accuracy per turn with a 95% interval, and pass@k.

Accuracy after turn t is the hidden-test pass rate of the code kept at turn t (a search
that stopped earlier keeps its last code). Per problem, it is averaged over repeats; the
interval is mean ± 1.96 standard errors of those per-problem means (a normal
approximation over problems, which dominate the variance; repeats smooth each problem).
Searches the sandbox failed on (``infra_error``) were not judged: every number leaves
them out, as ``mucode evaluate --infra-errors exclude`` does, and only their count is kept.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from mucode.core.errors import SandboxError
from mucode.metrics import mean_pass_at_k
from mucode.search.records import SearchEpisode

Z_95 = 1.959964


@dataclass(frozen=True, slots=True)
class MeanCI:
    """A mean with its 95% confidence interval."""

    mean: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.mean:.3f} ± {(self.high - self.low) / 2:.3f}"


def mean_ci(values: Sequence[float]) -> MeanCI:
    """Mean ± 1.96 standard errors (zero width for a single value)."""
    if not values:
        raise ValueError("no values")
    mean = statistics.fmean(values)
    half = Z_95 * statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return MeanCI(mean, mean - half, mean + half)


def kept_passed(episode: SearchEpisode, turn: int) -> bool:
    """Did the code kept after ``turn`` (1-based) pass the hidden tests? (A search whose
    prompt never fitted the context has no kept code: no.)"""
    turns = episode.turns
    return bool(turns) and turns[min(turn, len(turns)) - 1].kept.oracle.passed


@dataclass(frozen=True, slots=True)
class SearchSummary:
    """A search run's results."""

    problems: int
    repeats: int
    accuracy_by_turn: tuple[MeanCI, ...]
    repeat_accuracy: tuple[float, ...]  # final-turn accuracy of each repeat
    pass_at_k: dict[int, float]  # over the first-turn candidates of all repeats
    public_pass_rate: float  # share of searches whose kept code passed the public tests
    context_full: int = 0  # searches ended early: the conversation outgrew the context
    infra_error: int = 0  # searches ended by a sandbox failure, left out of every number

    def to_dict(self) -> dict:
        """Plain-JSON form."""
        data = asdict(self)
        data["pass_at_k"] = {str(k): v for k, v in self.pass_at_k.items()}
        return data


def summarize(episodes: Sequence[SearchEpisode], turns: int, n: int) -> SearchSummary:
    """Summarise searches of up to ``turns`` turns with ``n`` candidates each."""
    if not episodes:
        raise ValueError("no searches to summarise")
    judged = [e for e in episodes if not e.infra_error]
    if not judged:
        raise SandboxError(f"the sandbox failed on all {len(episodes)} searches (infra_error), "
                           "so there is nothing to score; check `mucode sandbox info`")  # fmt: skip
    by_problem: dict[str, list[SearchEpisode]] = defaultdict(list)
    by_repeat: dict[int, list[SearchEpisode]] = defaultdict(list)
    for e in judged:
        by_problem[e.task_id].append(e)
        by_repeat[e.repeat].append(e)
    accuracy = tuple(
        mean_ci([statistics.fmean(kept_passed(e, t) for e in runs) for runs in by_problem.values()])
        for t in range(1, turns + 1)
    )
    repeat_accuracy = tuple(
        statistics.fmean(kept_passed(e, turns) for e in by_repeat[r]) for r in sorted(by_repeat)
    )
    counts = []
    for runs in by_problem.values():
        first = [c for e in runs if e.turns for c in e.turns[0].candidates]
        # a prompt that never fitted the context: as if every candidate had failed
        counts.append((len(first) or n * len(runs), sum(c.oracle.passed for c in first)))
    ks = sorted({1, n, n * len(by_repeat)})
    public = statistics.fmean(bool(e.turns) and e.turns[-1].kept.public.passed for e in judged)
    return SearchSummary(len(by_problem), len(by_repeat), accuracy, repeat_accuracy,
                         mean_pass_at_k(counts, ks), public,
                         sum(e.context_full for e in judged),
                         len(episodes) - len(judged))  # fmt: skip
