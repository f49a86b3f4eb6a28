"""The transformers backend on a tiny randomly initialised Qwen2 model, built offline."""

from __future__ import annotations

import json
import shutil

import pytest

from mucode.errors import ConfigError
from mucode.generation import SamplingParams, make_generator
from mucode.generation.config import HFConfig
from mucode.records import Message

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    """A byte-level BPE tokenizer trained on a few lines, and a 2-layer Qwen2 with random
    weights: everything a real checkpoint directory has, in well under a second."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    path = tmp_path_factory.mktemp("tiny-qwen2")
    raw = Tokenizer(models.BPE(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<unk>", "<pad>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    raw.train_from_iterator(["def add(a, b):\n    return a + b", "user assistant hello"], trainer)
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=raw, unk_token="<unk>", pad_token="<pad>", eos_token="<|im_end|>"
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(path)
    config = transformers.Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    torch.manual_seed(0)
    transformers.Qwen2ForCausalLM(config).save_pretrained(path)
    return path


def test_batched_generation_on_a_tiny_model(tiny_model_dir):
    generator = make_generator(HFConfig(model=str(tiny_model_dir), device="cpu", batch_size=3))
    conversations = [[Message("user", "hello")], [Message("user", "def add(a, b):")]]
    greedy = SamplingParams(max_tokens=6)
    out = generator.generate(conversations, 2, greedy, seeds=[1, 2])
    assert [len(c) for c in out] == [2, 2]
    for samples in out:
        assert samples[0].text == samples[1].text  # greedy: the same answer twice
        for c in samples:
            assert 0 < c.completion_tokens <= 6 and c.prompt_tokens > 0
            assert c.finish_reason == ("length" if c.completion_tokens == 6 else "stop")
    again = generator.generate(conversations[:1], 1, greedy)
    assert again[0][0].text == out[0][0].text  # batch size and padding do not change greedy
    sampled = generator.generate(conversations, 1, SamplingParams(max_tokens=6, temperature=1.0))
    assert all(c[0].completion_tokens > 0 for c in sampled)
    generator.close()


def test_a_model_without_chat_template_is_refused(tiny_model_dir, tmp_path):
    plain = tmp_path / "plain"
    shutil.copytree(tiny_model_dir, plain)
    config_file = plain / "tokenizer_config.json"
    data = json.loads(config_file.read_text())
    data.pop("chat_template", None)
    config_file.write_text(json.dumps(data))
    (plain / "chat_template.jinja").unlink(missing_ok=True)
    with pytest.raises(ConfigError, match="no chat template"):
        make_generator(HFConfig(model=str(plain), device="cpu"))
