"""LoRA on a decoder's top layers over stored states (--lora-layers): a model reading the
stored states scores as the whole model does; training changes only the top layers and the
head, and the saved verifier is a whole model that scores the same with or without the
store; runs sharing a store compute each input once, a killed state pass resumes; and
settings it cannot honour are refused."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("peft")
pytest.importorskip("sklearn")

from safetensors.torch import load_file  # noqa: E402

from mucode.core.errors import ConfigError  # noqa: E402
from mucode.verifier.features import FeatureStore  # noqa: E402
from mucode.verifier.inputs import ChatEncoder  # noqa: E402
from mucode.verifier.model import METADATA, Verifier, load_tokenizer, prepare_model  # noqa: E402
from mucode.verifier.states import (  # noqa: E402
    compute_states,
    reading_stored_states,
    stored_states_scorer,
)
from mucode.verifier.train import VerifierTrainConfig, train_verifier  # noqa: E402
from tests.tiny_models import save_tiny_bert  # noqa: E402
from tests.verifier.interrupted import Killed, killed_once, run_main  # noqa: E402

RIGHT, WRONG = "def add(a, b):\n    return a + b", "def add(a, b):\n    return a - b"
PROMPTS = ["Solve Mbpp/99.", "Solve Mbpp/99.", "Write add, and a much longer prompt than that."]
CODES = [RIGHT, WRONG, "pass"]
INPUTS = list(zip(PROMPTS, CODES, strict=True))


def config(rollout, backbone, **overrides) -> VerifierTrainConfig:
    settings = dict(rollouts=(rollout,), base=str(backbone), loss="bce+bt", lora_layers=1,
                    lora_r=4, epochs=3, batch_size=8, learning_rate=5e-3, max_length=64,
                    validation_fraction=0.2, best_of=(2,), save_steps=5, seed=2)  # fmt: skip
    return VerifierTrainConfig(**(settings | overrides))


@pytest.fixture(scope="module")
def trained(easy_rollout, backbone, tmp_path_factory):
    root = tmp_path_factory.mktemp("states")
    cfg = config(easy_rollout, backbone, features=root / "states")
    return root, train_verifier(cfg, root / "v")


def classifier(backbone):
    tokenizer = load_tokenizer(str(backbone))
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        str(backbone), num_labels=1
    )
    return prepare_model(model, tokenizer).eval(), ChatEncoder(tokenizer, 64)


def test_a_model_reading_stored_states_scores_as_the_whole_model(backbone, tmp_path):
    model, encoder = classifier(backbone)
    store = FeatureStore(tmp_path, {"layer": 1})
    assert compute_states(model, encoder, store, INPUTS, batch_size=2) == 3
    lengths = sorted(int(encoder([p], [c])["attention_mask"].sum()) for p, c in INPUTS)
    assert sorted(row.shape[0] for row in store.rows.values()) == lengths  # padding dropped
    assert {row.shape[1] for row in store.rows.values()} == {model.config.hidden_size}
    batch = encoder(PROMPTS, CODES)  # right padded: the rows have different lengths
    with torch.no_grad():
        whole = model(**batch).logits[:, 0]
        with reading_stored_states(model, store, trained_layers=1):
            stored = model(**batch).logits[:, 0]
            embedding = type(model.model.embed_tokens).__name__
        again = model(**batch).logits[:, 0]
    assert embedding == "StoredStates"
    assert stored.tolist() == pytest.approx(whole.tolist(), abs=1e-5)
    assert again.tolist() == whole.tolist()  # its own layers are back
    unseen = encoder(["unseen"], ["x = 1"])
    with (pytest.raises(ConfigError, match="not in the state store"), torch.no_grad(),
          reading_stored_states(model, store, trained_layers=1)):  # fmt: skip
        model(**unseen)
    assert type(model.model.embed_tokens).__name__ == "Embedding"  # back after the error too


def test_training_changes_only_the_top_layers_and_the_head(trained, backbone):
    root, metadata = trained
    saved = load_file(str(root / "v" / "model.safetensors"))
    base = load_file(str(backbone / "model.safetensors"))
    frozen = [k for k in saved if ".layers.0." in k or "embed_tokens" in k]
    top = [k for k in saved if ".layers.1." in k and k.endswith("proj.weight")]
    assert frozen and top
    assert all(torch.equal(saved[k], base[k]) for k in frozen)
    assert all(not torch.equal(saved[k], base[k]) for k in top)  # LoRA merged into each
    assert metadata["lora_layers"] == 1 and metadata["lora_r"] == 4
    states = metadata["states"]
    assert (states["layer"], states["computed"], states["inputs"]) == (1, 60, 60)
    assert metadata["validation_metrics"]["pairwise_accuracy"] == 1.0  # add vs subtract


def test_the_saved_verifier_scores_the_same_through_the_store(trained, tmp_path):
    root, _ = trained
    verifier = Verifier.load(root / "v", device="cpu")
    whole = verifier.score_texts(PROMPTS, CODES)
    assert whole[0] > whole[1]  # it learned: the right code above the wrong one
    stored = stored_states_scorer(verifier, root / "states", batch_size=2)(PROMPTS, CODES)
    assert stored == pytest.approx(whole, abs=1e-4)
    elsewhere = stored_states_scorer(verifier, tmp_path, batch_size=2)(PROMPTS, CODES)
    assert elsewhere == pytest.approx(whole, abs=1e-4)
    assert len(list(tmp_path.glob("part-*.safetensors"))) == 2  # 3 inputs, 2 a pass
    verifier.metadata = {**verifier.metadata, "lora_layers": None}
    with pytest.raises(ConfigError, match="trained with --lora-layers"):
        stored_states_scorer(verifier, tmp_path, batch_size=2)


def test_runs_sharing_a_store_compute_each_input_once(trained, easy_rollout, backbone):
    root, _ = trained
    cfg = config(easy_rollout, backbone, loss="bt", features=root / "states", epochs=1)
    assert train_verifier(cfg, root / "bt")["states"]["computed"] == 0
    with pytest.raises(ConfigError, match="another backbone or input layout"):
        train_verifier(config(easy_rollout, backbone, features=root / "states", max_length=48),
                       root / "shorter")  # fmt: skip


def test_training_reads_the_stored_states(easy_rollout, backbone, tmp_path, monkeypatch):
    from mucode.verifier import states

    rows_read = []
    lookup = states.StoredStates.forward

    def counted(self, input_ids):
        rows_read.append(len(input_ids))
        return lookup(self, input_ids)

    monkeypatch.setattr(states.StoredStates, "forward", counted)
    train_verifier(config(easy_rollout, backbone, loss="bce", epochs=1, validation_fraction=0),
                   tmp_path)  # fmt: skip
    assert sum(rows_read) == 60  # one epoch: 10 problems x 6 distinct codes, each read once


def test_a_killed_run_resumes_its_state_pass(easy_rollout, backbone, tmp_path):
    cfg = config(easy_rollout, backbone, feature_batch_size=16, epochs=1)
    with pytest.raises(Killed):
        train_verifier(cfg, tmp_path, killed_once(32))  # after two passes of 16
    assert not (tmp_path / METADATA).exists()
    assert train_verifier(cfg, tmp_path)["states"]["computed"] == 28


@pytest.mark.parametrize(("overrides", "refusal"), [
    ({"lora_r": 0}, "--lora-r 0 would train every weight"),
    ({"head_only": True, "lora_r": None}, "--head-only trains the head alone.*--lora-layers"),
])  # fmt: skip
def test_settings_it_cannot_honour_are_refused(overrides, refusal):
    with pytest.raises(ConfigError, match=refusal):
        VerifierTrainConfig(rollouts=("r",), lora_layers=1, **overrides)


def test_backbones_it_cannot_split_are_refused(easy_rollout, backbone, tmp_path):
    with pytest.raises(ConfigError, match="has 2 layers; train 1 to 1"):
        train_verifier(config(easy_rollout, backbone, lora_layers=2), tmp_path / "all")
    bert = save_tiny_bert(tmp_path / "bert")
    with pytest.raises(ConfigError, match="needs a decoder with `layers` and `embed_tokens`"):
        train_verifier(config(easy_rollout, bert), tmp_path / "bert-v")


def test_cli_trains_with_lora_layers_and_evaluates_through_the_store(
    easy_rollout, backbone, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "v"
    train = ("verifier", "train", "--rollouts", easy_rollout, "--base", backbone, "--out", out,
             "--lora-layers", 1, "--lora-r", 4, "--max-length", 64, "--batch-size", 8,
             "--epochs", 1, "--validation-fraction", 0)  # fmt: skip
    assert run_main(monkeypatch, *train) == 0
    assert "trained 10 steps" in capsys.readouterr().out  # bt: 10 problems x 8 pairs, 8 a step
    assert json.loads((out / METADATA).read_text())["states"]["dir"] == str(out / "states")
    evaluate = ("verifier", "eval", "--verifier", out, "--rollouts", easy_rollout,
                "--best-of", 2, "--json")  # fmt: skip
    assert run_main(monkeypatch, *evaluate, "--out", tmp_path / "e1") == 0
    assert run_main(monkeypatch, *evaluate, "--features", out / "states",
                    "--out", tmp_path / "e2") == 0  # fmt: skip
    whole = json.loads((tmp_path / "e1" / "report.json").read_text())
    stored = json.loads((tmp_path / "e2" / "report.json").read_text())
    assert stored["roc_auc"] == pytest.approx(whole["roc_auc"])
    assert stored["pairwise_accuracy"] == pytest.approx(whole["pairwise_accuracy"])
