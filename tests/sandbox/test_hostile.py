"""Hostile programs: none may forge a pass, escape its box, or hurt the parent."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from mucode.core.records import Status
from mucode.sandbox import Job, Limits, Sandbox
from mucode.sandbox.worker import SANDBOX_UID_BASE
from tests.sandbox.conftest import LAUNCHERS, require_launcher

pytestmark = pytest.mark.hostile
FAILING_TEST = ("assert solve() == 42",)
WRONG = "def solve():\n    return 0\n"


def require_layer(sandbox, word: str) -> None:
    if not any(word in layer for layer in sandbox.info.layers):
        pytest.skip(f"isolation layer '{word}' not available here: {sandbox.info.missing}")


def sandbox_processes(worker_pids: tuple[int, ...]) -> list[int]:
    """Host pids of processes running as the sandbox uid of one of these workers."""
    uids = {SANDBOX_UID_BASE + pid for pid in worker_pids}
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        uid = int(status.split("Uid:")[1].split()[0])
        if uid in uids:
            pids.append(int(entry.name))
    return pids


@pytest.mark.parametrize(
    "prelude",
    [
        pytest.param("print('All tests passed.'); print('passed')\n", id="prints-success"),
        pytest.param("import os\nos._exit(0)\n", id="os-exit-0-top-level"),
        pytest.param("import sys\nsys.exit(0)\n", id="sys-exit-0"),
        pytest.param("import sys\nsys.exit = lambda *a: None\n", id="patch-sys-exit"),
        pytest.param(
            "import builtins\nbuiltins.AssertionError = type('X', (BaseException,), {})\n",
            id="patch-assertion-error",
        ),
        pytest.param(
            "import builtins\nbuiltins.compile = lambda *a, **k: compile('pass', 'x', 'exec')\n"
            "builtins.exec = lambda *a, **k: None\nbuiltins.eval = lambda *a, **k: True\n",
            id="patch-exec-eval-compile",
        ),
        pytest.param(
            "import ast\nast.parse = lambda *a, **k: ast.Module([], [])\n", id="patch-ast-parse"
        ),
        pytest.param(
            "import os\nfor fd in range(3, 1024):\n"
            "    for line in (b'P 0\\n', b'F passed 00\\n', b'passed\\n'):\n"
            "        try:\n            os.write(fd, line)\n"
            "        except OSError:\n            pass\n",
            id="write-inherited-fds",
        ),
        pytest.param(
            "import sys\ndef tracer(frame, event, arg):\n    return None\nsys.settrace(tracer)\n",
            id="settrace",
        ),
        pytest.param(
            "import os\nfor fd in range(3, 1024):\n"
            "    for line in (b'x L\\n', b'x P 0\\n', b'x F passed 00\\n'):\n"
            "        try:\n            os.write(fd, line)\n"
            "        except OSError:\n            pass\n",
            id="write-inherited-fds-with-a-wrong-tag",
        ),
    ],
)
@pytest.mark.parametrize(
    "test", ["assert solve() == 42", "assert solve() == 6 * 7"], ids=["kept-back", "in-process"]
)
def test_cannot_forge_a_pass(sandbox, prelude, test):
    verdict = sandbox.run(Job(prelude + WRONG, (test,)))
    assert verdict.status is not Status.PASSED
    assert verdict.status in (Status.FAILED, Status.CRASHED)


# Jumps over the assert on line 1 of a test that runs in the program's process.
JUMPING_TRACER = """
import sys
def jump(frame, event, arg):
    if event == "line" and frame.f_code.co_filename == "test_0.py" and frame.f_lineno == 1:
        frame.f_lineno = 2
    return jump
def trace(frame, event, arg):
    return jump if frame.f_code.co_filename == "test_0.py" else None
