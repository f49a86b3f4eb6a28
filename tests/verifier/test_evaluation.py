"""Ranking metrics: exact best-of-N selection, AUC, pairwise accuracy."""

from __future__ import annotations

import itertools
import random

import pytest

from mucode.verifier.data import LabelledCode, ProblemCodes
from mucode.verifier.evaluation import (
    ScoredProblem,
    pairwise_wins,
    report,
    roc_auc,
    score_problems,
    select_top_accuracy,
)

pytest.importorskip("sklearn")


def brute_force(scores, correct, n):
    """Average over every n-subset; ties share the pick equally."""
    total = 0.0
    subsets = list(itertools.combinations(range(len(scores)), n))
    for subset in subsets:
        best = max(scores[i] for i in subset)
        top = [i for i in subset if scores[i] == best]
        total += sum(correct[i] for i in top) / len(top)
    return total / len(subsets)


def test_best_of_n_is_exact_including_ties():
    rng = random.Random(0)
    for _ in range(200):
        m = rng.randint(1, 7)
        scores = [rng.choice([0.0, 0.5, 1.0, 2.0]) for _ in range(m)]
        correct = [rng.random() < 0.4 for _ in range(m)]
        for n in range(1, m + 1):
            assert select_top_accuracy(scores, correct, n) == pytest.approx(
                brute_force(scores, correct, n)
            )


def test_best_of_n_edges():
    # a perfect ranker picks a correct code whenever the subset has one
    assert select_top_accuracy([3, 2, 1, 0], [True, False, False, False], 4) == 1.0
    assert select_top_accuracy([3, 2, 1, 0], [True, False, False, False], 2) == pytest.approx(0.5)
    # n = 1 is random selection whatever the scores
    assert select_top_accuracy([3, 2, 1, 0], [True, False, False, False], 1) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="n must be"):
        select_top_accuracy([1.0], [True], 2)


def test_auc_and_pairwise_accuracy_by_hand():
    assert roc_auc([0.9, 0.1, 0.5, 0.5], [True, False, True, False]) == pytest.approx(0.875)
    assert roc_auc([0.1, 0.2], [True, True]) is None
    codes = (LabelledCode("a", True), LabelledCode("b", False), LabelledCode("c", False))
    problem = ScoredProblem(ProblemCodes("k", "p", codes, codes), (1.0, 1.0, 0.0), (1.0, 1.0, 0.0))
    assert pairwise_wins(problem) == (1.5, 2)


def test_report_on_a_scorer_that_reads_the_code():
    def scorer(prompts, codes):
        return [1.0 if "good" in code else 0.0 for code in codes]

    pool = (LabelledCode("good", True), LabelledCode("bad", False), LabelledCode("bad", False),
            LabelledCode("bad2", False))  # fmt: skip
    distinct = (LabelledCode("good", True), LabelledCode("bad", False), LabelledCode("bad2", False))
    problems = [ProblemCodes("k", "prompt", distinct, pool)]
    result = report(score_problems(scorer, problems), ns=(1, 2, 5))
    assert result.roc_auc == 1.0 and result.pairwise_accuracy == 1.0 and result.pairs == 2
    one, two, five = result.best_of_n
    assert one.verifier == pytest.approx(0.25) and one.random == pytest.approx(0.25)
    assert two.verifier == pytest.approx(0.5) == two.oracle and two.problems == 1
    assert five.problems == 0 and five.verifier is None  # only 4 candidates
