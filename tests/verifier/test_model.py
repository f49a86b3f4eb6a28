"""Verifier inputs: (prompt, code) pairs fit the budget and the code keeps most of it."""

from __future__ import annotations

import logging

import pytest

pytest.importorskip("transformers")

from mucode.verifier.model import CODE_SHARE, code_segment, encode, load_tokenizer


@pytest.fixture(scope="module")
def tokenizer(backbone):
    return load_tokenizer(str(backbone))


def n_tokens(tokenizer, text):
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def test_short_pairs_are_kept_whole(tokenizer):
    prompt, code = "Write add.", "def add(a, b):\n    return a + b"
    encoded = encode(tokenizer, [prompt], [code], max_length=256)
    assert tokenizer.decode(encoded["input_ids"][0]) == prompt + code_segment(code)


def test_long_pairs_fit_and_the_code_keeps_most_of_the_budget(tokenizer):
    prompt = "Write a function that adds two numbers. " * 40
    code = "def add(a, b):\n    return a + b\n" * 40
    short_code = "def add(a, b):\n    return a + b"
    encoded = encode(tokenizer, [prompt, prompt], [code, short_code], max_length=64)
    lengths = encoded["attention_mask"].sum(dim=1).tolist()
    assert lengths == [64, 64]
    long_text, short_text = (tokenizer.decode(ids) for ids in encoded["input_ids"])
    code_part = long_text[long_text.index("\n```python") :]
    assert n_tokens(tokenizer, code_part) >= int(64 * CODE_SHARE) - 1
    assert long_text.startswith("Write a function")  # each side loses its end
    assert short_text.endswith(code_segment(short_code))  # a short code is never cut


def test_long_inputs_are_cut_without_the_tokenizers_too_long_warning(backbone, caplog):
    tokenizer = load_tokenizer(str(backbone))  # fresh: the warning is given once per tokenizer
    tokenizer.model_max_length = 48
    transformers_logger = logging.getLogger("transformers")  # it does not propagate
    transformers_logger.addHandler(caplog.handler)
    try:
        encoded = encode(tokenizer, ["Write add. " * 40], ["x = 1\n" * 40], max_length=32)
    finally:
        transformers_logger.removeHandler(caplog.handler)
    assert encoded["attention_mask"].sum().item() == 32
    assert "longer than the specified maximum sequence length" not in caplog.text
