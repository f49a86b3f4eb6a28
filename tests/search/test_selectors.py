"""Each selection rule on candidates with known verdicts and scores."""

from __future__ import annotations

import random

import pytest

from mucode.core.records import Completion, Status, Turn, Verdict
from mucode.search.selectors import Selection, select


def candidate(public_passed: int, public_total: int, oracle_ok: bool, oracle_passed: int = 0):
    public = Verdict(Status.PASSED if public_passed == public_total else Status.FAILED, "", 0.0,
                     public_passed, public_total)  # fmt: skip
    oracle = Verdict(Status.PASSED if oracle_ok else Status.FAILED, "", 0.0, oracle_passed, 5)
    return Turn(Completion("", "stop"), "code", public, oracle)


# 0: fails public; 1: passes public, fails hidden; 2: passes both; 3: 1 of 2 public
CANDIDATES = [candidate(0, 2, False), candidate(2, 2, False, 3), candidate(2, 2, True, 5),
              candidate(1, 2, False, 4)]  # fmt: skip
SCORES = [0.9, 0.8, 0.1, 0.95]


def picks(rule, scores=SCORES, trials=200):
    rng = random.Random(0)
    return {select(rule, CANDIDATES, scores, rng) for _ in range(trials)}


def test_random_reaches_every_candidate():
    assert picks(Selection.RAND) == {0, 1, 2, 3}


def test_public_tests_keep_the_candidates_that_pass_most_and_break_ties_at_random():
    assert picks(Selection.PT) == {1, 2}


def test_the_verifier_keeps_its_top_score():
    assert picks(Selection.LV) == {3}


def test_public_tests_first_then_the_verifier():
    assert picks(Selection.PT_LV) == {1}  # 1 and 2 pass public; 1 scores higher


def test_the_oracle_keeps_a_hidden_pass():
    assert picks(Selection.OV) == {2}
    assert Selection.OV.upper_bound and not Selection.PT_LV.upper_bound


def test_rules_that_need_scores_refuse_to_run_without_them():
    with pytest.raises(ValueError, match="needs one verifier score"):
        select(Selection.LV, CANDIDATES, None, random.Random(0))
    with pytest.raises(ValueError, match="needs one verifier score"):
        select(Selection.PT_LV, CANDIDATES, SCORES[:2], random.Random(0))


def test_ties_follow_the_seed():
    first = [select(Selection.RAND, CANDIDATES, None, random.Random(7)) for _ in range(5)]
    again = [select(Selection.RAND, CANDIDATES, None, random.Random(7)) for _ in range(5)]
    assert first == again


# MBPP train shows all three of its asserts: most candidates pass some, not all
PARTIAL = [candidate(1, 3, False, 1), candidate(2, 3, False, 2), candidate(0, 3, False, 0),
           candidate(2, 3, False, 2)]  # fmt: skip
PARTIAL_SCORES = [0.9, 0.2, 0.95, 0.5]


def test_public_tests_rank_partial_passes_by_how_many_passed():
    rng = random.Random(0)
    assert {select(Selection.PT, PARTIAL, None, rng) for _ in range(200)} == {1, 3}
    # the verifier only breaks the tie between the two that passed 2 of 3
    assert {select(Selection.PT_LV, PARTIAL, PARTIAL_SCORES, rng) for _ in range(200)} == {3}


def test_the_oracle_ranks_partial_passes_by_how_many_hidden_tests_passed():
    rng = random.Random(0)
    hidden = [candidate(0, 3, False, 4), candidate(0, 3, False, 1), candidate(3, 3, False, 2)]
    assert {select(Selection.OV, hidden, None, rng) for _ in range(200)} == {0}


def test_only_the_oracle_is_an_upper_bound_and_only_verifier_rules_need_scores():
    assert [rule for rule in Selection if rule.upper_bound] == [Selection.OV]
    assert [rule for rule in Selection if rule.needs_verifier] == [Selection.LV, Selection.PT_LV]


def test_more_scores_than_candidates_are_refused_too():
    with pytest.raises(ValueError, match="needs one verifier score"):
        select(Selection.LV, CANDIDATES, [*SCORES, 0.5], random.Random(0))


def test_a_score_per_candidate_is_accepted_beyond_small_int_sizes():
    # 300 candidates: lengths past CPython's cached small ints compare by value
    many = [CANDIDATES[0]] * 300
    scores = [0.0] * 299 + [1.0]
    assert select(Selection.LV, many, scores, random.Random(0)) == 299
