"""Verifier inputs: (prompt, code) pairs fit the budget and the code keeps most of it."""

from __future__ import annotations

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
