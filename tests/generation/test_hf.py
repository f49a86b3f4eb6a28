"""The transformers backend on a tiny randomly initialised Qwen2 model, built offline."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from mucode.core.errors import ConfigError, ContextFull
from mucode.core.manifest import MANIFEST
from mucode.core.records import Message
from mucode.generation import SamplingParams, make_generator
from mucode.generation.config import HFConfig
from mucode.rollout import TRAJECTORIES
from tests.tiny_models import save_tiny_qwen2

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("tokenizers")


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    return save_tiny_qwen2(tmp_path_factory.mktemp("tiny-qwen2"))


@pytest.fixture(scope="module")
def tiny_adapter_dir(tiny_model_dir, tmp_path_factory):
    """A LoRA adapter on the tiny model whose weights are random, so it changes answers."""
    peft = pytest.importorskip("peft")
    torch.manual_seed(0)
    base = transformers.AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    config = peft.LoraConfig(r=8, lora_alpha=64, target_modules=["q_proj", "v_proj", "o_proj"],
                             init_lora_weights=False)  # fmt: skip
    path = tmp_path_factory.mktemp("tiny-lora")
    peft.get_peft_model(base, config).save_pretrained(path)
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


def test_a_prompt_that_fills_the_context_is_a_context_full_error(tiny_model_dir):
    generator = make_generator(HFConfig(model=str(tiny_model_dir), device="cpu"))
    try:
        with pytest.raises(ContextFull, match="context of 512"):  # the tiny model's window
            generator.generate([[Message("user", "def add(a, b): " * 300)]], 1,
                               SamplingParams(max_tokens=4))  # fmt: skip
    finally:
        generator.close()


def test_a_peft_adapter_is_applied(tiny_model_dir, tiny_adapter_dir):
    question = [[Message("user", "def add(a, b):")]]
    greedy = SamplingParams(max_tokens=12)
    answers = []
    for adapter in (None, str(tiny_adapter_dir)):
        generator = make_generator(HFConfig(model=str(tiny_model_dir), adapter=adapter,
                                            device="cpu"))  # fmt: skip
        answers.append(generator.generate(question, 1, greedy)[0][0].text)
        generator.close()
    assert answers[0] != answers[1]


def test_rollout_cli_runs_the_hf_backend_with_an_adapter(tiny_model_dir, tiny_adapter_dir,
                                                         tmp_path):  # fmt: skip
    out = tmp_path / "run"
    command = [sys.executable, "-m", "mucode", "rollout", "--backend", "hf",
               "--model", str(tiny_model_dir), "--adapter", str(tiny_adapter_dir),
               "--tasks", "HumanEval/53", "--turns", "1", "--max-tokens", "8",
               "--workers", "1", "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["config"]["generator"]["adapter"] == str(tiny_adapter_dir)
    (trajectory,) = (json.loads(line) for line in (out / TRAJECTORIES).open())
    assert trajectory["turns"][0]["completion"]["completion_tokens"] > 0
