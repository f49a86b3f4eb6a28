"""`mucode search --select lv --verifier V` end to end: a tiny verifier trained on the
problem's own candidates scores them inside the search, and the code kept is its top one."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("sklearn")

from typer.testing import CliRunner  # noqa: E402

from mucode.benchmarks import format_prompt, load_problems  # noqa: E402
from mucode.cli import app  # noqa: E402
from mucode.generation import ScriptedGenerator  # noqa: E402
from mucode.runs import search as search_run  # noqa: E402
from mucode.search.run import SEARCHES, read_searches  # noqa: E402
from mucode.verifier.model import Verifier  # noqa: E402
from mucode.verifier.train import VerifierTrainConfig, train_verifier  # noqa: E402
from tests.verifier.rollouts import FAIL, PASS, trajectory, write_rollout  # noqa: E402

# candidate i of every turn answers CODES[i]; only the last passes (public and hidden)
CODES = ["def add(x, y):\n    return x - y", "def add(x, y):\n    return x * y",
         "def add(x, y):\n    return x + y"]  # fmt: skip
RIGHT = 2


@pytest.fixture(scope="module")
def add_problem():
    return load_problems("humaneval", task_ids=["HumanEval/53"])[0]


@pytest.fixture(scope="module")
def verifier_dir(add_problem, backbone, tmp_path_factory):
    """Trained on the search's own prompt and codes, labelled by the oracle: a causal-LM
    backbone, so LoRA, bfloat16 and the chat input (whose frame takes 12 tokens here; the
    codes differ only at their end, so 64 tokens keep them apart)."""
    turns = [(CODES[0], FAIL), (CODES[1], FAIL), (CODES[2], PASS)]
    episode = trajectory(add_problem.task_id, 0, turns, benchmark="humaneval",
                         prompt=format_prompt(add_problem))  # fmt: skip
    rollout = write_rollout(tmp_path_factory.mktemp("rollout"), [episode])
    config = VerifierTrainConfig(rollouts=(rollout,), base=str(backbone), loss="bce+bt",
                                 epochs=20, batch_size=5, learning_rate=1e-2, max_length=64,
                                 validation_fraction=0, seed=1)  # fmt: skip
    out = tmp_path_factory.mktemp("verifier")
    train_verifier(config, out)
    return out


def test_lv_keeps_the_candidate_the_trained_verifier_scores_highest(
    verifier_dir, add_problem, tmp_path, monkeypatch
):
    answers = [f"```python\n{code}\n```" for code in CODES]
    monkeypatch.setattr(search_run, "make_generator",
                        lambda _config: ScriptedGenerator(lambda _c, i: answers[i]))  # fmt: skip
    out = tmp_path / "run"
    threads = torch.get_num_threads()  # the scorer runs the verifier on one thread
    try:
        result = CliRunner().invoke(app, [
            "search", "--tasks", add_problem.task_id, "--select", "lv", "--verifier",
            str(verifier_dir), "-n", "3", "--turns", "2", "--workers", "1", "--parallel", "1",
            "--out", str(out),
        ])  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    assert result.exit_code == 0, result.output

    direct = Verifier.load(verifier_dir, device="cpu").score([add_problem] * 3, CODES)
    assert max(range(3), key=direct.__getitem__) == RIGHT  # it learned its three codes
    (search,) = read_searches(out / SEARCHES)
    assert [t.selected for t in search.turns] == [RIGHT]  # it passed: the search stopped
    assert search.turns[0].scores == pytest.approx(direct, abs=1e-5)
    assert search.turns[0].kept.oracle.passed
    summary = json.loads((out / "summary.json").read_text())
    assert [a["mean"] for a in summary["accuracy_by_turn"]] == [1.0, 1.0]
