"""Head-only verifiers (a probe on a frozen backbone): the saved verifier scores exactly its
head on the backbone's end-of-turn hidden state, holds only the head, loads through
`Verifier.load` and refuses a base that changed; runs sharing a feature store compute each
input once, a killed run resumes its feature pass; encoders work on their pooled token; and
settings that would train the backbone are refused."""

from __future__ import annotations

import json
import re
import shutil

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("sklearn")

from safetensors.torch import load_file  # noqa: E402

from mucode.core.errors import ConfigError  # noqa: E402
from mucode.generation.causal_lm import bf16_is_native  # noqa: E402
from mucode.verifier.inputs import ChatEncoder, PairEncoder  # noqa: E402
from mucode.verifier.model import HEAD_WEIGHTS, METADATA, Verifier  # noqa: E402
from mucode.verifier.probe import stored_scorer  # noqa: E402
from mucode.verifier.train import VerifierTrainConfig, train_verifier  # noqa: E402
from tests.tiny_models import save_tiny_bert, save_tiny_qwen2  # noqa: E402
from tests.verifier.interrupted import Killed, killed_once, run_main  # noqa: E402

RIGHT, WRONG = "def add(a, b):\n    return a + b", "def add(a, b):\n    return a - b"
UNSEEN = "Solve Mbpp/99."  # the easy rollout's prompts are Mbpp/0 … Mbpp/9
PROMPTS, CODES = [UNSEEN, UNSEEN, "Write add."], [RIGHT, WRONG, "pass"]


def config(rollout, backbone, **overrides) -> VerifierTrainConfig:
    settings = dict(rollouts=(rollout,), base=str(backbone), loss="bce+bt", head_only=True,
                    epochs=40, batch_size=8, max_length=64, validation_fraction=0.2,
                    best_of=(2,), seed=2)  # fmt: skip
    return VerifierTrainConfig(**(settings | overrides))


@pytest.fixture(scope="module")
def probe(easy_rollout, backbone, tmp_path_factory):
    root = tmp_path_factory.mktemp("probe")
    cfg = config(easy_rollout, backbone, features=root / "features")
    return root, train_verifier(cfg, root / "v")


def test_its_scores_are_its_head_on_the_end_of_turn_hidden_state(probe, backbone):
    root, _ = probe
    verifier = Verifier.load(root / "v", device="cpu")
    head = load_file(str(root / "v" / HEAD_WEIGHTS))
    assert head.keys() == {"weight"}  # a decoder's score head has no bias
    encoded = ChatEncoder(verifier.tokenizer, 64)(PROMPTS, CODES)
    last = encoded["attention_mask"].sum(dim=1) - 1  # (B,) the end-of-turn token
    base = transformers.AutoModel.from_pretrained(str(backbone))  # the bare Qwen2 backbone
    with torch.no_grad():
        hidden = base(**encoded).last_hidden_state[torch.arange(len(CODES)), last]  # (B, H)
    expected = (hidden @ head["weight"].T)[:, 0]
    assert verifier.score_texts(PROMPTS, CODES) == pytest.approx(expected.tolist(), abs=1e-5)


