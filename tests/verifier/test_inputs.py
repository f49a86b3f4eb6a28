"""Verifier inputs. Encoders: (prompt, code) pairs fit the budget and the code keeps most
of it. Decoders: the generator's chat, token for token, ending in the end-of-turn token the
head reads, padded with another token."""

from __future__ import annotations

import logging

import pytest

pytest.importorskip("transformers")

from mucode.core.errors import ConfigError
from mucode.verifier.inputs import (
    CODE_SHARE,
    ChatEncoder,
    InputFormat,
    PairEncoder,
    answer_text,
    code_segment,
    make_encoder,
)
from mucode.verifier.model import load_tokenizer
from tests.tiny_models import save_tiny_bert


def encode(tokenizer, prompts, codes, max_length):
    return PairEncoder(tokenizer, max_length)(prompts, codes)


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


def test_an_encoder_reads_cls_prompt_sep_code_sep(tmp_path):
    tokenizer = load_tokenizer(str(save_tiny_bert(tmp_path / "bert")))
    encoded = make_encoder(InputFormat.PAIR, tokenizer, 64)(["Solve it."], ["return a + b"])
    text = tokenizer.decode(encoded["input_ids"][0])
    assert text == "[CLS] solve it. [SEP] ` ` ` python return a + b ` ` ` [SEP]"
    assert encoded["token_type_ids"][0].tolist() == [0] * 6 + [1] * 12


def chat_ids(tokenizer, prompt, code):
    """The generator's conversation rendered whole by the chat template, tokenised at once."""
    messages = [{"role": "user", "content": prompt},
                {"role": "assistant", "content": answer_text(code)}]  # fmt: skip
    text = tokenizer.apply_chat_template(messages, tokenize=False).rstrip()
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def read_positions(encoded, pad_token_id):
    """Where transformers' decoder classifiers pool: the rightmost token that is not padding."""
    import torch

    ids = encoded["input_ids"]
    return ((ids != pad_token_id).int() * torch.arange(ids.shape[1])).argmax(-1).tolist()


def test_a_decoder_sees_the_conversation_as_the_chat_template_renders_it(tokenizer):
    prompts = ["Write add.", "Write a function that adds two numbers. " * 3]
    codes = ["def add(a, b):\n    return a + b", "pass"]
    encoder = ChatEncoder(tokenizer, max_length=256)
    encoded = encoder(prompts, codes)
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert encoder.read_token == end_of_turn
    lengths = encoded["attention_mask"].sum(dim=1).tolist()
    for row, prompt, code, length in zip(encoded["input_ids"], prompts, codes, lengths,
                                         strict=True):  # fmt: skip
        assert row[:length].tolist() == chat_ids(tokenizer, prompt, code)
        assert row[length - 1] == end_of_turn
        assert set(row[length:].tolist()) <= {tokenizer.pad_token_id}
    # the head reads the end-of-turn token of every row, after the whole code
    assert read_positions(encoded, tokenizer.pad_token_id) == [n - 1 for n in lengths]
    assert min(lengths) < max(lengths)  # padding was needed, and it is on the right


def test_a_long_decoder_input_is_cut_inside_and_still_ends_where_the_head_reads(tokenizer):
    encoder = ChatEncoder(tokenizer, max_length=64)
    prompt = "Write a function that adds two numbers. " * 40
    code = "def add(a, b):\n    return a + b\n" * 40
    encoded = encoder([prompt, "Add."], [code, "x = 1"])
    ids = encoded["input_ids"][0].tolist()
    assert len(ids) == 64 and encoded["attention_mask"][0].sum() == 64
    assert ids[-1] == encoder.read_token
    assert read_positions(encoded, tokenizer.pad_token_id) == [
        63,
        len(encoder.ids("Add.", "x = 1")) - 1,
    ]
    text = tokenizer.decode(ids)
    assert text.startswith("<|im_start|>user\nWrite a func")  # the prompt keeps its start
    answer = text[text.index("assistant\n") + len("assistant\n") : -len("<|im_end|>")]
    assert answer.startswith("```python\ndef add(a, b):")  # and the code its start
    assert n_tokens(tokenizer, answer) >= int(encoder.budget * CODE_SHARE) - 1


def test_text_that_spells_a_special_token_does_not_end_the_input_early(tokenizer):
    encoder = ChatEncoder(tokenizer, max_length=128)
    (row,) = encoder(["Print <|im_end|>."], ["print('<|im_end|><pad>')"])["input_ids"].tolist()
    special = {tokenizer.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<pad>")}
    user_and_answer = row[len(encoder.head) : -len(encoder.end)]
    # the template's own end of the user turn, and nothing else, until the final token
    assert [t for t in user_and_answer if t in special] == encoder.middle[:1]
    assert row[-1] == encoder.read_token


def test_a_pad_token_equal_to_the_end_of_turn_token_is_replaced(backbone):
    tokenizer = load_tokenizer(str(backbone))
    tokenizer.pad_token = "<|im_end|>"  # as a tokenizer whose pad falls back to eos would have
    encoder = ChatEncoder(tokenizer, max_length=64)
    assert tokenizer.pad_token_id != encoder.read_token
    encoded = encoder(["Add.", "Add two numbers."], ["x", "def add(a, b):\n    return a + b"])
    lengths = encoded["attention_mask"].sum(dim=1).tolist()
    assert read_positions(encoded, tokenizer.pad_token_id) == [n - 1 for n in lengths]


def test_without_a_chat_template_a_decoder_reads_prompt_blank_line_code_eos(backbone):
    tokenizer = load_tokenizer(str(backbone))
    tokenizer.chat_template = None
    (row,) = ChatEncoder(tokenizer, max_length=64)(["Add."], ["x = 1"])["input_ids"].tolist()
    assert tokenizer.decode(row) == "Add.\n\n```python\nx = 1\n```<|im_end|>"


def test_a_budget_the_chat_frame_fills_is_refused(tokenizer):
    with pytest.raises(ConfigError, match="max_length 12 leaves no room"):
        ChatEncoder(tokenizer, max_length=12)


def test_the_embedded_models_tokenizer_frames_the_prompt_as_the_generator_saw_it():
    from mucode.core.cache import cache_dir
    from mucode.generation.causal_lm import SOURCE_RECORD
    from mucode.generation.models import DEFAULT_MODEL

    copy = cache_dir() / "hf" / DEFAULT_MODEL.filename.removesuffix(".gguf")
    if not (copy / SOURCE_RECORD).exists():
        pytest.skip(
            "no transformers copy of the embedded model (mucode verifier train --base embedded)"
        )
    tokenizer = load_tokenizer(str(copy))
    encoder = ChatEncoder(tokenizer, max_length=384)
    prompt = (
        "You are an expert Python programmer, and here is your task: Write a function to "
        "find the shared elements from the given two lists. Your code should pass these "
        "tests:\n\nassert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))"
    )
    code = "def similar_elements(a, b):\n    return tuple(set(a) & set(b))"
    (row,) = encoder([prompt], [code])["input_ids"].tolist()
    assert row == chat_ids(tokenizer, prompt, code)  # the default system prompt included
    assert tokenizer.decode(row[:4]) == "<|im_start|>system\nYou"
    assert tokenizer.convert_ids_to_tokens(row[-1]) == "<|im_end|>" != tokenizer.pad_token
