"""A real Ray cluster on this machine, shared by the distributed tests: a head and one more
node, one CPU each (so one sandbox worker per node)."""

from __future__ import annotations

import pytest

from mucode.sandbox import Job, Limits

# a dead node is noticed within about two seconds (Ray's default takes tens of seconds)
FAST_HEALTH_CHECKS = {"health_check_period_ms": 500, "health_check_failure_threshold": 3}
LIMITS = Limits(timeout_s=3.0)


@pytest.fixture(scope="session")
def ray_cluster():
    """The cluster; this test process is its driver. Everything is stopped at the end."""
    ray = pytest.importorskip("ray", reason="install the ray extra: pip install -e '.[ray]'")
    from ray.cluster_utils import Cluster

    head = {"num_cpus": 1, "include_dashboard": False, "_system_config": FAST_HEALTH_CHECKS}
    cluster = Cluster(initialize_head=True, head_node_args=head)
    try:
        cluster.add_node(num_cpus=1)
        ray.init(address=cluster.address, logging_level="WARNING")
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()


def numbered(count: int, sleep_s: float = 0.0) -> list[Job]:
    """Programs whose function returns their index; every fifth test expects -1 (fails)."""
    pause = f"import time\ntime.sleep({sleep_s})\n" if sleep_s else ""
    return [
        Job(f"{pause}def f():\n    return {i}\n", (f"assert f() == {i if i % 5 else -1}",))
        for i in range(count)
    ]


def essence(verdict) -> tuple:
    """A verdict without its run time (which differs between any two runs)."""
    return verdict.status, verdict.feedback, verdict.tests_passed, verdict.tests_total


def without_timings(value):
    """A record with every run time (``duration_s``, ``generate_s``) left out."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items()
                if k not in ("duration_s", "generate_s")}  # fmt: skip
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value