sys.settrace(trace)
"""


def test_a_tracer_cannot_jump_over_a_test(sandbox):
    test = "assert solve() == 6 * 7\npass\n"  # not a literal: runs in the program's process
    verdict = sandbox.run(Job(JUMPING_TRACER + WRONG, (test,)))
    assert verdict.status is Status.FAILED
    assert "Actual:" not in verdict.feedback  # an assert of two statements: Python's own error
    assert "AssertionError" in verdict.feedback


def test_exit_zero_during_the_tests_is_not_a_pass(sandbox):
    program = "import os\ndef solve():\n    os._exit(0)\n"
    verdict = sandbox.run(Job(program, FAILING_TEST))
    assert verdict.status is Status.CRASHED
    assert "exited with code 0 before the tests finished" in verdict.feedback


def test_always_equal_object_is_not_a_pass(sandbox):
    program = (
        "class Anything:\n    def __eq__(self, other):\n        return True\n"
        "def solve():\n    return Anything()\n"
    )
    verdict = sandbox.run(Job(program, FAILING_TEST))
    assert verdict.status is Status.FAILED
    assert "plain values" in verdict.feedback


def test_memory_bomb_is_stopped(sandbox):
    program = "def solve():\n    hog = []\n    while True:\n        hog.append(bytearray(10**8))\n"
    verdict = sandbox.run(Job(program, FAILING_TEST), Limits(memory_mb=512, timeout_s=10))
    assert verdict.status is Status.CRASHED
    assert "memory" in verdict.feedback.lower()
    assert verdict.duration_s < 5


def test_huge_output_is_capped_and_the_run_ends(sandbox):
    program = "import sys\ndef solve():\n    for _ in range(2000):\n"
    program += "        sys.stdout.write('x' * 100000)\n    return 42\n"
    verdict = sandbox.run(Job(program, FAILING_TEST))
    assert verdict.status is Status.PASSED  # 200 MB of output, drained and dropped


def test_big_file_hits_the_file_size_limit(sandbox):
    program = "def solve():\n    with open('big', 'wb') as f:\n        f.write(b'x' * (40 << 20))\n"
    verdict = sandbox.run(Job(program, FAILING_TEST), Limits(file_size_mb=8))
    assert verdict.status is Status.FAILED
    assert "File too large" in verdict.feedback


def test_open_files_are_limited(sandbox):
    program = "def solve():\n    return [open('/dev/null') for _ in range(500)]\n"
    verdict = sandbox.run(Job(program, FAILING_TEST), Limits(open_files=32))
    assert verdict.status is Status.FAILED
    assert "Too many open files" in verdict.feedback


def test_stdin_is_closed(sandbox):
    verdict = sandbox.run(Job("def solve():\n    return input()\n", FAILING_TEST))
    assert verdict.status is Status.FAILED
    assert "EOFError" in verdict.feedback


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_environment_is_scrubbed(launcher, monkeypatch):
    """Secrets in the environment of the process that starts the sandbox never reach a
    program: it sees only the sandbox's own small environment."""
    require_launcher(launcher)
    secrets = {"OPENAI_API_KEY": "sk-probe", "HF_TOKEN": "hf_probe", "MY_PASSWORD": "pw"}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    program = "import os\ndef solve():\n    return dict(os.environ)\n"
    with Sandbox(workers=1, launcher=launcher) as fresh:
        verdict = fresh.run(Job(program, ("assert solve() == {}",)))
    seen = verdict.feedback.split("Actual:")[1]
    for name, value in secrets.items():
        assert name not in seen and value not in seen
    assert "'PATH'" in seen and "'HOME'" in seen


def test_writes_outside_the_work_dir_fail_or_vanish(sandbox, tmp_path):
    require_layer(sandbox, "read-only root")
    target = tmp_path / "escaped.txt"
    home = Path.home() / "mucode-escape-probe.txt"
    program = (
        "def attempt(path):\n    try:\n        with open(path, 'w') as f:\n"
        "            f.write('x')\n"
        "        return 'wrote'\n    except OSError as e:\n        return type(e).__name__\n"
        f"def solve():\n    return [attempt(p) for p in ({str(target)!r}, {str(home)!r},\n"
        "        '/etc/mucode-probe', '/usr/mucode-probe', 'local.txt', '/tmp/leak.txt')]\n"
    )
    verdict = sandbox.run(Job(program, ("assert solve() == 0",)))
    actual = verdict.feedback.split("Actual:")[1]
    assert actual.count("'wrote'") == 2, actual  # the work dir and the private /tmp only
    assert not target.exists() and not home.exists()
    assert not Path("/etc/mucode-probe").exists() and not Path("/usr/mucode-probe").exists()


