"""Without --ray nothing imports Ray; with --ray and no Ray installed, the error says how to
install it (no Ray needed)."""

from __future__ import annotations

import subprocess
import sys

LOCAL_EVALUATE = """
import json, sys, pathlib
import mucode.cli, mucode.commands.verifier
from mucode.evaluation.evaluate import EvaluationConfig, evaluate_samples
path = pathlib.Path(sys.argv[1])
sample = {"task_id": "HumanEval/53", "completion": "    return x + y\\n"}
path.write_text(json.dumps(sample) + "\\n")
summary = evaluate_samples(path, EvaluationConfig(benchmark="humaneval", workers=1, partial=True))
assert summary.status_counts["passed"] == 1, summary
print(sorted(m for m in sys.modules if m.split(".")[0] == "ray" or m.startswith("mucode.dist")))
"""

WITHOUT_RAY = """
import sys
sys.modules["ray"] = None  # as if it were not installed
from mucode.core.errors import ConfigError
from mucode.sandbox import open_sandbox
try:
    open_sandbox(ray="auto")
except ConfigError as e:
    print(e)
"""


def test_the_cli_and_a_local_evaluate_import_no_ray(tmp_path):
    done = subprocess.run([sys.executable, "-c", LOCAL_EVALUATE, str(tmp_path / "s.jsonl")],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_ray_missing_is_a_config_error_naming_the_extra():
    done = subprocess.run([sys.executable, "-c", WITHOUT_RAY], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "--ray auto needs ray" in done.stdout and "mucode[ray]" in done.stdout
