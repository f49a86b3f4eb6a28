"""Backend selection: lazy imports, unknown names and missing extras are clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pydantic import TypeAdapter, ValidationError

from mucode.core.errors import ConfigError
from mucode.generation import make_generator
from mucode.generation.config import GeneratorConfig, LlamaCppConfig, VLLMConfig


def test_configs_are_told_apart_by_backend_and_reject_typos():
    adapter = TypeAdapter(GeneratorConfig)
    assert adapter.validate_python({"backend": "vllm", "model": "m"}).backend == "vllm"
    with pytest.raises(ValidationError, match="base_ur"):
        adapter.validate_python({"backend": "openai", "base_ur": "x", "model": "m"})
    with pytest.raises(ValidationError):
        adapter.validate_python({"backend": "tgi", "model": "m"})


def test_unknown_backend_names_the_choices():
    class Fake:
        backend = "tgi"

    choices = r"\['hf', 'llamacpp', 'openai', 'vllm'\]"
    with pytest.raises(ConfigError, match=r"unknown backend 'tgi'; choose from " + choices):
        make_generator(Fake())


def test_vllm_without_vllm_installed_says_what_to_do():
    try:
        import vllm  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("vLLM is installed here")
    with pytest.raises(ConfigError, match="pip install vllm"):
        make_generator(VLLMConfig(model="Qwen/Qwen2.5-Coder-0.5B-Instruct"))


def test_cli_help_imports_no_engine():
    code = (
        "import sys; from typer.testing import CliRunner; from mucode.cli import app; "
        "CliRunner().invoke(app, ['--help']); "
        "heavy = ('xllamacpp', 'openai', 'vllm', 'torch', 'pydantic'); "
        "print([m for m in heavy if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_llamacpp_settings_reach_the_engine_params(tmp_path):
    pytest.importorskip("xllamacpp", reason="install the cpu extra: pip install -e '.[cpu]'")
    from mucode.generation.llamacpp import server_params

    config = LlamaCppConfig(parallel=3, context=1024, threads=1, cache_ram_mib=0)
    params = server_params(config, tmp_path / "model.gguf")
    assert params.model.path == str(tmp_path / "model.gguf")
    assert (params.n_parallel, params.n_ctx, params.cache_ram_mib) == (3, 3072, 0)
    assert params.cpuparams.n_threads == params.cpuparams_batch.n_threads == 1


@pytest.mark.usefixtures("xllamacpp")  # the engine fails on the missing model
def test_engine_options_from_the_command_line_are_recorded_in_the_manifest(tmp_path):
    out = tmp_path / "run"
    missing = str(tmp_path / "missing.gguf")
    command = [sys.executable, "-m", "mucode", "rollout", "--limit", "1", "--cache-ram", "256",
               "--threads", "1", "--model", missing, "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "missing.gguf" in done.stderr  # stops at the engine
    generator = json.loads((out / "manifest.json").read_text())["config"]["generator"]
    assert (generator["cache_ram_mib"], generator["threads"]) == (256, 1)
