"""Confidence intervals by hand, and a summary over several problems and repeats."""

from __future__ import annotations

import dataclasses
import math

import pytest

from mucode.core.records import Completion, Status, Turn, Verdict
from mucode.search.metrics import Z_95, SearchSummary, mean_ci, summarize
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


def _candidate(oracle: bool, public: bool | None = None) -> Turn:
    def verdict(ok):
        return Verdict(Status.PASSED if ok else Status.FAILED, "", 0.0)

    return Turn(Completion("", "stop"), "code", verdict(oracle if public is None else public),
                verdict(oracle))  # fmt: skip


def _episode(task_id, repeat, turns, **flags):
    """``turns``: per turn, the candidates' oracle results and the kept index and whether
    the kept code passed the public tests."""
    records = tuple(
        SearchTurn(tuple(_candidate(ok, public if i == kept else None)
                         for i, ok in enumerate(oracle)), None, kept)
        for oracle, kept, public in turns
    )  # fmt: skip
    return SearchEpisode(task_id, "mbpp", "test", repeat, (), records, **flags)


F, T = False, True
# n = 3 candidates, 2 repeats, up to 3 turns; the kept code's public result is given
SEARCH_RUN = [
    _episode("A", 0, [([F, F, F], 0, F), ([F, T, F], 1, T)]),
    _episode("A", 1, [([T, F, F], 0, T)]),
    _episode("B", 0, [([F, F, F], 0, F), ([F, F, F], 2, F), ([F, F, T], 2, T)]),
    _episode("B", 1, [([F, F, F], 0, F), ([F, F, F], 1, F), ([F, F, F], 1, F)]),
]


def test_the_summary_counts_each_turn_and_the_first_turn_pool_by_hand():
    summary = summarize(SEARCH_RUN, turns=3, n=3)
    # per problem, over repeats: turn 1 A 1/2, B 0; turn 2 A 1, B 0; turn 3 A 1, B 1/2
    assert [a.mean for a in summary.accuracy_by_turn] == pytest.approx([0.25, 0.5, 0.75])
    first = summary.accuracy_by_turn[0]  # two problems: sd of (0.5, 0) is 0.5 / sqrt(2)
    assert first.high - first.mean == pytest.approx(Z_95 * 0.25)
    assert summary.repeat_accuracy == pytest.approx((1.0, 0.5))
    # first-turn pools: A 6 candidates, 1 right (A#1's); B 6, none right
    assert list(summary.pass_at_k) == [1, 3, 6]
    assert summary.pass_at_k[1] == pytest.approx((1 / 6 + 0) / 2)
    assert summary.pass_at_k[3] == pytest.approx((1 - 10 / 20 + 0) / 2)  # 1 - C(5,3)/C(6,3)
    assert summary.pass_at_k[6] == pytest.approx(0.5)
    # the last kept code passed the public tests in A#0, A#1 and B#0 (not its first)
    assert summary.public_pass_rate == 0.75
    assert (summary.context_full, summary.infra_error) == (0, 0)


def test_a_prompt_that_never_fitted_counts_as_n_failed_candidates_per_repeat():
    a = [_episode("A", r, [([T, F, F], 0, T)]) for r in range(3)]
    b = [_episode("B", r, [], context_full=True) for r in range(3)]
    # every repeat of both: B's pool is 3 x 3 failures, so every k is reported; A: 3 of 9
    summary = summarize(a + b, turns=1, n=3)
    assert summary.pass_at_k == pytest.approx({1: 1 / 6, 3: (1 - 20 / 84) / 2, 9: 0.5})
    assert summary.context_full == 3
    # B ran 2 of the 3 repeats: its pool of 6 holds back k = 9
    assert list(summarize(a + b[:2], turns=1, n=3).pass_at_k) == [1, 3]


def test_searches_the_sandbox_failed_on_are_counted_apart():
    judged = _episode("A", 0, [([T, F, F], 0, T)])
    broken = [_episode(t, r, [], infra_error=True) for t, r in (("A", 1), ("A", 2), ("B", 0))]
    summary = summarize([judged, *broken], turns=1, n=3)
    assert summary.infra_error == 3 and summary.problems == 1


def test_summaries_are_frozen_records_and_count_nothing_by_default():
    summary = SearchSummary(1, 1, (mean_ci([1.0]),), (1.0,), {1: 1.0}, 1.0)
    assert (summary.context_full, summary.infra_error) == (0, 0)
    for record in (summary, summary.accuracy_by_turn[0]):
        assert not hasattr(record, "__dict__")  # slotted
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, dataclasses.fields(record)[0].name, 0)
