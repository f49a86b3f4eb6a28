"""`mucode search` option checks that must fail before any engine starts."""

from __future__ import annotations

import subprocess
import sys


def test_search_without_the_verifier_its_rule_needs_stops_before_starting(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "mucode", "search", "--select", "pt+lv", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--select pt+lv needs --verifier DIR" in done.stderr
    assert not out.exists()
