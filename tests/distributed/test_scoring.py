"""`mucode verifier score --ray` on the two-node cluster writes the local output file (scores
to 1e-6); a verifier actor killed mid-run costs nothing: every score, equal to the local; a
batch that raises fails the call and leaves the actors scoring."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from mucode.benchmarks import format_prompt, load_problems
from mucode.commands.verifier import run_score
from mucode.core.errors import MucodeError
from tests.tiny_models import save_tiny_qwen2

pytest.importorskip("ray", reason="install the ray extra: pip install -e '.[ray]'")
transformers = pytest.importorskip("transformers")
from mucode.distributed.scoring import RayScorer  # noqa: E402 - needs ray
from mucode.verifier.inputs import InputFormat  # noqa: E402
from mucode.verifier.model import Verifier, load_tokenizer, prepare_model  # noqa: E402

PROBLEMS = load_problems("humaneval")[:20]


@pytest.fixture(scope="module")
def verifier_dir(tmp_path_factory):
    """A tiny random decoder verifier, saved as `verifier train` saves one."""
    backbone = save_tiny_qwen2(tmp_path_factory.mktemp("tiny-qwen2"))
    tokenizer = load_tokenizer(str(backbone))
    transformers.set_seed(0)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        str(backbone), num_labels=1
    )
    metadata = {"input": InputFormat.CHAT.value, "dtype": "float32", "max_length": 64}
    out = tmp_path_factory.mktemp("verifier")
    Verifier(prepare_model(model, tokenizer), tokenizer, 64, metadata).save(out)
    return out


def _samples(path):
    rows = [{"task_id": p.task_id, "code": p.reference_solution, "i": i}
            for i, p in enumerate(PROBLEMS)]  # fmt: skip
    rows += [{"task_id": p.task_id, "completion": "    return None\n"} for p in PROBLEMS[:7]]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_score_on_ray_writes_the_local_output(ray_cluster, verifier_dir, tmp_path):
    samples = _samples(tmp_path / "samples.jsonl")
    problems = {p.task_id: p for p in PROBLEMS}
    run_score(samples, verifier_dir, problems, "humaneval", tmp_path / "local.jsonl", 4)
    command = [sys.executable, "-m", "mucode", "verifier", "score", str(samples), "--verifier",
               str(verifier_dir), "-b", "humaneval", "--batch-size", "4", "--ray", "auto",
               "--out", str(tmp_path / "ray.jsonl")]  # fmt: skip
    env = {**os.environ, "RAY_ADDRESS": ray_cluster.address}  # what `auto` finds first
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    local, remote = _rows(tmp_path / "local.jsonl"), _rows(tmp_path / "ray.jsonl")
    assert len(remote) == 27
    for ours, theirs in zip(remote, local, strict=True):
        assert ours["score"] == pytest.approx(theirs["score"], abs=1e-6)
        assert {**ours, "score": None} == {**theirs, "score": None}


def test_a_verifier_actor_killed_mid_run_loses_nothing(ray_cluster, verifier_dir):
    prompts = [format_prompt(p) for p in PROBLEMS] * 20
    codes = [f"{p.reference_solution}{' ' * (i % 3)}" for i, p in enumerate(PROBLEMS * 20)]
    expected = Verifier.load(verifier_dir, device="cpu").score_texts(prompts, codes, 2)
    with RayScorer(ray_cluster.address, verifier_dir) as scorer:
        assert len(scorer.nodes) == 2
        victim = scorer.slots[-1]
        out: list = []
        runner = threading.Thread(target=lambda: out.append(scorer.score_texts(prompts, codes, 2)))
        runner.start()
        deadline = time.monotonic() + 60
        while victim.done == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert victim.done > 0 and runner.is_alive()
        os.kill(scorer.nodes[-1].pid, signal.SIGKILL)
        runner.join(120)
        assert not runner.is_alive()
        assert scorer.requeued > 0 and scorer.lost == (victim.host,)
    assert out[0] == pytest.approx(expected, abs=1e-6)


def test_a_batch_that_raises_fails_the_call_and_keeps_every_actor(ray_cluster, verifier_dir):
    prompts = [format_prompt(p) for p in PROBLEMS[:8]]
    codes = [p.reference_solution for p in PROBLEMS[:8]]
    expected = Verifier.load(verifier_dir, device="cpu").score_texts(prompts, codes, 2)
    with RayScorer(ray_cluster.address, verifier_dir) as scorer:
        with pytest.raises(MucodeError, match=r"verifier actor on .*: ValueError"):
            scorer.score_texts([None, *prompts[1:]], codes, 2)  # the tokenizer refuses None
        assert scorer.lost == () and scorer.requeued == 0
        assert scorer.score_texts(prompts, codes, 2) == pytest.approx(expected, abs=1e-6)
        assert all(slot.done > 0 for slot in scorer.slots)
