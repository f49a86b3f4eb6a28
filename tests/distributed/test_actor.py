"""The node actor's refusal to run programs unconfined (no Ray needed)."""

from __future__ import annotations

from mucode.distributed.actor import confinement_problem
from mucode.sandbox import SandboxInfo


def _info(layers, missing=None):
    return SandboxInfo(layers=tuple(layers), missing=missing or {}, workers=1, python="3.11.7",
                       launcher="native")  # fmt: skip


def test_a_pool_in_namespaces_may_run_programs():
    assert confinement_problem(_info(["namespaces (mount, network, pid, ipc, uts)"])) is None
    assert confinement_problem(_info(["namespaces (user, mount, network, pid, ipc, uts)"])) is None
    assert confinement_problem(_info(["bubblewrap: namespaces (mount, network, pid)"])) is None


def test_a_pool_without_namespaces_is_refused_with_the_reason_and_the_fix():
    refused = {"namespaces (user, mount, network, pid, ipc, uts)": "Operation not permitted"}
    info = _info(["rlimits (cpu, memory, file size, open files, processes)"], refused)
    problem = confinement_problem(info)
    assert problem is not None
    assert "cannot isolate programs" in problem and "Operation not permitted" in problem
    assert "mucode sandbox info" in problem and "bubblewrap" in problem
