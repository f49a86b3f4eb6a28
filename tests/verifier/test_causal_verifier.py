"""A verifier on a causal-LM backbone (the tiny random Qwen2): by default LoRA on the
backbone's linear layers with the head trained whole, the chat input, gradient
checkpointing, and bfloat16 weights where the hardware computes them natively; it learns
to tell two codes of one prompt apart, and `mucode verifier train --base tiny` runs end to
end through the real entry point (in bfloat16, whatever the machine)."""

from __future__ import annotations

import json
import sys

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("peft")
pytest.importorskip("sklearn")

from mucode.cli import main  # noqa: E402
from mucode.core.manifest import MANIFEST  # noqa: E402
from mucode.generation.causal_lm import bf16_is_native  # noqa: E402
from mucode.verifier.model import Verifier  # noqa: E402
from mucode.verifier.train import VerifierTrainConfig, train_verifier  # noqa: E402

RIGHT, WRONG = "def add(a, b):\n    return a + b", "def add(a, b):\n    return a - b"
UNSEEN = "Solve Mbpp/99."  # the easy rollout's prompts are Mbpp/0 … Mbpp/9


@pytest.fixture(scope="module")
def trained(easy_rollout, backbone, tmp_path_factory):
    """Trained with the defaults a causal LM gets (no lora_r, no dtype given)."""
    out = tmp_path_factory.mktemp("verifier")
    config = VerifierTrainConfig(rollouts=(easy_rollout,), base=str(backbone), loss="bce+bt",
                                 epochs=4, batch_size=8, learning_rate=3e-3, max_length=64,
                                 validation_fraction=0.2, best_of=(2,), seed=2)  # fmt: skip
    return out, train_verifier(config, out)


def test_the_defaults_are_lora_16_and_the_chat_in_the_native_dtype(trained):
    out, metadata = trained
    native = "bfloat16" if bf16_is_native() else "float32"
    assert (metadata["lora_r"], metadata["dtype"], metadata["input"]) == (16, native, "chat")
    assert metadata["gradient_checkpointing"] is True
    assert json.loads((out / MANIFEST).read_text())["config"]["lora_r"] == 16  # the rank chosen
    assert not (out / "adapter_config.json").exists()  # merged into a plain HF model


def test_lora_changes_only_the_linear_layers_and_the_head_trains_whole(trained, backbone):
    out, metadata = trained
    dtype = getattr(torch, metadata["dtype"])
    classifier = transformers.AutoModelForSequenceClassification
    base = dict(classifier.from_pretrained(str(backbone), num_labels=1).named_parameters())
    saved = dict(classifier.from_pretrained(str(out), dtype=torch.float32).named_parameters())
    assert saved.pop("score.weight").abs().sum() > 0  # a trained head (absent from the base)
    del base["score.weight"]
    assert base.keys() == saved.keys()
    changed = {name for name, p in saved.items()
               if not torch.equal(p, base[name].to(dtype).float())}  # fmt: skip
    linear = {name for name in base if name.endswith("proj.weight")}  # q k v o gate up down
    assert changed == linear  # embeddings, norms and biases stay the base's


def test_it_learns_to_tell_two_codes_of_one_prompt_apart(trained):
    out, metadata = trained
    assert metadata["validation_metrics"]["pairwise_accuracy"] == 1.0
    verifier = Verifier.load(out, device="cpu")
    right, wrong = verifier.score_texts([UNSEEN] * 2, [RIGHT, WRONG])
    assert right > wrong + 1.0  # the prompt is the same: the code decides
    again = Verifier.load(out, device="cpu").score_texts([UNSEEN, UNSEEN], [RIGHT, WRONG])
    assert again == [right, wrong]


def test_cli_verifier_train_base_tiny_through_main(easy_rollout, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MUCODE_CACHE_DIR", str(tmp_path / "cache"))  # tiny is built there
    out = tmp_path / "v"
    monkeypatch.setattr(sys, "argv", [
        "mucode", "verifier", "train", "--rollouts", str(easy_rollout), "--base", "tiny",
        "--out", str(out), "--loss", "bt", "--epochs", "1", "--batch-size", "8",
        "--lr", "3e-3", "--max-length", "64", "--validation-fraction", "0.2", "--seed", "1",
        "--dtype", "bfloat16",
    ])  # fmt: skip
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 0
    printed = capsys.readouterr().out
    # 8 training problems, 4 correct x 2 incorrect codes each: 64 pairs, 8 per step
    assert "trained 8 steps" in printed and "held-out problems" in printed
    metadata = json.loads((out / "verifier.json").read_text())
    assert metadata["backbone"] == "tiny" and metadata["input"] == "chat"
    assert (metadata["dtype"], metadata["lora_r"]) == ("bfloat16", 16)
    assert metadata["backbone_path"].startswith(str(tmp_path / "cache" / "hf" / "tiny-random"))
    scores = Verifier.load(out, device="cpu").score_texts([UNSEEN] * 2, [RIGHT, WRONG])
    assert len(set(scores)) == 2
