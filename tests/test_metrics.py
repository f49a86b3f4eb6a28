from math import comb

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mucode.metrics import mean_pass_at_k, pass_at_k


@given(n=st.integers(1, 60), data=st.data())
def test_pass_at_k_equals_combinatorial_form(n, data):
    c = data.draw(st.integers(0, n))
    k = data.draw(st.integers(1, n))
    assert pass_at_k(n, c, k) == pytest.approx(1 - comb(n - c, k) / comb(n, k), abs=1e-12)


@given(n=st.integers(1, 60), data=st.data())
def test_pass_at_k_is_a_probability_monotone_in_c_and_k(n, data):
    c = data.draw(st.integers(0, n))
    k = data.draw(st.integers(1, n))
    p = pass_at_k(n, c, k)
    assert 0.0 <= p <= 1.0
    if c < n:
        assert pass_at_k(n, c + 1, k) >= p - 1e-12
    if k < n:
        assert pass_at_k(n, c, k + 1) >= p - 1e-12


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (5, 2, 1, 0.4),  # c / n
        (5, 2, 2, 0.7),  # 1 - C(3,2)/C(5,2) = 1 - 3/10
        (10, 0, 1, 0.0),
        (10, 0, 10, 0.0),
        (3, 3, 1, 1.0),
        (3, 3, 3, 1.0),
        (4, 1, 4, 1.0),  # n - c < k: every draw holds the correct one
        (1, 1, 1, 1.0),
        (1, 0, 1, 0.0),
        (200, 1, 100, 0.5),
    ],
)
def test_pass_at_k_hand_computed(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_k_is_stable_for_large_n():
    # C(100000, 50000) overflows a float; the product form does not.
    assert pass_at_k(100_000, 1, 50_000) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("n", "c", "k", "match"),
    [
        (0, 0, 1, r"n \(samples\) must be >= 1"),
        (5, -1, 1, r"c \(correct samples\) must be >= 0"),
        (5, 6, 1, r"c \(correct samples\) = 6 exceeds n \(samples\) = 5"),
        (5, 2, 0, r"k must be >= 1"),
        (5, 2, 6, r"k = 6 exceeds n \(samples\) = 5"),
        (5.0, 2, 1, r"n \(samples\) must be an int"),
        (5, True, 1, r"c \(correct samples\) must be an int"),
    ],
)
def test_pass_at_k_rejects_invalid_input(n, c, k, match):
    with pytest.raises(ValueError, match=match):
        pass_at_k(n, c, k)


def test_mean_pass_at_k_reports_only_k_every_task_supports():
    counts = [(10, 3), (5, 0), (10, 10)]
    got = mean_pass_at_k(counts, [1, 5, 10])
    assert list(got) == [1, 5]
    assert got[1] == pytest.approx((0.3 + 0.0 + 1.0) / 3)
    assert got[5] == pytest.approx((1 - comb(7, 5) / comb(10, 5) + 0.0 + 1.0) / 3)


def test_mean_pass_at_k_keeps_order_and_drops_duplicates():
    assert list(mean_pass_at_k([(10, 1)], [10, 1, 10, 5])) == [10, 1, 5]


def test_mean_pass_at_k_zero_correct_tasks_count_as_zero():
    assert mean_pass_at_k([(5, 0), (5, 5)], [1]) == {1: pytest.approx(0.5)}


def test_mean_pass_at_k_of_no_tasks_is_empty():
    assert mean_pass_at_k([], [1, 10]) == {}


@given(
    counts=st.lists(
        st.integers(1, 12).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))),
        min_size=1,
        max_size=8,
    ),
    ks=st.lists(st.integers(1, 15), min_size=1, max_size=4),
)
def test_mean_pass_at_k_matches_brute_force(counts, ks):
    got = mean_pass_at_k(counts, ks)
    fewest = min(n for n, _ in counts)
    assert set(got) == {k for k in ks if k <= fewest}
    for k, value in got.items():
        brute = sum(1 - comb(n - c, k) / comb(n, k) for n, c in counts) / len(counts)
        assert value == pytest.approx(brute, abs=1e-12)


@pytest.mark.parametrize(
    ("counts", "ks", "match"),
    [
        ([(0, 0)], [1], r"task 0: n \(samples\) must be >= 1"),
        ([(3, 1), (2, 3)], [1], r"task 1: c \(correct samples\) = 3 exceeds n"),
        ([(3, 1)], [0], r"k must be >= 1"),
    ],
)
def test_mean_pass_at_k_rejects_invalid_input(counts, ks, match):
    with pytest.raises(ValueError, match=match):
        mean_pass_at_k(counts, ks)


def test_mean_pass_at_k_checks_every_k_even_one_it_would_not_report():
    # each k is validated before the tasks: no tasks, or too few samples to report k,
    # must not let a bad k through as an empty result
    with pytest.raises(ValueError, match=r"k must be >= 1"):
        mean_pass_at_k([], [0])
    with pytest.raises(ValueError, match=r"k must be an int"):
        mean_pass_at_k([(2, 1)], [3.0])
