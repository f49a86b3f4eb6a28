"""`mucode search` at the command line: option checks that fail before any engine
starts, and a finished run that is re-run without one."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mucode.benchmarks import load_problems
from mucode.commands import search as search_command
from mucode.generation import ScriptedGenerator
from mucode.generation.config import LlamaCppConfig
from mucode.runs import search as search_run
from mucode.sandbox import Limits, Sandbox
from mucode.search.run import SEARCHES, SearchConfig, Searcher


def test_search_without_the_verifier_its_rule_needs_stops_before_starting(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "mucode", "search", "--select", "pt+lv", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--select pt+lv needs --verifier DIR" in done.stderr
    assert not out.exists()


@pytest.mark.usefixtures("xllamacpp")  # the engine fails on the missing model
def test_a_finished_run_is_summarised_without_starting_an_engine(tmp_path):
    out = tmp_path / "run"
    missing_model = str(tmp_path / "no-such-model.gguf")
    command = [sys.executable, "-m", "mucode", "search", "--tasks", "HumanEval/53", "-n", "2",
               "--turns", "1", "--model", missing_model, "--out", str(out)]  # fmt: skip
    first = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert first.returncode != 0 and "no-such-model.gguf" in first.stderr  # the engine was needed
    manifest = (out / "manifest.json").read_text()
    problems = load_problems("humaneval", task_ids=["HumanEval/53"])
    answer = "```python\ndef add(x: int, y: int):\n    return x + y\n```"
    with Sandbox(workers=1, limits=Limits(timeout_s=5)) as sandbox:
        searcher = Searcher(ScriptedGenerator(lambda _c, _i: answer), sandbox,
                            SearchConfig(n=2, turns=1))  # fmt: skip
        searcher.run(problems, out)
    again = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "nothing left to run" in again.stdout and "1.000" in again.stdout
    assert (out / "manifest.json").read_text() == manifest  # no resume recorded
    assert len((out / SEARCHES).read_text().splitlines()) == 1
    assert json.loads((out / "summary.json").read_text())["problems"] == 1


def test_the_manifest_records_each_problems_limits(monkeypatch, tmp_path):
    monkeypatch.setattr(search_run, "make_generator",
                        lambda _config: ScriptedGenerator(lambda _c, _i: "no code"))  # fmt: skip
    config = search_command.build_run(
        benchmark="humaneval", tasks=("HumanEval/53",), generator=LlamaCppConfig(),
        search=SearchConfig(n=1, turns=1), timeout_s=2.0, workers=1,
    )  # fmt: skip
    search_run.run_search(config, tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["limits"] == {"source": "base", "timeout_s": 2.0}


def test_the_answer_cache_keeps_base_and_fine_tuned_answers_apart(tmp_path):
    from mucode.generation.config import Speculation
    from mucode.runs.search import cache_namespace

    adapter = tmp_path / "generator"
    adapter.mkdir()
    (adapter / "adapter.gguf").write_bytes(b"weights one")
    base = cache_namespace(LlamaCppConfig())
    tuned = cache_namespace(LlamaCppConfig(adapter=str(adapter)))
    assert base == "llamacpp:default"  # earlier caches still hit
    assert tuned != base
    (adapter / "adapter.gguf").write_bytes(b"weights two")  # retrained in the same place
    assert cache_namespace(LlamaCppConfig(adapter=str(adapter))) not in (base, tuned)
    assert cache_namespace(LlamaCppConfig(adapter=str(adapter), adapter_scale=0.5)) != tuned
    speculating = LlamaCppConfig(speculative=Speculation(method="ngram"))
    assert cache_namespace(speculating) != base
