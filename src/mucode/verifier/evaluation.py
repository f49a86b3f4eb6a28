"""How well a verifier ranks codes: ROC-AUC, pairwise accuracy, best-of-N selection.

AUC and pairwise accuracy use each problem's distinct labelled codes. Best-of-N uses the
first-turn candidates (one per sample, duplicates kept): the expected accuracy when N of
them are drawn at random and the verifier keeps its top one, computed exactly over all
N-subsets, with ties broken at random. Random selection (= the pool's share of correct
codes) and oracle selection (= pass@N) are the floor and the ceiling.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import groupby
from math import comb

from mucode.metrics import pass_at_k
from mucode.verifier.data import ProblemCodes


@dataclass(frozen=True, slots=True)
class ScoredProblem:
    """A problem's codes with verifier scores, aligned with ``codes`` and ``first_turn``."""

    problem: ProblemCodes
    code_scores: tuple[float, ...]
    first_turn_scores: tuple[float, ...]


ScoreTexts = Callable[[Sequence[str], Sequence[str]], list[float]]


def score_problems(
    score_texts: ScoreTexts, problems: Sequence[ProblemCodes]
) -> list[ScoredProblem]:
    """Score every distinct code once (first-turn candidates are among them)."""
    prompts = [p.prompt for p in problems for _ in p.codes]
    codes = [c.code for p in problems for c in p.codes]
    flat = iter(score_texts(prompts, codes))
    scored = []
    for p in problems:
        by_code = {c.code: next(flat) for c in p.codes}
        first = tuple(by_code[c.code] for c in p.first_turn)
        scored.append(ScoredProblem(p, tuple(by_code[c.code] for c in p.codes), first))
    return scored


@dataclass(frozen=True, slots=True)
class BestOfN:
    """Selection accuracy at one N, over the problems with at least N candidates."""

    n: int
    problems: int
    verifier: float | None  # None: no problem has N candidates
    random: float | None
    oracle: float | None


@dataclass(frozen=True, slots=True)
class VerifierReport:
    """Ranking quality of a verifier on labelled codes."""

    problems: int
    codes: int
    correct: int
    roc_auc: float | None  # None when every code has the same label
    pairs: int
    pairwise_accuracy: float | None  # None without any (correct, incorrect) pair
    best_of_n: tuple[BestOfN, ...] = field(default=())

    def to_dict(self) -> dict:
        """Plain-JSON form."""
        return {
            "problems": self.problems, "codes": self.codes, "correct": self.correct,
            "roc_auc": self.roc_auc, "pairs": self.pairs,
            "pairwise_accuracy": self.pairwise_accuracy,
            "best_of_n": [asdict(b) for b in self.best_of_n],
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> VerifierReport:
        """Inverse of :meth:`to_dict`."""
        return cls(**{**data, "best_of_n": tuple(BestOfN(**b) for b in data["best_of_n"])})


def select_top_accuracy(scores: Sequence[float], correct: Sequence[bool], n: int) -> float:
    """Expected correctness of the top-scored candidate of a uniform random ``n``-subset.

    Candidates with equal scores share the pick at random. For each score level L, the
    subset's best level is L with probability ``[C(m - above, n) - C(m - above - size, n)]
    / C(m, n)``, and given that, the pick is correct with probability ``correct_L / size``.
    """
    m = len(scores)
    if not 1 <= n <= m:
        raise ValueError(f"n must be in [1, {m}], got {n}")
    ranked = sorted(zip(scores, correct, strict=True), key=lambda sc: -sc[0])
    total, above, accuracy = comb(m, n), 0, 0.0
    for _, level in groupby(ranked, key=lambda sc: sc[0]):
        labels = [ok for _, ok in level]
        size = len(labels)
        p_top = (comb(m - above, n) - comb(m - above - size, n)) / total
        accuracy += p_top * sum(labels) / size
        above += size
    return accuracy


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve (ties count half); None with only one class."""
    positives = [s for s, y in zip(scores, labels, strict=True) if y]
    negatives = [s for s, y in zip(scores, labels, strict=True) if not y]
    if not positives or not negatives:
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(list(labels), list(scores)))


def pairwise_wins(problem: ScoredProblem) -> tuple[float, int]:
    """(wins, pairs) over the problem's (correct, incorrect) pairs; a tie is half a win."""
    labelled = list(zip(problem.code_scores, problem.problem.codes, strict=True))
    good = [s for s, c in labelled if c.correct]
    bad = [s for s, c in labelled if not c.correct]
    wins = sum(1.0 if g > b else 0.5 if g == b else 0.0 for g in good for b in bad)
    return wins, len(good) * len(bad)


def best_of_n(scored: Sequence[ScoredProblem], n: int) -> BestOfN:
    """Verifier, random and oracle selection accuracy at ``n``, averaged over problems."""
    pools = [s for s in scored if len(s.first_turn_scores) >= n]
    if not pools:
        return BestOfN(n, 0, None, None, None)
    verifier = random = oracle = 0.0
    for s in pools:
        labels = [c.correct for c in s.problem.first_turn]
        verifier += select_top_accuracy(s.first_turn_scores, labels, n)
        random += sum(labels) / len(labels)
        oracle += pass_at_k(len(labels), sum(labels), n)
    k = len(pools)
    return BestOfN(n, k, verifier / k, random / k, oracle / k)


def report(scored: Sequence[ScoredProblem], ns: Sequence[int]) -> VerifierReport:
    """AUC, pairwise accuracy and best-of-N at each of ``ns``."""
    scores = [s for p in scored for s in p.code_scores]
    labels = [c.correct for p in scored for c in p.problem.codes]
    wins = pairs = 0
    for p in scored:
        w, n = pairwise_wins(p)
        wins += w
        pairs += n
    return VerifierReport(
        problems=len(scored), codes=len(scores), correct=sum(labels),
        roc_auc=roc_auc(scores, labels), pairs=pairs,
        pairwise_accuracy=wins / pairs if pairs else None,
        best_of_n=tuple(best_of_n(scored, n) for n in ns),
    )  # fmt: skip
