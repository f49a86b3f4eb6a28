"""Verifier scores on a Ray cluster (``mucode verifier score --ray``): one actor per node.

``RayScorer`` starts a ``VerifierActor`` on every live node with a CPU; each loads the
verifier once, from the same path on every node (which must hold it there, and a head-only
verifier's base too). The pairs are cut into the local path's batches (``batch_size`` pairs
from pair 0 on), which ``dispatch`` sends in chunks, at most ``IN_FLIGHT_PER_WORKER``
batches per actor (it scores one at a time); a batch whose actor or node died is scored
again on another, a batch that raises fails the call. Each batch is one forward pass of
the same pairs as locally, so the scores are the local ones. Only the driver writes the
output.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray

from mucode.core.errors import MucodeError
from mucode.distributed.cluster import Node, pinned
from mucode.distributed.dispatch import ActorGroup, Launch, Work

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
        path = str(verifier_dir.resolve())
        launch = Launch(_launcher(path), START_TIMEOUT_S, "other work may hold their nodes' CPUs",
                        f"every node must read the verifier at {path}, and a head-only one's "
                        "base, at the same path")  # fmt: skip
        self.nodes: list[ScorerReport] = self._start(
            address, launch, Work("verifier", "batches", MucodeError)
        )

    def score_texts(self, prompts: Sequence[str], codes: Sequence[str],
                    batch_size: int) -> list[float]:  # fmt: skip
        """One score per (prompt, code), in input order, as ``Verifier.score_texts`` gives."""
        if len(prompts) != len(codes):
            raise ValueError(f"{len(prompts)} prompts but {len(codes)} codes")
        batches = [(list(prompts[i : i + batch_size]), list(codes[i : i + batch_size]))
                   for i in range(0, len(codes), batch_size)]  # fmt: skip
        futures = self._dispatcher.submit(batches, batch_size)
        return [score for future in futures for score in future.result()]


def _launcher(verifier_dir: str) -> Callable[[Node], tuple[Any, int]]:
    """Starts a node's actor on all its CPUs; it scores one batch at a time."""
    actor_class = ray.remote(VerifierActor)

    def start(node: Node) -> tuple[Any, int]:
        return actor_class.options(**pinned(node, node.cpus)).remote(verifier_dir, node.cpus), 1

    return start
