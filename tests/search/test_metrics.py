"""Confidence intervals by hand, and a summary over several problems and repeats."""

from __future__ import annotations

import math

import pytest

from mucode.records import Completion, Status, Turn, Verdict
from mucode.search.metrics import Z_95, mean_ci, summarize
from mucode.search.records import SearchEpisode, SearchTurn


def test_mean_ci_is_mean_plus_minus_1_96_standard_errors():
    ci = mean_ci([1.0, 0.0, 1.0, 1.0])  # mean 0.75, sample sd 0.5, n 4
    assert ci.mean == 0.75
    assert ci.high - ci.mean == pytest.approx(1.959964 * 0.5 / 2)
    assert str(ci) == "0.750 ± 0.490"
    assert mean_ci([0.4]).low == mean_ci([0.4]).high == 0.4
    with pytest.raises(ValueError):
        mean_ci([])


def _turn(solved):
    verdict = Verdict(Status.PASSED if solved else Status.FAILED, "", 0.0)
    return SearchTurn((Turn(Completion("", "stop"), "code", verdict, verdict),), None, 0)


def _search(task_id, repeat, solved_by_turn):
    """A search whose kept code passed the hidden tests at each turn as given."""
    turns = tuple(_turn(solved) for solved in solved_by_turn)
    return SearchEpisode(task_id, "mbpp", "test", repeat, (), turns)


# 3 problems x 2 repeats, T = 2; a search stops when its kept code passes (public = oracle here)
SEARCHES = [
    _search("A", 0, [False, True]), _search("A", 1, [True]),
    _search("B", 0, [False, False]), _search("B", 1, [False, False]),
    _search("C", 0, [True]), _search("C", 1, [True]),
]  # fmt: skip


def test_the_interval_is_over_per_problem_means_of_the_repeats():
    summary = summarize(SEARCHES, turns=2, n=1)
    assert (summary.problems, summary.repeats) == (3, 2)
    # after turn 1 the problems' means over repeats are 0.5, 0, 1: sd 0.5 over 3 problems
    # (flat over the 6 searches it would be sd sqrt(0.3) over 6: a half-width of 0.438)
    first, last = summary.accuracy_by_turn
    assert first.mean == pytest.approx(0.5)
    assert first.high - first.mean == pytest.approx(Z_95 * 0.5 / math.sqrt(3))
    # after turn 2: 1, 0, 1 (flat: 4 of 6 searches, half-width 0.377)
    assert last.mean == pytest.approx(2 / 3)
    assert last.high - last.mean == pytest.approx(Z_95 * math.sqrt(1 / 3) / math.sqrt(3))
    assert last.low == pytest.approx(2 / 3 - Z_95 * math.sqrt(1 / 3) / math.sqrt(3))


def test_each_repeats_accuracy_is_taken_after_the_last_turn():
    summary = summarize(SEARCHES, turns=2, n=1)
    # repeat 0 solves A only at turn 2 (after turn 1 it would read 1/3); repeat 1: A and C
    assert summary.repeat_accuracy == pytest.approx((2 / 3, 2 / 3))
    # a search that stopped early keeps its code: with T = 3, the same numbers
    assert summarize(SEARCHES, turns=3, n=1).repeat_accuracy == summary.repeat_accuracy
