"""Spread requests over several replicas of one model (servers or engines) and survive
their failures.

Each request goes to the replica with the fewest requests in flight (ties: the one sent the
fewest so far). A request whose replica fails (``ReplicaFailed``: unreachable, timed out,
a 5xx, after that replica's own retries) goes to a replica it has not tried yet; the
failed one is set aside for ``set_aside_s``, then gets requests again, but one at a time
(a probe) until one of them is answered. When no
replica is left for a request (each one failed it or is set aside), the error names every
replica with its last failure. A lone replica is never set aside and its failure comes
out as it was raised, so one server behaves as it does without this module.

The work sent to a replica is any callable of its engine, so an HTTP client and an
in-process engine can share this balancer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from mucode.core.errors import GenerationError

logger = logging.getLogger(__name__)

E = TypeVar("E")  # a replica's engine (an HTTP client, an actor handle, ...)
R = TypeVar("R")  # what the work returns


class ReplicaFailed(GenerationError):
    """A replica could not answer, though another one might; the message names the replica."""


@dataclass(eq=False)
class Replica(Generic[E]):
    """One replica as the balancer sees it."""

    name: str
    engine: E
    in_flight: int = 0
    sent: int = 0
    set_aside_until: float = 0.0  # time.monotonic() before which it gets no requests
    on_probation: bool = False  # failed, and has not answered since
    last_error: ReplicaFailed | None = None


class Balancer(Generic[E]):
    """Runs work on the least busy replica, elsewhere when it fails; see the module docstring."""

    def __init__(self, replicas: Sequence[tuple[str, E]], set_aside_s: float) -> None:
        self.replicas = [Replica(name, engine) for name, engine in replicas]
        self.set_aside_s = set_aside_s
        self._lock = threading.Lock()

    def call(self, work: Callable[[E], R]) -> R:
        """``work(engine)`` on one replica; on ``ReplicaFailed``, on another one."""
        tried: list[Replica[E]] = []
        while True:
            replica = self._acquire(tried)
            failure: ReplicaFailed | None = None
            try:
                return work(replica.engine)
            except ReplicaFailed as e:
                failure = e
            finally:  # any other outcome is an answer, if only a refusal of the request
                self._release(replica, failure)
            tried.append(replica)

    def _acquire(self, tried: list[Replica[E]]) -> Replica[E]:
        """The replica for a request that has failed on ``tried``, counted as in flight."""
        now = time.monotonic()
        with self._lock:
            candidates = [r for r in self.replicas
                          if r not in tried and r.set_aside_until <= now]  # fmt: skip
            if not candidates:
                raise self._none_left()
            replica = min(candidates, key=_busyness)
            replica.in_flight += 1
            replica.sent += 1
            return replica

    def _release(self, replica: Replica[E], failure: ReplicaFailed | None) -> None:
        """The request left ``replica``; on failure, set it aside unless it is the only one."""
        now = time.monotonic()
        with self._lock:
            replica.in_flight -= 1
            if failure is None:
                replica.on_probation = False
                return
            replica.last_error = failure
            if len(self.replicas) == 1:
                return
            newly = replica.set_aside_until <= now
            replica.set_aside_until = now + self.set_aside_s
            replica.on_probation = True
        if newly:
            logger.warning("%s; set aside for %.0f s, its requests go to the other replicas",
                           failure, self.set_aside_s)  # fmt: skip

    def _none_left(self) -> GenerationError:
        if len(self.replicas) == 1 and self.replicas[0].last_error is not None:
            return self.replicas[0].last_error
        errors = " | ".join(str(r.last_error or f"{r.name}: no answer") for r in self.replicas)
        return GenerationError(f"none of the {len(self.replicas)} replicas could answer; "
                               f"their last errors: {errors}")  # fmt: skip


def _busyness(replica: Replica) -> tuple[bool, int, int]:
    """Sort key: a replica on probation with its probe still out last, then fewest in
    flight, then fewest sent."""
    return (replica.on_probation and replica.in_flight > 0, replica.in_flight, replica.sent)
