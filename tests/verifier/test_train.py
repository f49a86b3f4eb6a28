"""Verifier training on a tiny random backbone: the loss falls, an easy set separates, a
saved verifier scores exactly as before, a killed run resumes from its last checkpoint and
trains only the steps after it, and a finished run is not trained twice."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("sklearn")

from mucode.core.manifest import MANIFEST  # noqa: E402
from mucode.verifier.data import load_problem_codes, pair_examples  # noqa: E402
from mucode.verifier.losses import bt_loss  # noqa: E402
from mucode.verifier.model import METADATA, Verifier, load_tokenizer, prepare_model  # noqa: E402
from mucode.verifier.train import VerifierTrainConfig, train_verifier  # noqa: E402
from mucode.verifier.trainer import VerifierTrainer  # noqa: E402


def mean_bt_loss(verifier, problems):
    pairs = pair_examples(problems, 32, seed=0)
    chosen = verifier.score_texts([p.prompt for p in pairs], [p.chosen for p in pairs])
    rejected = verifier.score_texts([p.prompt for p in pairs], [p.rejected for p in pairs])
    return bt_loss(torch.tensor(chosen), torch.tensor(rejected)).item()


def config(rollout, backbone, **overrides):
    settings = dict(rollouts=(rollout,), base=str(backbone), loss="bt", epochs=8,
                    batch_size=8, learning_rate=3e-3, max_length=64, save_steps=10,
                    validation_fraction=0.2, best_of=(1, 2, 4), seed=3)  # fmt: skip
    return VerifierTrainConfig(**(settings | overrides))


def test_training_lowers_the_loss_and_separates_an_easy_set(easy_rollout, backbone, tmp_path):
    problems = load_problem_codes([easy_rollout])
    metadata = train_verifier(config(easy_rollout, backbone), tmp_path / "v")
    trained = Verifier.load(tmp_path / "v", device="cpu")
    tokenizer = load_tokenizer(str(backbone))
    transformers.set_seed(3)
    classifier = transformers.AutoModelForSequenceClassification
    layout = {key: metadata[key] for key in ("input", "dtype")}  # as trained: chat, bfloat16
    model = classifier.from_pretrained(str(backbone), num_labels=1)
    untrained = Verifier(prepare_model(model, tokenizer, metadata["dtype"]), tokenizer, 64, layout)
    before = mean_bt_loss(untrained, problems)
    assert mean_bt_loss(trained, problems) < 0.5 * before
    metrics = metadata["validation_metrics"]
    assert len(metadata["data"]["validation_problems"]) == 2
    assert metrics["roc_auc"] == 1.0 and metrics["pairwise_accuracy"] == 1.0
    assert [b["n"] for b in metrics["best_of_n"]] == [1, 2, 4]
    assert metrics["best_of_n"][1]["verifier"] > metrics["best_of_n"][1]["random"]
    saved = json.loads((tmp_path / "v" / METADATA).read_text())
    assert saved["loss"] == "bt" and saved["backbone"] == str(backbone)
    assert (tmp_path / "v" / MANIFEST).exists()


def test_save_and_load_give_identical_scores(easy_rollout, backbone, tmp_path):
    train_verifier(config(easy_rollout, backbone, loss="bce+bt", epochs=1), tmp_path / "v")
    first = Verifier.load(tmp_path / "v", device="cpu")
    prompts, codes = ["Solve it."] * 3, ["return a + b", "return a - b", "x" * 500]
    scores = first.score_texts(prompts, codes)
    first.save(tmp_path / "copy")
    assert Verifier.load(tmp_path / "copy", device="cpu").score_texts(prompts, codes) == scores
    # batch composition and padding do not change a score
    assert first.score_texts(prompts[:1], codes[:1]) == pytest.approx(scores[:1], abs=1e-5)


class Killed(Exception):
    """Stands in for a kill between two optimiser steps."""


def steps_started(monkeypatch, kill_at: int | None = None) -> list[int]:
    """The Trainer's global step as each training step starts; ``Killed`` at ``kill_at``."""
    started: list[int] = []

    def training_step(self, *args, **kwargs):
        if self.state.global_step == kill_at:
            raise Killed
        started.append(self.state.global_step)
        return transformers.Trainer.training_step(self, *args, **kwargs)

    monkeypatch.setattr(VerifierTrainer, "training_step", training_step)
    return started


def test_a_killed_run_resumes_at_its_last_checkpoint_and_trains_only_the_rest(
    easy_rollout, backbone, tmp_path, monkeypatch
):
    cfg = config(easy_rollout, backbone, epochs=2, batch_size=16, save_steps=3)  # 2 x 64/16
    killed = steps_started(monkeypatch, kill_at=5)  # checkpoint-3 is on disk, 6 is not
    with pytest.raises(Killed):
        train_verifier(cfg, tmp_path / "v")
    assert killed == [0, 1, 2, 3, 4]
    resumed = steps_started(monkeypatch)
    metadata = train_verifier(cfg, tmp_path / "v")
    assert resumed == [3, 4, 5, 6, 7]  # from checkpoint-3's step on, not from 0
    assert metadata["training"]["resumed_from"].endswith("checkpoint-3")
    assert metadata["training"]["steps"] == 8


def test_a_finished_run_is_returned_not_retrained(easy_rollout, backbone, tmp_path):
    cfg = config(easy_rollout, backbone, loss="bce", epochs=1)
    first = train_verifier(cfg, tmp_path / "v")
    mtime = (tmp_path / "v" / "model.safetensors").stat().st_mtime_ns
    assert train_verifier(cfg, tmp_path / "v") == first
    assert (tmp_path / "v" / "model.safetensors").stat().st_mtime_ns == mtime


def test_lora_training_saves_a_plain_merged_model(easy_rollout, backbone, tmp_path):
    pytest.importorskip("peft")
    metadata = train_verifier(config(easy_rollout, backbone, lora_r=4, epochs=2), tmp_path / "v")
    assert metadata["lora_r"] == 4
    assert not (tmp_path / "v" / "adapter_config.json").exists()  # merged into the weights
    verifier = Verifier.load(tmp_path / "v", device="cpu")
    assert len(verifier.score_texts(["p"], ["return a + b"])) == 1


@pytest.mark.parametrize("dropout", [0.0, 0.25])
def test_attention_dropout_reaches_the_backbone_config(easy_rollout, backbone, tmp_path, dropout):
    cfg = config(easy_rollout, backbone, loss="bce", epochs=0.5, attention_dropout=dropout)
    metadata = train_verifier(cfg, tmp_path / "v")
    saved = json.loads((tmp_path / "v" / "config.json").read_text())
    assert saved["attention_dropout"] == dropout == metadata["attention_dropout"]
