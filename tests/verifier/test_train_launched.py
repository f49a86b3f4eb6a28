"""``mucode verifier train`` under ``accelerate launch`` with two processes on this CPU: the
per-step losses equal one process's at the same global batch, and one process writes the
manifest, the verifier and the summary. (A killed two-process run resuming:
``bench/launch_resume.py``, too slow for the suite.)"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("accelerate")
pytest.importorskip("sklearn")

from mucode.core.manifest import MANIFEST
from mucode.verifier.model import METADATA
from mucode.verifier.train import VerifierTrainConfig, train_verifier
from tests.launching import LOSS_TOLERANCE, launch, logged_losses

pytestmark = pytest.mark.slow


def test_two_processes_train_as_one_with_the_same_global_batch(easy_rollout, backbone, tmp_path):
    # lora_r 0 trains every weight without dropout (LoRA's dropout draws other masks in
    # each process); save_steps 1 logs every step
    one = train_verifier(VerifierTrainConfig(
        rollouts=(easy_rollout,), base=str(backbone), batch_size=8, loss="bt", epochs=1,
        learning_rate=3e-3, max_length=64, save_steps=1, validation_fraction=0.2, seed=3,
        lora_r=0), tmp_path / "one")  # fmt: skip
    done = launch("-m", "mucode", "verifier", "train", "--rollouts", str(easy_rollout),
                  "--base", str(backbone), "--batch-size", "4", "--loss", "bt", "--epochs", "1",
                  "--lr", "3e-3", "--max-length", "64", "--save-steps", "1",
                  "--validation-fraction", "0.2", "--seed", "3", "--lora-r", "0",
                  "--out", str(tmp_path / "two"))  # fmt: skip
    assert one["training"]["steps"] == 8  # 64 pairs of 8 problems, 8 a step
    losses = logged_losses(tmp_path / "two")
    assert losses == pytest.approx(logged_losses(tmp_path / "one"), rel=LOSS_TOLERANCE)
    assert len(set(losses)) == 8  # the model moved: every step's loss differs
    assert done.stdout.count("trained 8 steps") == 1  # the other process prints nothing
    two = json.loads((tmp_path / "two" / METADATA).read_text())
    for key in ("roc_auc", "pairwise_accuracy"):
        assert two["validation_metrics"][key] == pytest.approx(one["validation_metrics"][key])
    assert "resumes" not in json.loads((tmp_path / "two" / MANIFEST).read_text())
