"""Fitting the head on cached features: the loss falls on a separable set for each loss, the
saved weights read raw features (the training scale folded in), a fit is seeded, and with
validation examples the best epoch is kept."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from mucode.verifier.collator import VerifierCollator  # noqa: E402
from mucode.verifier.data import PairExample, PointExample  # noqa: E402
from mucode.verifier.head import FeatureRows, batch_loss, fit_head  # noqa: E402
from mucode.verifier.train import VerifierTrainConfig  # noqa: E402

N, H = 40, 8


def toy():
    """Feature 0 says correct (+1) or not (-1); the other dimensions are noise on scales
    from 0.01 to 1000, as a decoder's hidden state has them."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(N) % 2  # (N,)
    features = torch.randn(N, H, generator=generator) * torch.logspace(-2, 3, H)  # (N, H)
    features[:, 0] = (2 * labels - 1) * 0.01 + 0.001 * torch.randn(N, generator=generator)
    inputs = [(f"problem {i // 4}", f"code {i}") for i in range(N)]
    points = [PointExample(p, c, float(labels[i])) for i, (p, c) in enumerate(inputs)]
    pairs = [PairExample(inputs[i][0], inputs[i + 1][1], inputs[i][1]) for i in range(0, N, 2)]
    return features, inputs, points, pairs


def settings(loss: str, **overrides) -> VerifierTrainConfig:
    fixed = dict(rollouts=("unused",), loss=loss, head_only=True, batch_size=8, seed=1)
    return VerifierTrainConfig(**(fixed | overrides))


def mean_loss(weight, bias, features, inputs, examples, config) -> float:
    head = torch.nn.Linear(H, 1, bias=bias is not None)
    with torch.no_grad():
        head.weight.copy_(weight)
        if bias is not None:
            head.bias.copy_(bias)
        batch = VerifierCollator(FeatureRows(inputs))(examples)
        return batch_loss(head, features, batch, config).item()


@pytest.mark.parametrize("loss", ["bce", "bt", "bce+bt"])
def test_the_loss_falls_on_a_separable_set(loss):
    features, inputs, points, pairs = toy()
    examples = {"bce": points, "bt": pairs, "bce+bt": points + pairs}[loss]
    config = settings(loss, epochs=60)
    fit = fit_head(features, inputs, examples, [], config, bias=False)
    zero = mean_loss(torch.zeros(1, H), None, features, inputs, examples, config)
    assert zero == pytest.approx(math.log(2) * (2 if loss == "bce+bt" else 1), rel=1e-5)
    assert mean_loss(fit.weight, None, features, inputs, examples, config) < 0.5 * zero
    assert fit.steps == 60 * math.ceil(len(examples) / 8)
    scores = features @ fit.weight[0]  # (N,) the folded weights read raw features
    assert (scores[1::2] > scores[::2]).all()  # every correct code above its partner


def test_a_fit_is_seeded_and_trains_a_bias_when_the_head_has_one():
    features, inputs, points, _ = toy()
    first = fit_head(features, inputs, points, [], settings("bce", seed=4), bias=True)
    again = fit_head(features, inputs, points, [], settings("bce", seed=4), bias=True)
    other = fit_head(features, inputs, points, [], settings("bce", seed=5), bias=True)
    assert torch.equal(first.weight, again.weight) and torch.equal(first.bias, again.bias)
    assert not torch.equal(first.weight, other.weight)  # another batch order
    assert first.bias.shape == (1,)


def test_with_validation_examples_the_best_epoch_is_kept():
    features, inputs, points, _ = toy()
    flipped = [PointExample(p.prompt, p.code, 1 - p.label) for p in points[:8]]
    fit = fit_head(features, inputs, points, flipped, settings("bce", epochs=5), bias=False)
    assert fit.best_epoch == 1  # the more the head learns, the worse the flipped labels fit
    assert fit_head(features, inputs, points, [], settings("bce"), bias=False).best_epoch is None
