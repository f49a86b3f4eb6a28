"""Joining a Ray cluster, finding the nodes with a CPU for an actor, pinning actors there
and stopping them."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ray
from ray.exceptions import RayError
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from mucode.core.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Node:
    """A live node of the cluster and the CPUs Ray gives it."""

    node_id: str
    address: str
    cpus: int


def connect(address: str) -> bool:
    """Join the Ray cluster at ``address`` (``auto``: the one this machine is in; ``local``:
    a new one on this machine) unless this process already has; whether it joined now
    (and so should leave when done)."""
    if ray.is_initialized():
        return False
    options = {"include_dashboard": False} if address == "local" else {}
    try:
        ray.init(address=address, logging_level=logging.WARNING, **options)
    except ConnectionError as e:
        raise ConfigError(
            f"--ray {address}: could not join a Ray cluster ({e}); start one with `ray start "
            "--head` (and `ray start --address HEAD:6379` on the other machines) or pass its "
            "address; a cluster with token authentication (the default of `ray start`) also "
            "needs RAY_AUTH_MODE=token and its token (~/.ray/auth_token or RAY_AUTH_TOKEN)"
        ) from e
    return True


def cpu_nodes() -> list[Node]:
    """The live nodes with at least one CPU, in the order Ray lists them."""
    found = []
    for node in ray.nodes():
        cpus = int(node.get("Resources", {}).get("CPU", 0))
        if node.get("Alive") and cpus >= 1:
            found.append(Node(node["NodeID"], node.get("NodeManagerAddress", "?"), cpus))
    return found


def pinned(node: Node, cpus: int) -> dict[str, Any]:
    """Ray options for an actor on ``node`` and nowhere else, holding ``cpus`` of its CPUs,
    never restarted nor retried (it fails if the node dies)."""
    where = NodeAffinitySchedulingStrategy(node.node_id, soft=False)
    return {"num_cpus": cpus, "max_restarts": 0, "max_task_retries": 0,
            "scheduling_strategy": where}  # fmt: skip


def stop_actors(handles: Sequence[Any]) -> None:
    """Let the actors ``close`` (briefly), then end them."""
    if not handles:
        return
    with contextlib.suppress(RayError):
        ray.wait([h.close.remote() for h in handles], num_returns=len(handles), timeout=10)
    for handle in handles:
        with contextlib.suppress(RayError):
            ray.kill(handle, no_restart=True)