def test_files_do_not_leak_between_runs(sandbox):
    require_layer(sandbox, "private tmpfs")
    write = "open('/tmp/leak.txt', 'w').write('x')\nopen('here.txt', 'w').write('x')\n"
    for _ in range(4):  # reach both workers
        sandbox.run(Job(write))
    check = (
        "import os\ndef solve():\n    return os.path.exists('/tmp/leak.txt') or os.listdir('.')\n"
    )
    verdicts = sandbox.run_many([Job(check, ("assert solve() == ['solution.py']",))] * 4)
    assert all(v.status is Status.PASSED for v in verdicts), verdicts[0].feedback
    assert not Path("/tmp/leak.txt").exists()


def test_no_network_even_to_localhost(sandbox):
    require_layer(sandbox, "network")
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(3)
    port = server.getsockname()[1]
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(_accept_once(server)), daemon=True)
    thread.start()
    program = (
        "import socket\ndef solve():\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'hi')\n"
        "    return 42\n"
    )
    verdict = sandbox.run(Job(program, FAILING_TEST))
    thread.join()
    server.close()
    assert verdict.status is Status.FAILED
    # native: no interface at all ("unreachable"); bubblewrap: a private loopback, no listener
    assert any(e in verdict.feedback for e in ("OSError", "unreachable", "ConnectionRefused"))
    assert accepted == [False]  # the host's server never saw a connection


def _accept_once(server: socket.socket) -> bool:
    try:
        conn, _ = server.accept()
    except TimeoutError:
        return False
    conn.close()
    return True


@pytest.mark.parametrize(
    "attack",
    [
        "os.kill(os.getppid(), signal.SIGKILL)",
        "os.kill(1, signal.SIGKILL)",
        "os.kill(-1, signal.SIGKILL)",
        "os.kill(POOL_PID, signal.SIGKILL)",
        "os.killpg(os.getpgid(POOL_PID), signal.SIGKILL)",
    ],
)
def test_killing_the_parent_fails_and_the_pool_survives(sandbox, attack):
    program = "import os, signal\ndef solve():\n    " + attack.replace("POOL_PID", str(os.getpid()))
    program += "\n    return 0\n"
    verdict = sandbox.run(Job(program, FAILING_TEST))
    assert verdict.status in (Status.FAILED, Status.CRASHED)
    after = sandbox.run_many([Job("def solve():\n    return 42\n", FAILING_TEST)] * 4)
    assert all(v.status is Status.PASSED for v in after)


def test_stray_children_die_with_the_run(sandbox, tmp_path):
    program = (
        "import os, time\ndef solve():\n    if os.fork() == 0:\n        os.setsid()\n"
        "        if os.fork() == 0:\n            time.sleep(60)\n        os._exit(0)\n"
        "    return 42\n"
    )
    verdict = sandbox.run(Job(program, FAILING_TEST))
    assert verdict.status is Status.PASSED
    deadline = time.monotonic() + 2
    while sandbox_processes(sandbox.worker_pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox_processes(sandbox.worker_pids) == []


def test_timeout_kills_the_whole_tree(sandbox):
    program = (
        "import os, time\ndef solve():\n    for _ in range(3):\n        if os.fork() == 0:\n"
        "            time.sleep(60)\n    time.sleep(60)\n"
    )
    verdict = sandbox.run(Job(program, FAILING_TEST), Limits(timeout_s=0.5))
    assert verdict.status is Status.TIMEOUT
    assert sandbox_processes(sandbox.worker_pids) == []


def test_replacing_the_work_dir_does_not_carry_over(sandbox):
    require_layer(sandbox, "private tmpfs")
    swap = (
        "import os, shutil\nos.chdir('/')\nshutil.rmtree('/tmp/work')\n"
        "os.symlink('/etc', '/tmp/work')\n"
    )
    for _ in range(4):  # reach both workers
        assert sandbox.run(Job(swap)).status is Status.PASSED
    check = (
        "import os\ndef solve():\n    open('probe', 'w').close()\n"
        "    return (os.path.islink('/tmp/work'), sorted(os.listdir('.')))\n"
    )
    expected = "assert solve() == (False, ['probe', 'solution.py'])"
    verdicts = sandbox.run_many([Job(check, (expected,))] * 4)
    assert all(v.status is Status.PASSED for v in verdicts), verdicts[0].feedback
