"""`mucode verifier train | eval | score` end to end on a tiny random backbone: a
training run killed with SIGKILL resumes from its last checkpoint to the same model."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

from mucode.verifier.model import Verifier
from mucode.verifier.train import VerifierTrainConfig, train_verifier

PROBE = (["Solve Mbpp/1."] * 3, ["return a + b", "return a - b", "pass"])


def mucode(*args):
    return [sys.executable, "-m", "mucode", *map(str, args)]


def train_command(rollout, backbone, out, epochs):
    return mucode("verifier", "train", "--rollouts", rollout, "--base", backbone, "--out", out,
                  "--loss", "bce+bt", "--epochs", epochs, "--batch-size", 4, "--lr", 3e-3,
                  "--max-length", 64, "--save-steps", 8, "--seed", 5)  # fmt: skip


def run(command, timeout=300):
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


EPOCHS = 3


@pytest.fixture(scope="module")
def verifier_dir(easy_rollout, backbone, tmp_path_factory):
    """Trained in-process with the settings `train_command` gives on the command line."""
    out = tmp_path_factory.mktemp("verifier")
    config = VerifierTrainConfig(rollouts=(easy_rollout,), base=str(backbone), loss="bce+bt",
                                 epochs=EPOCHS, batch_size=4, learning_rate=3e-3, max_length=64,
                                 save_steps=8, seed=5)  # fmt: skip
    train_verifier(config, out)
    return out


def test_kill_9_then_resume_reaches_the_uninterrupted_model(
    verifier_dir, easy_rollout, backbone, tmp_path
):
    killed = tmp_path / "killed"
    command = train_command(easy_rollout, backbone, killed, EPOCHS)
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        if (killed / "checkpoints" / "checkpoint-16").exists():  # so checkpoint-8 is whole
            break
        time.sleep(0.02)
    if proc.poll() is not None:
        pytest.fail(f"training ended before it could be killed: {proc.stderr.read().decode()}")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "verifier.json").exists()
    done = run(command)
    assert "held-out problems" in done.stdout and "ROC-AUC" in done.stdout

    expected = Verifier.load(verifier_dir, device="cpu").score_texts(*PROBE)
    resumed = Verifier.load(killed, device="cpu").score_texts(*PROBE)
    assert resumed == pytest.approx(expected, abs=1e-4)
    resumed_run = json.loads((killed / "verifier.json").read_text())["training"]
    whole_run = json.loads((verifier_dir / "verifier.json").read_text())["training"]
    assert whole_run["resumed_from"] is None
    assert resumed_run["resumed_from"].rsplit("/", 1)[1] in ("checkpoint-8", "checkpoint-16")
    assert resumed_run["steps"] == whole_run["steps"]


def test_eval_prints_a_table_and_writes_json_and_png(verifier_dir, easy_rollout, tmp_path):
    done = run(mucode("verifier", "eval", "--verifier", verifier_dir, "--rollouts",
                      easy_rollout, "--best-of", "1,2,3", "--out", tmp_path, "--json"))  # fmt: skip
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["problems"] == 10 and summary["codes"] == 60  # 4 right + 2 wrong each
    assert [b["n"] for b in summary["best_of_n"]] == [1, 2, 3]
    for best in summary["best_of_n"]:
        assert best["random"] == pytest.approx(0.5) and best["random"] <= best["oracle"]
    assert "best-of-2 accuracy" in done.stdout
    assert json.loads((tmp_path / "report.json").read_text())["verifier"] == str(verifier_dir)
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_score_adds_a_score_to_every_sample_line(verifier_dir, shared_data_dir, tmp_path):
    samples = tmp_path / "samples.jsonl"
    lines = [{"task_id": "Mbpp/11", "code": "def f():\n    return 1", "extra": "kept"},
             {"task_id": 12, "completion": "def g(): pass"}]  # fmt: skip
    samples.write_text("".join(json.dumps(line) + "\n" for line in lines))
    run(mucode("verifier", "score", samples, "--verifier", verifier_dir, "-b", "mbpp",
               "--data-dir", shared_data_dir))  # fmt: skip
    scored = [json.loads(line) for line in (tmp_path / "samples_scores.jsonl").open()]
    assert [s["task_id"] for s in scored] == ["Mbpp/11", 12] and scored[0]["extra"] == "kept"
    assert all(isinstance(s["score"], float) for s in scored)
    from mucode.benchmarks import get_problem

    problem = get_problem("mbpp", "Mbpp/11", data_dir=shared_data_dir)
    direct = Verifier.load(verifier_dir, device="cpu").score([problem], [lines[0]["code"]])
    assert scored[0]["score"] == pytest.approx(direct[0], abs=1e-5)


def test_bad_inputs_are_clear_errors(backbone, tmp_path):
    done = subprocess.run(mucode("verifier", "train", "--rollouts", tmp_path / "none",
                                 "--base", backbone, "--out", tmp_path / "v"),
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2 and "no trajectories.jsonl" in done.stderr
    command = mucode("verifier", "eval", "--verifier", tmp_path, "--rollouts", tmp_path)
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "not a verifier directory" in done.stderr
