"""Verifier scores on a Ray cluster (``mucode verifier score --ray``): one actor per node.

``RayScorer`` starts a ``VerifierActor`` on every live node with a CPU; each loads the
verifier once, from the same path on every node (which must hold it there, and a head-only
verifier's base too). The pairs are cut into the local path's batches (``batch_size`` pairs
from pair 0 on), which ``dispatch`` sends in chunks, at most ``IN_FLIGHT`` batches per
actor; a batch whose actor or node died is scored again on another. Each batch is one
forward pass of the same pairs as locally, so the scores are the local ones. Only the
driver writes the output.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import ray
from ray.exceptions import RayError

from mucode.core.errors import ConfigError, MucodeError
from mucode.distributed.cluster import Node, pinned_to, stop_actors
from mucode.distributed.dispatch import (
    CHUNK_PER_WORKER,
    ActorGroup,
    ActorSlot,
    Dispatcher,
    Work,
)

IN_FLIGHT = 2 * CHUNK_PER_WORKER  # batches an actor holds: a chunk scoring, one waiting
START_TIMEOUT_S = 300.0  # loading a large verifier takes a while
Batch = tuple[list[str], list[str]]  # prompts, codes


@dataclass(frozen=True, slots=True)
class ScorerReport:
    """Where a verifier actor runs: its host, process and Ray node."""

    host: str
    pid: int
    node_id: str = ""  # filled in by the driver


class VerifierActor:
    """A node's verifier, loaded once; ``run`` scores a chunk of batches, one at a time."""

    def __init__(self, verifier_dir: str, threads: int) -> None:
        import torch

        from mucode.verifier.model import Verifier

        torch.set_num_threads(threads)
        self._verifier = Verifier.load(Path(verifier_dir))
        self._report = ScorerReport(platform.node(), os.getpid())

    def report(self) -> ScorerReport:
        """Where it runs."""
        return self._report

    def run(self, batches: Sequence[Batch], batch_size: int) -> list[list[float]]:
        """Each batch's scores, one forward pass a batch as locally."""
        return [self._verifier.score_texts(p, c, batch_size) for p, c in batches]

    def close(self) -> None:
        """Nothing to release before the actor ends."""


class RayScorer(ActorGroup):
    """Score (prompt, code) pairs with the verifier at ``verifier_dir`` on the cluster at
    ``address`` (``auto``, ``HOST:PORT``, ``local``). Use as a context manager."""

    def __init__(self, address: str, verifier_dir: Path) -> None:
        slots, self.nodes = self._start(address, lambda nodes: _start_actors(nodes, verifier_dir))
        self._dispatcher = Dispatcher(slots, Work("verifier", "batches", MucodeError))

    def score_texts(self, prompts: Sequence[str], codes: Sequence[str],
                    batch_size: int) -> list[float]:  # fmt: skip
        """One score per (prompt, code), in input order, as ``Verifier.score_texts`` gives."""
        if len(prompts) != len(codes):
            raise ValueError(f"{len(prompts)} prompts but {len(codes)} codes")
        batches = [(list(prompts[i : i + batch_size]), list(codes[i : i + batch_size]))
                   for i in range(0, len(codes), batch_size)]  # fmt: skip
        futures = self._dispatcher.submit(batches, batch_size)
        return [score for future in futures for score in future.result()]


def _start_actors(
    nodes: Sequence[Node], verifier_dir: Path
) -> tuple[list[ActorSlot], list[ScorerReport]]:
    """One actor per node, given all its CPUs; a ``ConfigError`` if one cannot load."""
    if not nodes:
        raise MucodeError("the Ray cluster has no live node with a CPU to score on")
    actor_class = ray.remote(VerifierActor)
    slots = []
    for node in nodes:
        handle = actor_class.options(
            num_cpus=node.cpus, max_restarts=0, max_task_retries=0,
            scheduling_strategy=pinned_to(node),
        ).remote(str(verifier_dir.resolve()), node.cpus)  # fmt: skip
        slots.append(ActorSlot(handle, f"{node.address}, node {node.node_id[:8]}", 1, IN_FLIGHT))
    try:
        reports = _reports(slots, verifier_dir)
    except BaseException:
        stop_actors([slot.handle for slot in slots])
        raise
    for slot, report in zip(slots, reports, strict=True):
        slot.host = f"{report.host} ({slot.host})"
    found = zip(reports, nodes, strict=True)
    return slots, [ScorerReport(r.host, r.pid, n.node_id) for r, n in found]


def _reports(slots: Sequence[ActorSlot], verifier_dir: Path) -> list[ScorerReport]:
    """Each actor's report once it has loaded the verifier."""
    refs = [slot.handle.report.remote() for slot in slots]
    _, waiting = ray.wait(refs, num_returns=len(refs), timeout=START_TIMEOUT_S)
    if waiting:
        late = ", ".join(s.host for s, ref in zip(slots, refs, strict=True) if ref in waiting)
        raise MucodeError(
            f"the verifier actors on {late} did not start within "
            f"{START_TIMEOUT_S:g} s; other work may hold their nodes' CPUs"
        )
    reports = []
    for slot, ref in zip(slots, refs, strict=True):
        try:
            reports.append(ray.get(ref))
        except RayError as e:
            raise ConfigError(
                f"the verifier actor on {slot.host} could not load {verifier_dir} (every node "
                f"must read the verifier, and a head-only one's base, at the same path): {e}"
            ) from e
    return reports
