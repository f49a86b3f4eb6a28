"""One node's sandbox pool, as a Ray actor: the same pool and isolation as a local run.

The actor class is plain Python (``RaySandbox`` makes it remote), so this module does not
import Ray. A node whose workers could not enter namespaces (no pid, network or mount
isolation) refuses to run programs rather than run them unconfined, whatever the local
pool would do there.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass

from mucode.core.errors import SandboxError
from mucode.core.records import Verdict
from mucode.sandbox.limits import Limits
from mucode.sandbox.pool import Job, Sandbox, SandboxInfo


@dataclass(frozen=True, slots=True)
class NodeReport:
    """What a node's actor reports at start-up (``refused``: why it will run nothing)."""

    host: str
    pid: int  # the actor's process
    worker_pids: tuple[int, ...]
    workers: int
    launcher: str
    layers: tuple[str, ...]
    missing: dict[str, str]
    python: str
    refused: str | None = None
    node_id: str = ""  # Ray's id of the node, filled in by the driver


def confinement_problem(info: SandboxInfo) -> str | None:
    """Why a pool with these layers must not run programs for a cluster, or None.

    Workers must have entered namespaces (natively or under bubblewrap): without them a
    program shares the node's network, processes and file system.
    """
    if any(layer.removeprefix("bubblewrap: ").startswith("namespaces") for layer in info.layers):
        return None
    why = "; ".join(f"{layer}: {reason}" for layer, reason in info.missing.items())
    return (
        f"the sandbox on {platform.node()} cannot isolate programs (no namespaces"
        f"{': ' + why if why else ''}); allow unprivileged user namespaces "
        "(sysctl kernel.unprivileged_userns_clone=1), run the node as root, or install "
        "bubblewrap, then check with `mucode sandbox info` on that node"
    )


class SandboxActor:
    """A node's sandbox pool of ``workers`` processes; ``run`` is one batch of programs.

    Runs several ``run`` calls at once (a threaded actor): the pool shares its workers
    among them, so the next batch waits in the actor while the current one runs.
    """

    def __init__(self, workers: int, limits: Limits) -> None:
        self._sandbox: Sandbox | None = Sandbox(workers=workers, limits=limits)
        info = self._sandbox.info
        self._report = NodeReport(
            host=platform.node(), pid=os.getpid(), worker_pids=self._sandbox.worker_pids,
            workers=info.workers, launcher=info.launcher, layers=info.layers,
            missing=dict(info.missing), python=info.python, refused=confinement_problem(info),
        )  # fmt: skip
        if self._report.refused is not None:
            self._sandbox.close()
            self._sandbox = None

    def report(self) -> NodeReport:
        """The start-up report."""
        return self._report

    def run(self, jobs: Sequence[Job], limits: Limits) -> list[Verdict]:
        """Verdicts of ``jobs`` in order, exactly as the local pool gives them."""
        if self._sandbox is None:
            raise SandboxError(self._report.refused or "this sandbox actor was closed")
        return self._sandbox.run_many(jobs, limits=limits)

    def close(self) -> None:
        """Stop the pool's workers."""
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None
