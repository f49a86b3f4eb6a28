"""The feature store and pass: a feature is exactly what the head reads (a decoder's hidden
state at its end-of-turn token, an encoder's pooled first token); a killed pass started
again computes only what no part file holds; a store is refused for another backbone."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from mucode.core.errors import ConfigError  # noqa: E402
from mucode.verifier.features import FeatureStore, compute_features, input_key  # noqa: E402
from mucode.verifier.inputs import InputFormat, make_encoder  # noqa: E402
from mucode.verifier.model import load_tokenizer, prepare_model  # noqa: E402
from tests.tiny_models import save_tiny_bert  # noqa: E402

INPUTS = [(f"Solve task {i}.", f"def f(x):\n    return x + {i}" + " * 2" * i) for i in range(7)]
IDENTITY = {"backbone": "tiny", "dtype": "float32"}


def classifier(path, input_format: InputFormat):
    tokenizer = load_tokenizer(str(path))
    encoder = make_encoder(input_format, tokenizer, 64)  # sets the pad, as training does
    transformers.set_seed(0)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(str(path), num_labels=1)
    return prepare_model(model, tokenizer).eval(), encoder


@pytest.fixture(scope="module")
def decoder(backbone):
    return classifier(backbone, InputFormat.CHAT)


def count_forwards(model) -> list[int]:
    """Sequences the model reads, one entry per forward pass."""
    seen: list[int] = []
    model.register_forward_hook(lambda _, args, kwargs, out: seen.append(len(out.logits)),
                                with_kwargs=True)  # fmt: skip
    return seen


def test_a_decoders_feature_is_its_hidden_state_at_the_end_of_turn_token(decoder, tmp_path):
    model, encoder = decoder
    store = FeatureStore(tmp_path, IDENTITY)
    assert compute_features(model, encoder, store, INPUTS, batch_size=3) == len(INPUTS)
    features = store.matrix([input_key(*pair) for pair in INPUTS])  # (N, H)
    prompts, codes = map(list, zip(*INPUTS, strict=True))
    encoded = encoder(prompts, codes)
    last = encoded["attention_mask"].sum(dim=1) - 1  # (B,) the end-of-turn token
    assert (encoded["input_ids"][torch.arange(len(INPUTS)), last] == encoder.read_token).all()
    with torch.no_grad():
        hidden = model.model(**encoded).last_hidden_state  # (B, T, H)
        expected = hidden[torch.arange(len(INPUTS)), last]
        assert torch.allclose(features, expected, atol=1e-5)
        logits = model(**encoded).logits[:, 0]
    assert torch.allclose(model.score(features)[:, 0], logits, atol=1e-5)


def test_an_encoders_feature_is_its_pooled_first_token(tmp_path):
    model, encoder = classifier(save_tiny_bert(tmp_path / "bert"), InputFormat.PAIR)
    store = FeatureStore(tmp_path / "features", IDENTITY)
    compute_features(model, encoder, store, INPUTS, batch_size=4)
    prompts, codes = map(list, zip(*INPUTS, strict=True))
    with torch.no_grad():
        pooled = model.bert(**encoder(prompts, codes)).pooler_output  # (B, H)
    assert torch.allclose(store.matrix([input_key(*pair) for pair in INPUTS]), pooled, atol=1e-5)


class Killed(Exception):
    """Stands in for a kill between two forward passes."""


def kill_after(batches: int):
    def progress(done: int, total: int) -> None:
        progress.calls += 1
        if progress.calls > batches:  # the first call reports what was stored already
            raise Killed

    progress.calls = 0
    return progress


def test_a_killed_pass_resumes_without_recomputing_what_is_stored(decoder, tmp_path):
    model, encoder = decoder
    forwards = count_forwards(model)
    with pytest.raises(Killed):
        compute_features(model, encoder, FeatureStore(tmp_path, IDENTITY), INPUTS, 2,
                         kill_after(2))  # fmt: skip
    assert forwards == [2, 2] and len(list(tmp_path.glob("part-*.safetensors"))) == 2
    forwards.clear()
    reopened = FeatureStore(tmp_path, IDENTITY)  # from disk only
    assert len(reopened) == 4
    seen: list[tuple[int, int]] = []
    computed = compute_features(model, encoder, reopened, INPUTS, 2, lambda *p: seen.append(p))
    assert computed == 3 and forwards == [2, 1]  # the 3 inputs not stored, nothing else
    assert seen == [(4, 7), (6, 7), (7, 7)]
    whole = FeatureStore(tmp_path / "whole", IDENTITY)
    compute_features(model, encoder, whole, INPUTS, 7)
    keys = [input_key(*pair) for pair in INPUTS]
    assert torch.allclose(FeatureStore(tmp_path, IDENTITY).matrix(keys), whole.matrix(keys),
                          atol=1e-5)  # fmt: skip
    forwards.clear()
    assert compute_features(model, encoder, whole, INPUTS[::-1], 7) == 0 and forwards == []


def test_a_store_is_refused_for_another_backbone_or_layout(tmp_path):
    FeatureStore(tmp_path, IDENTITY)
    with pytest.raises(ConfigError, match=r"dtype 'float32', not 'bfloat16'.*--features"):
        FeatureStore(tmp_path, {**IDENTITY, "dtype": "bfloat16"})
