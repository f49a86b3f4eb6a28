"""The user-namespace path that a non-root user gets, driven through the worker protocol."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mucode.sandbox import protocol
from mucode.sandbox.launchers import bwrap_command
from mucode.sandbox.pool import worker_boot
from mucode.sandbox.view import build_view
from tests.sandbox.conftest import LAUNCHERS, require_launcher

pytestmark = pytest.mark.hostile
SYSTEM_PYTHON = Path("/usr/bin/python3")
LIMITS = {"timeout_s": 3, "cpu_s": 5, "memory_mb": 1024, "file_size_mb": 8, "open_files": 64,
          "processes": 16, "output_kb": 64, "feedback_chars": 2000}  # fmt: skip


@pytest.fixture(params=LAUNCHERS)
def nobody_worker(request):
    if os.geteuid() != 0 or not shutil.which("setpriv") or not SYSTEM_PYTHON.exists():
        pytest.skip("needs root, setpriv and a system python3 to run a worker as 'nobody'")
    require_launcher(request.param)
    view = build_view(str(SYSTEM_PYTHON))  # the system python's packages, and mucode's
    config: dict = {"tmpfs_mb": 16}
    prefix: list[str] = []
    if request.param == "bwrap":
        prefix, config["launcher_layers"] = bwrap_command(16, view, as_root=False)
    else:
        config["view"] = list(view.steps)
    boot = worker_boot(view.import_path)
    cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *prefix,
           str(SYSTEM_PYTHON), "-I", "-c", boot, json.dumps(config)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={})
    if request.param == "bwrap":
        protocol.send(proc.stdin.fileno(), {"host_pid": proc.pid})
    hello = protocol.receive(proc.stdout.fileno())
    yield proc, hello
    proc.stdin.close()
    proc.wait(timeout=10)


def _run(proc, program: str, tests: list[str]) -> dict:
    job = {"program": program, "setup_code": "", "tests": tests, "limits": LIMITS}
    protocol.send(proc.stdin.fileno(), job)
    return protocol.receive(proc.stdout.fileno())


def test_user_namespace_worker_isolates_and_bounds_forks(nobody_worker):
    proc, hello = nobody_worker
    assert any("user" in layer for layer in hello["layers"]), hello
    assert _run(proc, "def f():\n    return 1\n", ["assert f() == 1"])["status"] == "passed"
    escape = _run(proc, "open('/etc/mucode-probe', 'w')\n", [])
    assert escape["status"] == "failed" and "Read-only file system" in escape["feedback"]
    umount = _run(proc, "import ctypes\nassert ctypes.CDLL(None).umount2(b'/tmp', 2) != 0\n", [])
    assert umount["status"] == "passed"  # capabilities are gone: cannot unmount the tmpfs
    bomb = (
        "import os, time\ndef f():\n    n = 0\n    for _ in range(100):\n        try:\n"
        "            pid = os.fork()\n        except OSError:\n            break\n"
        "        if pid == 0:\n            time.sleep(20)\n            os._exit(0)\n"
        "        n += 1\n    return n\n"
    )
    assert _run(proc, bomb, ["assert f() < 16"])["status"] == "passed"
