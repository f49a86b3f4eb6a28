"""The verifier model: a decoder's head reads the end-of-turn token after the code; in
bfloat16 the head stays float32, and a saved verifier loads to the same scores."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from mucode.verifier.inputs import InputFormat  # noqa: E402
from mucode.verifier.model import Verifier, head_of, load_tokenizer, prepare_model  # noqa: E402

PROMPTS = ["Write add.", "Write a function that adds two numbers."]
CODES = ["def add(a, b):\n    return a + b", "pass"]
CHAT = {"input": InputFormat.CHAT.value}


def decoder_verifier(backbone, dtype: str) -> Verifier:
    tokenizer = load_tokenizer(str(backbone))
    transformers.set_seed(0)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        str(backbone), num_labels=1
    )
    return Verifier(prepare_model(model, tokenizer, dtype), tokenizer, 64, {**CHAT, "dtype": dtype})


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_a_decoders_score_is_its_head_on_the_end_of_turn_tokens_hidden_state(backbone, dtype):
    verifier = decoder_verifier(backbone, dtype)
    inputs = verifier.encoder(PROMPTS, CODES)
    last = inputs["attention_mask"].sum(dim=1) - 1  # (B,) the last real token of each row
    assert (inputs["input_ids"][torch.arange(2), last] == verifier.encoder.read_token).all()
    with torch.no_grad():
        hidden = verifier.model.model(**inputs).last_hidden_state  # (B, T, H)
        expected = head_of(verifier.model)(hidden[torch.arange(2), last])[:, 0]  # (B,)
    assert verifier.score_texts(PROMPTS, CODES) == pytest.approx(expected.tolist(), abs=1e-6)


def test_in_bfloat16_the_backbone_is_bfloat16_and_the_head_float32(backbone):
    verifier = decoder_verifier(backbone, "bfloat16")
    dtypes = {name: p.dtype for name, p in verifier.model.named_parameters()}
    assert dtypes.pop("score.weight") == torch.float32
    assert set(dtypes.values()) == {torch.bfloat16}
    with torch.no_grad():
        logits = verifier.model(**verifier.encoder(PROMPTS, CODES)).logits
    assert logits.dtype == torch.float32  # scores keep float32 resolution


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_a_saved_decoder_verifier_loads_to_the_same_scores(backbone, tmp_path, dtype):
    verifier = decoder_verifier(backbone, dtype)
    with torch.no_grad():  # a head unlike any fresh one, with more digits than bfloat16 holds
        head_of(verifier.model).weight.add_(torch.linspace(0, 1e-3, 64)[None] / 3)
    verifier.metadata["max_length"] = 64
    scores = verifier.score_texts(PROMPTS, CODES)
    verifier.save(tmp_path / "v")
    loaded = Verifier.load(tmp_path / "v", device="cpu")
    assert loaded.metadata["dtype"] == dtype and loaded.encoder.read_token == 3
    assert loaded.score_texts(PROMPTS, CODES) == scores


def test_a_verifier_saved_without_a_layout_reads_pairs_in_float32(backbone, tmp_path):
    """Verifiers saved before decoders had their own input keep the one they were trained on."""
    tokenizer = load_tokenizer(str(backbone))
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        str(backbone), num_labels=1
    )
    Verifier(prepare_model(model, tokenizer), tokenizer, 64, {"max_length": 64}).save(tmp_path)
    loaded = Verifier.load(tmp_path, device="cpu")
    encoded = loaded.encoder(["Add."], ["x"])
    assert tokenizer.decode(encoded["input_ids"][0]) == "Add.\n```python\nx\n```"
    assert {p.dtype for p in loaded.model.parameters()} == {torch.float32}
