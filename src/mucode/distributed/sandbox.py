"""The driver's sandbox on a Ray cluster: the local pool's interface, one actor per node.

``RaySandbox`` joins the cluster, starts a ``SandboxActor`` on every live node with a CPU
(one sandbox worker per CPU Ray gives the node, or ``workers`` if fewer) and refuses to
start if any node cannot isolate programs. ``run_many`` then behaves as the local pool's:
verdicts in input order, ``on_result`` as each arrives (in the calling thread), any number
of callers at once. Scheduling, back-pressure and re-runs after a failure are
``dispatch``'s. Nodes that join after the start are not used; a node that fails is dropped.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import as_completed
from typing import Any

import ray
from ray.exceptions import RayError

from mucode.core.errors import SandboxError
from mucode.core.records import Verdict
from mucode.distributed.actor import NodeReport, SandboxActor
from mucode.distributed.cluster import Node, pinned_to, stop_actors
from mucode.distributed.dispatch import CHUNK_PER_WORKER, ActorGroup, ActorSlot, Dispatcher
from mucode.sandbox.limits import Limits
from mucode.sandbox.pool import Job, SandboxInfo

logger = logging.getLogger(__name__)

# jobs an actor holds per worker: two chunks (dispatch.CHUNK_PER_WORKER), one running and one
# waiting there, so a worker does not idle while a finished chunk's verdicts travel back
IN_FLIGHT_PER_WORKER = 2 * CHUNK_PER_WORKER
START_TIMEOUT_S = 120.0  # an actor not running by then waits for CPUs other work holds


class RaySandbox(ActorGroup):
    """Run programs on a Ray cluster's sandbox actors; see the module docstring.

    Use as a context manager. ``nodes`` holds each actor's start-up report, ``requeued``
    and ``lost`` what failures cost so far.
    """

    def __init__(self, address: str, workers: int | None = None, limits: Limits | None = None,
                 in_flight_per_worker: int = IN_FLIGHT_PER_WORKER) -> None:  # fmt: skip
        self.address = address
        self.limits = limits or Limits()
        slots, self.nodes = self._start(address, lambda nodes: _start_actors(
            nodes, workers, self.limits, in_flight_per_worker))  # fmt: skip
        first = self.nodes[0]
        self.info = SandboxInfo(layers=first.layers, missing=first.missing,
                                workers=sum(n.workers for n in self.nodes), python=first.python,
                                launcher=first.launcher,
                                hosts=tuple(sorted({n.host for n in self.nodes})))  # fmt: skip
        _warn_if_mixed(self.nodes)
        self._dispatcher = Dispatcher(slots)

    def run(self, job: Job, limits: Limits | None = None) -> Verdict:
        """Run one job somewhere in the cluster."""
        return self.run_many([job], limits=limits)[0]

    def run_many(
        self,
        jobs: Sequence[Job],
        on_result: Callable[[int, Verdict], None] | None = None,
        limits: Limits | None = None,
    ) -> list[Verdict]:
        """Verdicts of ``jobs`` in input order; ``on_result(index, verdict)`` fires in this
        thread as each arrives. Raises ``SandboxError`` if every actor failed."""
        futures = self._dispatcher.submit(jobs, limits or self.limits)
        if on_result is not None:
            index = {future: i for i, future in enumerate(futures)}
            for future in as_completed(futures):
                on_result(index[future], future.result())
        return [future.result() for future in futures]

    def describe(self) -> dict[str, Any]:
        """Where programs run, for a run's manifest: the address and each node's pool."""
        return {"ray": self.address, "workers": self.info.workers,
                "launcher": self.info.launcher, "python": self.info.python,
                "nodes": [{"host": n.host, "workers": n.workers, "launcher": n.launcher,
                           "python": n.python} for n in self.nodes]}  # fmt: skip


def _start_actors(
    nodes: Sequence[Node], workers: int | None, limits: Limits, in_flight_per_worker: int
) -> tuple[list[ActorSlot], list[NodeReport]]:
    """One actor per node, each given ``min(workers, node CPUs)`` CPUs and as many workers."""
    if not nodes:
        raise SandboxError("the Ray cluster has no live node with a CPU to run programs on")
    actor_class = ray.remote(SandboxActor)
    started = []
    for node in nodes:
        count = min(workers or node.cpus, node.cpus)
        handle = actor_class.options(
            num_cpus=count, max_concurrency=count * in_flight_per_worker, max_restarts=0,
            max_task_retries=0, scheduling_strategy=pinned_to(node),
        ).remote(count, limits)  # fmt: skip
        where = f"{node.address}, node {node.node_id[:8]}"
        started.append(ActorSlot(handle, where, count, count * in_flight_per_worker))
    try:
        reports = _reports(started)
    except BaseException:
        stop_actors([slot.handle for slot in started])
        raise
    for slot, report in zip(started, reports, strict=True):
        slot.host = f"{report.host} ({slot.host})"
    return started, [
        dataclasses.replace(report, node_id=node.node_id)
        for report, node in zip(reports, nodes, strict=True)
    ]


def _reports(slots: Sequence[ActorSlot]) -> list[NodeReport]:
    """Each actor's start-up report; a ``SandboxError`` if one did not start or refused."""
    refs = [slot.handle.report.remote() for slot in slots]
    _, waiting = ray.wait(refs, num_returns=len(refs), timeout=START_TIMEOUT_S)
    if waiting:
        late = ", ".join(slot.host for slot, ref in zip(slots, refs, strict=True)
                         if ref in waiting)  # fmt: skip
        raise SandboxError(
            f"the sandbox actors on {late} did not start within {START_TIMEOUT_S:g} s; other "
            "work may hold their nodes' CPUs: pass --workers N to ask for fewer per node"
        )
    reports = []
    for slot, ref in zip(slots, refs, strict=True):
        try:
            reports.append(ray.get(ref))
        except RayError as e:
            raise SandboxError(f"the sandbox actor on {slot.host} did not start: {e}") from e
    refused = [r.refused for r in reports if r.refused is not None]
    if refused:
        raise SandboxError(f"refusing to run programs unconfined: {refused[0]}")
    return reports


def _warn_if_mixed(nodes: Sequence[NodeReport]) -> None:
    """Programs should see one Python and one launcher wherever they run."""
    for field in ("python", "launcher"):
        values = sorted({getattr(n, field) for n in nodes})
        if len(values) > 1:
            logger.warning("the cluster's sandboxes differ in %s (%s): the same program may "
                           "get different verdicts on different nodes", field,
                           ", ".join(values))  # fmt: skip
