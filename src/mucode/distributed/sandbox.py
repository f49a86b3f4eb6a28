"""The driver's sandbox on a Ray cluster: the local pool's interface, one actor per node.

``RaySandbox`` joins the cluster, starts a ``SandboxActor`` on every live node with a CPU
(one sandbox worker per CPU Ray gives the node, or ``workers`` if fewer) and refuses to
start if any node cannot isolate programs. ``run_many`` then behaves as the local pool's:
verdicts in input order, ``on_result`` as each arrives (in the calling thread), any number
of callers at once. Scheduling, back-pressure and re-runs after an actor is lost are
``dispatch``'s. Nodes that join after the start are not used; a lost node is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import as_completed
from typing import Any

import ray

from mucode.core.errors import SandboxError
from mucode.core.records import Verdict
from mucode.distributed.actor import NodeReport, SandboxActor
from mucode.distributed.cluster import Node, pinned
from mucode.distributed.dispatch import IN_FLIGHT_PER_WORKER, ActorGroup, Launch, Work
from mucode.sandbox.limits import Limits
from mucode.sandbox.pool import Job, SandboxInfo

logger = logging.getLogger(__name__)

START_TIMEOUT_S = 120.0  # an actor not running by then waits for CPUs other work holds


class RaySandbox(ActorGroup):
    """Run programs on a Ray cluster's sandbox actors; see the module docstring.

    Use as a context manager. ``nodes`` holds each actor's start-up report, ``requeued``
    and ``lost`` what lost actors cost so far.
    """

    def __init__(self, address: str, workers: int | None = None,
                 limits: Limits | None = None) -> None:  # fmt: skip
        self.address = address
        self.limits = limits or Limits()
        launch = Launch(_launcher(workers, self.limits), START_TIMEOUT_S,
                        "other work may hold their nodes' CPUs: pass --workers N to ask for "
                        "fewer per node")  # fmt: skip
        self.nodes: list[NodeReport] = self._start(address, launch, Work())
        self._refuse_unconfined()
        first = self.nodes[0]
        self.info = SandboxInfo(layers=first.layers, missing=first.missing,
                                workers=sum(n.workers for n in self.nodes), python=first.python,
                                launcher=first.launcher,
                                hosts=tuple(sorted({n.host for n in self.nodes})))  # fmt: skip
        _warn_if_mixed(self.nodes)

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
        thread as each arrives. Raises ``SandboxError`` if every actor was lost or the
        actors' pool raised."""
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

    def _refuse_unconfined(self) -> None:
        """Stop everything with a ``SandboxError`` if a node cannot isolate programs."""
        refused = [n.refused for n in self.nodes if n.refused is not None]
        if refused:
            self.close()
            raise SandboxError(f"refusing to run programs unconfined: {refused[0]}")


def _launcher(workers: int | None, limits: Limits) -> Callable[[Node], tuple[Any, int]]:
    """Starts a node's actor with ``min(workers, node CPUs)`` CPUs and as many sandbox
    workers, taking ``IN_FLIGHT_PER_WORKER`` jobs per worker at once (a threaded actor)."""
    actor_class = ray.remote(SandboxActor)

    def start(node: Node) -> tuple[Any, int]:
        count = min(workers or node.cpus, node.cpus)
        handle = actor_class.options(**pinned(node, count),
                                     max_concurrency=count * IN_FLIGHT_PER_WORKER,
                                     ).remote(count, limits)  # fmt: skip
        return handle, count

    return start


def _warn_if_mixed(nodes: Sequence[NodeReport]) -> None:
    """Programs should see one Python and one launcher wherever they run."""
    for field in ("python", "launcher"):
        values = sorted({getattr(n, field) for n in nodes})
        if len(values) > 1:
            logger.warning("the cluster's sandboxes differ in %s (%s): the same program may "
                           "get different verdicts on different nodes", field,
                           ", ".join(values))  # fmt: skip
