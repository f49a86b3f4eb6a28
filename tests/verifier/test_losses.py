"""Verifier losses against values computed by hand."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from mucode.verifier.losses import bce_loss, bt_loss, verifier_loss  # noqa: E402


def test_bce_matches_the_formula():
    # labels 1, 0 at scores 0, 2: (log 2 + log(1 + e^2)) / 2
    expected = (math.log(2) + math.log(1 + math.e**2)) / 2
    got = bce_loss(torch.tensor([0.0, 2.0]), torch.tensor([1.0, 0.0]))
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_bt_matches_the_formula():
    # -log sigmoid(1 - 0) and -log sigmoid(-2 - 1)
    expected = (math.log(1 + math.exp(-1)) + math.log(1 + math.exp(3))) / 2
    got = bt_loss(torch.tensor([1.0, -2.0]), torch.tensor([0.0, 1.0]))
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_the_combined_loss_weights_its_parts_and_penalises_magnitude():
    scores = torch.tensor([1.0, -1.0, 3.0])
    rows = {
        "point_rows": torch.tensor([2]), "point_labels": torch.tensor([0.0]),
        "chosen_rows": torch.tensor([0]), "rejected_rows": torch.tensor([1]),
    }  # fmt: skip
    bce = math.log(1 + math.e**3)
    bt = math.log(1 + math.exp(-2))
    penalty = (1 + 1 + 9) / 3
    got = verifier_loss(scores, **rows, weights=(0.5, 2.0), score_penalty=0.1)
    assert got.item() == pytest.approx(0.5 * bce + 2.0 * bt + 0.1 * penalty, rel=1e-6)


def test_an_absent_part_contributes_nothing():
    scores = torch.tensor([0.3, -0.2])
    empty = torch.tensor([], dtype=torch.long)
    only_pairs = verifier_loss(scores, empty, torch.tensor([]), torch.tensor([0]),
                               torch.tensor([1]))  # fmt: skip
    assert only_pairs.item() == pytest.approx(math.log(1 + math.exp(-0.5)), rel=1e-6)


def test_bt_gradients_push_the_chosen_score_up():
    chosen = torch.tensor([0.0], requires_grad=True)
    rejected = torch.tensor([0.0], requires_grad=True)
    bt_loss(chosen, rejected).backward()
    assert chosen.grad.item() == pytest.approx(-0.5) and rejected.grad.item() == pytest.approx(0.5)


def test_by_default_the_parts_weigh_one_each_and_nothing_penalises_magnitude():
    scores = torch.tensor([1.0, -1.0, 3.0])
    bce = math.log(1 + math.e**3)
    bt = math.log(1 + math.exp(-2))
    got = verifier_loss(scores, torch.tensor([2]), torch.tensor([0.0]), torch.tensor([0]),
                        torch.tensor([1]))  # fmt: skip
    assert got.item() == pytest.approx(bce + bt, rel=1e-6)
