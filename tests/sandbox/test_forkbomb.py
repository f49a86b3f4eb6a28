"""The fork bomb, run last, in its own process under a hard outer timeout.

The bombs are bounded by construction (at most 300 processes each), so if the
sandbox's process limit ever failed, the machine would still be fine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.sandbox.conftest import LAUNCHERS, require_launcher

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.hostile, pytest.mark.forkbomb]

WIDE_BOMB = """
import os, time
def solve():
    made = 0
    for _ in range(300):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        made += 1
    return made
"""
DEEP_BOMB = """
import os, time
def solve():
    for _ in range(8):  # doubling: at most 2**8 = 256 processes
        try:
            os.fork()
        except OSError:
            pass
    time.sleep(30)
"""
RUNNER = """
import json, sys
from mucode.sandbox import Job, Limits, Sandbox
from tests.sandbox.test_hostile import sandbox_processes as leftovers
with Sandbox(workers=1, limits=Limits(timeout_s=3, processes=16), launcher=sys.argv[1]) as sb:
    v = sb.run(Job(sys.argv[2], tuple(sys.argv[3:])))
    after = sb.run(Job("x = 1"))
    left = leftovers(sb.worker_pids)
print(json.dumps({"bomb": v.to_dict(), "after": after.to_dict(), "left": left}))
"""


def _run_bomb(launcher: str, program: str, test: str) -> dict:
    require_launcher(launcher)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(RUNNER), launcher, program, test],
        capture_output=True, text=True, timeout=90, check=True, cwd=REPO_ROOT,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_wide_fork_bomb_is_bounded(launcher):
    result = _run_bomb(launcher, WIDE_BOMB, "assert solve() < 16")
    assert result["bomb"]["status"] == "passed", result["bomb"]["feedback"]
    assert result["after"]["status"] == "passed"
    assert result["left"] == []


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_doubling_fork_bomb_is_killed_at_the_deadline(launcher):
    result = _run_bomb(launcher, DEEP_BOMB, "solve()")
    assert result["bomb"]["status"] == "timeout"
    assert result["after"]["status"] == "passed"
    assert result["left"] == []