def test_the_directory_holds_the_head_and_names_the_base_and_the_store(probe, backbone):
    root, metadata = probe
    files = {path.name for path in (root / "v").iterdir()}
    assert HEAD_WEIGHTS in files and "model.safetensors" not in files
    assert metadata["head_only"] is True and metadata["lora_r"] is None
    assert metadata["backbone_path"] == str(backbone.resolve())
    native = "bfloat16" if bf16_is_native() else "float32"
    assert (metadata["dtype"], metadata["input"]) == (native, "chat")
    features = metadata["features"]
    assert features["dir"] == str(root / "features") and features["computed"] == 60
    assert features["inputs"] == 60  # 8 training + 2 validation problems, 6 codes each
    training = metadata["training"]
    assert training["feature_seconds"] >= 0 and training["head_seconds"] > 0
    assert training["steps"] == 40 * ((48 + 64 + 7) // 8)  # 48 points + 64 pairs, 8 a step
    assert 1 <= training["best_epoch"] <= 40
    assert metadata["check"]["prompt"].startswith("Solve Mbpp/")


def test_it_learns_to_tell_two_codes_of_one_prompt_apart(probe):
    root, metadata = probe
    assert metadata["validation_metrics"]["pairwise_accuracy"] == 1.0
    right, wrong, _ = Verifier.load(root / "v", device="cpu").score_texts(PROMPTS, CODES)
    assert right > wrong


def test_runs_sharing_a_store_compute_each_input_once(probe, easy_rollout, backbone):
    root, _ = probe
    cfg = config(easy_rollout, backbone, loss="bt", features=root / "features", seed=3)
    metadata = train_verifier(cfg, root / "bt")
    assert (metadata["features"]["computed"], metadata["features"]["inputs"]) == (0, 60)
    assert metadata["loss"] == "bt"


def test_scoring_through_a_store_gives_the_same_scores_and_reads_each_input_once(probe, tmp_path):
    root, _ = probe
    verifier = Verifier.load(root / "v", device="cpu")
    scores = stored_scorer(verifier, tmp_path, batch_size=2)(PROMPTS, CODES)
    assert scores == pytest.approx(verifier.score_texts(PROMPTS, CODES), abs=1e-5)
    parts = sorted(tmp_path.glob("part-*.safetensors"))
    assert len(parts) == 2  # 3 inputs, 2 a forward pass
    again = stored_scorer(verifier, tmp_path, batch_size=2)(PROMPTS[:2], CODES[:2])
    assert again == scores[:2] and sorted(tmp_path.glob("part-*.safetensors")) == parts
    verifier.metadata = {**verifier.metadata, "head_only": False}
    with pytest.raises(ConfigError, match="trained with --head-only or --lora-layers"):
        stored_scorer(verifier, tmp_path, batch_size=2)


def test_a_killed_run_resumes_its_feature_pass(easy_rollout, backbone, tmp_path):
    cfg = config(easy_rollout, backbone, feature_batch_size=16, epochs=1)
    with pytest.raises(Killed):
        train_verifier(cfg, tmp_path, killed_once(32))  # after two passes of 16
    assert not (tmp_path / METADATA).exists()
    metadata = train_verifier(cfg, tmp_path)
    assert (metadata["features"]["computed"], metadata["features"]["inputs"]) == (28, 60)


def test_a_changed_base_is_refused_at_load(probe, tmp_path):
    root, metadata = probe
    moved = shutil.copytree(root / "v", tmp_path / "v")
    other = save_tiny_qwen2(tmp_path / "other", seed=1)  # same shapes, other weights
    (moved / METADATA).write_text(json.dumps({**metadata, "backbone_path": str(other)}))
    with pytest.raises(ConfigError, match="the base has changed since"):
        Verifier.load(moved, device="cpu")


def test_an_encoder_head_reads_its_pooled_token(easy_rollout, tmp_path):
    bert = save_tiny_bert(tmp_path / "bert")
    metadata = train_verifier(config(easy_rollout, bert, loss="bt"), tmp_path / "v")
    assert (metadata["input"], metadata["dtype"]) == ("pair", "float32")
    verifier = Verifier.load(tmp_path / "v", device="cpu")
    head = load_file(str(tmp_path / "v" / HEAD_WEIGHTS))
    base = transformers.AutoModel.from_pretrained(str(bert))
    with torch.no_grad():
        pooled = base(**PairEncoder(verifier.tokenizer, 64)(PROMPTS, CODES)).pooler_output
    expected = (pooled @ head["weight"].T + head["bias"])[:, 0]
    assert verifier.score_texts(PROMPTS, CODES) == pytest.approx(expected.tolist(), abs=1e-5)


def test_a_base_lacking_more_than_the_head_is_refused(easy_rollout, tmp_path):
    bert = save_tiny_bert(tmp_path / "bert")
    unpooled = transformers.BertModel(transformers.BertConfig.from_pretrained(str(bert)),
                                      add_pooling_layer=False)  # fmt: skip
    unpooled.save_pretrained(bert)  # BertForSequenceClassification's pooler would be random
    with pytest.raises(ConfigError, match=r"lacks weights besides the head \(bert\.pooler"):
        train_verifier(config(easy_rollout, bert), tmp_path / "v")


@pytest.mark.parametrize(("overrides", "named"), [
    ({"lora_r": 16}, "--lora-r"), ({"lora_r": 0}, "--lora-r"),
    ({"gradient_checkpointing": False}, "--(no-)gradient-checkpointing"),
    ({"attention_dropout": 0.1}, "--attention-dropout"),
])  # fmt: skip
def test_settings_that_would_train_the_backbone_are_refused(overrides, named):
    refusal = rf"--head-only trains the head alone.*{re.escape(named)}"
    with pytest.raises(ConfigError, match=refusal):
        VerifierTrainConfig(rollouts=("r",), head_only=True, **overrides)


def test_feature_settings_without_head_only_and_head_only_defaults():
    for flag, setting in (("--features", {"features": "f"}),
                          ("--feature-batch-size", {"feature_batch_size": 1})):  # fmt: skip
        with pytest.raises(ConfigError, match=f"{flag} is a setting of the feature pass of"):
            VerifierTrainConfig(rollouts=("r",), **setting)
    probe = VerifierTrainConfig(rollouts=("r",), head_only=True, epochs=None)
    full = VerifierTrainConfig(rollouts=("r",))
    assert (probe.epochs, probe.learning_rate, probe.weight_decay) == (20.0, 1e-2, 0.1)
    assert (full.epochs, full.learning_rate, full.weight_decay) == (2.0, 3e-5, 0.01)


def test_cli_head_only_trains_evaluates_and_refuses_lora(
    easy_rollout, backbone, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "v"
    common = ("verifier", "train", "--rollouts", easy_rollout, "--base", backbone, "--out", out,
              "--head-only", "--max-length", 64, "--batch-size", 8)  # fmt: skip
    assert run_main(monkeypatch, *common, "--lora-r", 16) == 2
    assert "--head-only trains the head alone" in capsys.readouterr().err
    assert run_main(monkeypatch, *common, "--epochs", 3) == 0
    assert "trained 27 steps" in capsys.readouterr().out  # bt: 9 problems x 8 pairs, 8 a step
    assert json.loads((out / METADATA).read_text())["training"]["seed"] == 0
    evaluate = ("verifier", "eval", "--verifier", out, "--rollouts", easy_rollout, "--best-of",
                "1,2", "--out")  # fmt: skip
    assert run_main(monkeypatch, *evaluate, tmp_path / "plain") == 0
    plain = json.loads((tmp_path / "plain" / "report.json").read_text())
    assert plain["codes"] == 60
    assert run_main(monkeypatch, *evaluate, tmp_path / "stored", "--features", tmp_path / "f") == 0
    stored = json.loads((tmp_path / "stored" / "report.json").read_text())

    def numbers(report: dict) -> list[float]:
        best = [b["verifier"] for b in report["best_of_n"]]
        return [report["roc_auc"], report["pairwise_accuracy"], *best]

    assert numbers(stored) == pytest.approx(numbers(plain))
