"""Confidence intervals by hand."""

from __future__ import annotations

import pytest

from mucode.search.metrics import mean_ci


def test_mean_ci_is_mean_plus_minus_1_96_standard_errors():
    ci = mean_ci([1.0, 0.0, 1.0, 1.0])  # mean 0.75, sample sd 0.5, n 4
    assert ci.mean == 0.75
    assert ci.high - ci.mean == pytest.approx(1.959964 * 0.5 / 2)
    assert str(ci) == "0.750 ± 0.490"
    assert mean_ci([0.4]).low == mean_ci([0.4]).high == 0.4
    with pytest.raises(ValueError):
        mean_ci([])
