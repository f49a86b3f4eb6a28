"""Speculative decoding by prompt lookup: the setting and its checks, what each engine is
given (llama.cpp's params, vLLM's ``speculative_config``), the command line and training
config, and the real llama.cpp engine on a tiny GGUF: greedy answers are the same token for
token with speculation on, and drafts were really accepted (so the test cannot pass with
speculation silently off)."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from mucode.commands.generation_run import generator_config, speculation
from mucode.commands.options import DraftMax, NgramSize
from mucode.core.errors import ConfigError
from mucode.core.records import Message
from mucode.generation import SamplingParams
from mucode.generation.config import (
    DRAFT_MAX,
    NGRAM_SIZE,
    LlamaCppConfig,
    OpenAIConfig,
    Speculation,
    VLLMConfig,
)
from mucode.generation.vllm_engine import speculative_config
from tests.tiny_models import save_tiny_causal_lm, save_tiny_gguf, sharpen_tiny_model

NGRAM = Speculation(method="ngram", draft_max=8, ngram_size=3)


def test_off_by_default_and_sizes_filled_in_only_when_on():
    assert Speculation() == Speculation(method="off", draft_max=None, ngram_size=None)
    assert not LlamaCppConfig().speculative.on and not VLLMConfig(model="m").speculative.on
    on = Speculation(method="ngram")
    assert on.on and (on.draft_max, on.ngram_size) == (DRAFT_MAX, NGRAM_SIZE)
    assert Speculation(method="ngram", ngram_size=2).draft_max == DRAFT_MAX
    assert Speculation.model_validate(on.model_dump()) == on  # a manifest reads back the same


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"draft_max": 8}, "draft_max set while speculation is off"),
        ({"method": "off", "ngram_size": 3}, "ngram_size set while speculation is off"),
        ({"method": "fast"}, "'off' or 'ngram'"),
        ({"method": "ngram", "draft_max": 0}, "greater than or equal to 1"),
        ({"method": "ngram", "ngram_size": 65}, "less than or equal to 64"),
        ({"method": "ngram", "lookahead": 3}, "lookahead"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(settings, message):
    with pytest.raises(ValidationError, match=message):
        Speculation(**settings)


def test_llamacpp_refuses_drafts_shorter_than_the_ngram_vllm_does_not():
    short = Speculation(method="ngram", draft_max=2, ngram_size=4)
    with pytest.raises(ValidationError, match=r"draft_max \(2\) is below ngram_size \(4\)"):
        LlamaCppConfig(speculative=short)
    assert VLLMConfig(model="m", speculative=short).speculative == short


def test_command_line_settings_are_checked_per_backend():
    assert speculation("ngram", None, 3) == Speculation(method="ngram", ngram_size=3)
    with pytest.raises(ConfigError, match="--speculative off: draft_max set while"):
        speculation("off", 8, None)
    config = generator_config("llamacpp", None, None, {"parallel": 1}, None, NGRAM)
    assert config.speculative == NGRAM
    assert generator_config("vllm", "m", None, {}, None, NGRAM).speculative == NGRAM
    with pytest.raises(ConfigError, match="would never draft; raise draft_max"):
        generator_config("llamacpp", None, None, {}, None, speculation("ngram", 2, 4))
    with pytest.raises(ConfigError, match="not hf"):
        generator_config("hf", "m", None, {}, None, NGRAM)
    with pytest.raises(ConfigError, match="speculates as it was started"):
        generator_config("openai", "m", "http://127.0.0.1:1/v1", {}, None, NGRAM)
    plain = generator_config("openai", "m", "http://127.0.0.1:1/v1", {}, None, Speculation())
    assert isinstance(plain, OpenAIConfig)


def test_the_help_states_the_config_defaults():
    assert f"[{DRAFT_MAX}]" in DraftMax.__metadata__[0].help
    assert f"[{NGRAM_SIZE}]" in NgramSize.__metadata__[0].help


def test_vllm_gets_its_ngram_proposer():
    assert speculative_config(Speculation()) is None
    assert speculative_config(NGRAM) == {
        "method": "ngram",
        "num_speculative_tokens": 8,
        "prompt_lookup_max": 3,
        "prompt_lookup_min": 3,
    }


def test_the_vllm_engine_is_built_with_it(monkeypatch):
    from mucode.generation import vllm_engine

    built: list[dict] = []
    fake = SimpleNamespace(LLM=lambda **kwargs: built.append(kwargs))
    monkeypatch.setattr(vllm_engine, "import_optional", lambda *_args: fake)
    vllm_engine.VLLMGenerator(VLLMConfig(model="m", speculative=NGRAM))
    vllm_engine.VLLMGenerator(VLLMConfig(model="m"))
    assert built[0]["speculative_config"] == speculative_config(NGRAM)
    assert "speculative_config" not in built[1]  # off: vLLM's own default, whatever its version


def test_llamacpp_params_name_the_prompt_lookup_drafter(tmp_path):
    xllamacpp = pytest.importorskip("xllamacpp", reason="install the cpu extra")
    from mucode.generation.llamacpp import server_params

    kinds = xllamacpp.common_speculative_type
    params = server_params(LlamaCppConfig(speculative=NGRAM), tmp_path / "m.gguf")
    assert params.speculative.types == [kinds.COMMON_SPECULATIVE_TYPE_NGRAM_SIMPLE]
    lookup = params.speculative.ngram_simple
    assert (lookup.size_n, lookup.size_m) == (3, 8)
    off = server_params(LlamaCppConfig(), tmp_path / "m.gguf")
    assert off.speculative.types == [kinds.COMMON_SPECULATIVE_TYPE_NONE]


def test_the_training_loop_samples_with_the_setting():
    pytest.importorskip("trl")
    from mucode.training.config import load_config
    from mucode.training.stages import generator

    on = ("generator.speculative.method=ngram", "generator.speculative.ngram_size=3")
    cpu = load_config(preset="cpu", overrides=on)
    assert generator(cpu, None).speculative == Speculation(method="ngram", ngram_size=3)
    assert not generator(load_config(preset="cpu"), None).speculative.on
    with pytest.raises(ConfigError, match="hf backend does not speculate"):
        load_config(preset="cpu", overrides=("generator.backend=hf", on[0]))
    with pytest.raises(ConfigError, match="would never draft"):
        load_config(preset="cpu", overrides=(on[0], "generator.speculative.draft_max=2"))


@pytest.mark.usefixtures("xllamacpp")  # the engine fails on the missing model
@pytest.mark.parametrize("command", ["rollout", "search"])
def test_the_setting_is_recorded_in_the_run_manifest(tmp_path, command):
    out = tmp_path / "run"
    args = [sys.executable, "-m", "mucode", command, "--limit", "1", "--model",
            str(tmp_path / "missing.gguf"), "--out", str(out), "--speculative", "ngram",
            "--draft-max", "6", "--ngram-size", "3"]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "missing.gguf" in done.stderr  # stops at the engine
    generator = json.loads((out / "manifest.json").read_text())["config"]["generator"]
    assert generator["speculative"] == {"method": "ngram", "draft_max": 6, "ngram_size": 3}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--draft-max", "8"], "--speculative off: draft_max set while speculation is off"),
        (["--speculative", "ngram", "--draft-max", "2"], "draft_max (2) is below ngram_size"),
        (["--speculative", "ngram", "--backend", "hf", "--model", "m"], "not hf"),
    ],
)
def test_bad_command_line_settings_are_refused_before_any_engine(tmp_path, args, message):
    command = [sys.executable, "-m", "mucode", "rollout", "--out", str(tmp_path / "r"), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert message in " ".join(done.stderr.split())
    assert not (tmp_path / "r").exists()


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory):
    """A tiny float32 GGUF with a sharpened head: greedy decoding has no near-ties."""
    pytest.importorskip("xllamacpp", reason="install the cpu extra")
    for module in ("torch", "transformers", "gguf"):
        pytest.importorskip(module)
    root = tmp_path_factory.mktemp("tiny-speculation")
    return save_tiny_gguf(sharpen_tiny_model(save_tiny_causal_lm(root / "hf")), root / "t.gguf")


def _answers(gguf, speculative: Speculation, conversations) -> tuple[list[str], object]:
    from mucode.generation.llamacpp import LlamaCppGenerator

    config = LlamaCppConfig(model=str(gguf), parallel=1, context=512, threads=1,
                            cache_ram_mib=0, speculative=speculative)  # fmt: skip
    generator = LlamaCppGenerator(config)
    try:
        out = generator.generate(conversations, 1, SamplingParams(max_tokens=48))
        return [samples[0].text for samples in out], generator.stats()
    finally:
        generator.close()


@pytest.mark.slow
def test_greedy_answers_are_the_same_with_drafts_accepted(tiny_gguf):
    question = Message("user", "def add(a, b):")
    (first,), _ = _answers(tiny_gguf, Speculation(), [[question]])
    # asked again after its own answer, the model repeats text of the conversation
    conversations = [
        [question],
        [question, Message("assistant", first), question],
        [Message("user", "def sub(a, b):\n    return a - b")],
    ]
    off, off_stats = _answers(tiny_gguf, Speculation(), conversations)
    on, on_stats = _answers(tiny_gguf, NGRAM, conversations)
    assert on == off
    assert off_stats.requests == on_stats.requests == 3
    assert off_stats.predicted_tokens == on_stats.predicted_tokens > 0
    assert off_stats.drafted == 0
    assert 0 < on_stats.accepted <= on_stats.drafted  # speculation really ran
