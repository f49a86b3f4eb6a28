"""RaySandbox on a real two-node cluster: the local pool's verdicts, spread over both nodes
with bounded load; a sandbox worker's death stays a program's verdict, a pool that raises
fails only its programs; a node killed mid-run loses and duplicates nothing."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from mucode.core.errors import SandboxError
from mucode.core.records import Status
from mucode.env import run_with_retries
from mucode.sandbox import Job, Sandbox
from tests.distributed.conftest import LIMITS, essence, numbered

ray = pytest.importorskip("ray", reason="install the ray extra: pip install -e '.[ray]'")
from mucode.distributed.dispatch import IN_FLIGHT_PER_WORKER  # noqa: E402 - needs ray
from mucode.distributed.sandbox import RaySandbox  # noqa: E402

MIXED = [
    *numbered(12),
    Job("import os\nos._exit(3)\n", ("assert True",)),  # crashes its own child
    Job("while True:\n    pass\n", ("assert True",), timeout_s=1.0),
    Job("def f(:\n", ("assert f() == 1",)),
    Job("def f():\n    return [1, 2]\n", ("assert f() == [1, 2]", "assert f() == [2, 1]")),
    Job("x = bytearray(1 << 34)\n", ("assert True",)),  # beyond the memory limit
    Job("print('out' * 10)\nraise SystemExit(2)\n", ("assert True",)),
]


def test_verdicts_equal_the_local_pools_and_use_every_node(ray_cluster):
    with Sandbox(workers=2, limits=LIMITS) as local:
        expected = local.run_many(MIXED)
    seen: list[int] = []
    with RaySandbox(ray_cluster.address, limits=LIMITS) as remote:
        assert len(remote.nodes) == 2 and remote.info.workers == 2
        assert all(n.refused is None and n.launcher == "native" for n in remote.nodes)
        got = remote.run_many(MIXED, on_result=lambda i, _v: seen.append(i))
        assert remote.requeued == 0 and remote.lost == ()
        assert all(slot.done > 0 for slot in remote.slots)  # both nodes judged programs
        assert remote.describe()["ray"] == ray_cluster.address
        assert [n["workers"] for n in remote.describe()["nodes"]] == [1, 1]
    assert [essence(v) for v in got] == [essence(v) for v in expected]
    assert sorted(seen) == list(range(len(MIXED)))  # each reported once
    statuses = {v.status for v in got}
    assert {Status.PASSED, Status.FAILED, Status.CRASHED, Status.TIMEOUT} <= statuses


def test_many_callers_at_once_with_bounded_load(ray_cluster):
    """Rollouts call from many threads with two jobs each; an actor never holds more
    than its capacity (IN_FLIGHT_PER_WORKER jobs per worker), the rest wait in the driver."""
    jobs = numbered(40, sleep_s=0.05)
    results: dict[int, list] = {}
    with RaySandbox(ray_cluster.address, limits=LIMITS) as remote:

        def call(start: int) -> None:
            results[start] = remote.run_many(jobs[start : start + 2])

        threads = [threading.Thread(target=call, args=(s,)) for s in range(0, 40, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        big = remote.run_many(jobs)
        assert all(slot.peak == slot.capacity == IN_FLIGHT_PER_WORKER for slot in remote.slots)
    flat = [v for start in sorted(results) for v in results[start]]
    assert [v.passed for v in flat] == [v.passed for v in big] == [bool(i % 5) for i in range(40)]


def test_a_dead_sandbox_worker_is_a_program_verdict_not_an_actor_failure(ray_cluster):
    jobs = numbered(2, sleep_s=2.0)
    with RaySandbox(ray_cluster.address, limits=LIMITS) as remote:
        workers = [pid for node in remote.nodes for pid in node.worker_pids]
        killer = threading.Timer(0.7, lambda: [os.kill(pid, signal.SIGKILL) for pid in workers])
        killer.start()
        got = remote.run_many(jobs)
        killer.join()
        assert [v.status for v in got] == [Status.INFRA_ERROR] * 2
        assert all("sandbox worker failed" in v.feedback for v in got)
        assert remote.lost == () and remote.requeued == 0  # the actors stay
        again = run_with_retries(numbered(2), remote)  # on the workers that replaced them
        assert [v.status for v in again] == [Status.FAILED, Status.PASSED]


def test_a_pool_that_raises_fails_its_programs_and_keeps_the_actors(ray_cluster):
    """An error raised by the work in the actor (here the pool's, on a test that is not
    text) is not a dead node: the caller gets it, and both actors go on running programs."""
    broken = Job("def f():\n    return 1\n", (1,))  # type: ignore[arg-type]
    with RaySandbox(ray_cluster.address, limits=LIMITS) as remote:
        with pytest.raises(SandboxError, match=r"sandbox actor on .*: TypeError: compile"):
            remote.run_many([broken])
        assert remote.lost == () and remote.requeued == 0
        got = remote.run_many(numbered(10))
        assert [v.passed for v in got] == [bool(i % 5) for i in range(10)]
        assert all(slot.done > 0 for slot in remote.slots)


def _wait_until(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return "\nState:\tZ" in status.read()
    except FileNotFoundError:
        return True


@pytest.mark.slow
def test_a_node_killed_mid_run_loses_and_duplicates_nothing(ray_cluster):
    jobs = numbered(20, sleep_s=0.25)
    with Sandbox(workers=2, limits=LIMITS) as local:
        expected = local.run_many(jobs)
    third = ray_cluster.add_node(num_cpus=1)
    seen: list[int] = []
    first = threading.Event()

    def on_result(index: int, _verdict) -> None:
        seen.append(index)
        first.set()

    with RaySandbox(ray_cluster.address, limits=LIMITS) as remote:
        (victim,) = [n for n in remote.nodes if n.node_id == third.node_id]
        out: list = []
        runner = threading.Thread(target=lambda: out.append(remote.run_many(jobs, on_result)))
        runner.start()
        assert first.wait(60)
        os.kill(victim.pid, signal.SIGKILL)  # the node dies: its actor, then its raylet
        ray_cluster.remove_node(third, allow_graceful=False)
        runner.join(120)
        assert not runner.is_alive()
        assert remote.requeued > 0 and len(remote.lost) == 1
        assert third.node_id[:8] in remote.lost[0]
    assert [essence(v) for v in out[0]] == [essence(v) for v in expected]
    assert sorted(seen) == list(range(len(jobs)))
    assert _wait_until(lambda: all(_gone(pid) for pid in victim.worker_pids), 10)
    # later tests must not place actors on the dead node
    assert _wait_until(lambda: not any(n["Alive"] and n["NodeID"] == third.node_id
                                       for n in ray.nodes()), 30)  # fmt: skip
