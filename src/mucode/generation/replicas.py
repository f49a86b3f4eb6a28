"""Spread requests over several replicas of one model (servers or engines) and survive
their failures.

Each request goes to the replica with the fewest requests in flight (ties: the one sent the
fewest so far). A request whose replica fails (``ReplicaFailed``: unreachable, timed out,
a 5xx, after that replica's own retries) goes to a replica it has not tried yet; the
failed one is set aside for ``set_aside_s``, then gets one request at a time (a probe;
other requests go elsewhere meanwhile) until one of them is answered.

When every replica a request has not tried is set aside, it does not wait for their time
to be up: it probes the one whose time is up first, unless that one has a probe out, and
so on. When each of them has a probe out, it waits for a probe to end (the work's own
timeout bounds that); a probe that fails counts as failed for the waiting request too. So
a request fails only when every replica has failed it, itself or as a probe it waited on,
and then the error names every replica with its last failure. A lone replica is never set
aside and its failure comes out as it was raised, so one server behaves as it does without
this module.

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
    failures: int = 0
    set_aside_until: float = 0.0  # time.monotonic() before which it gets no requests
    on_probation: bool = False  # failed, and has not answered since
    probing: bool = False  # on probation, with its one probe request out
    last_error: ReplicaFailed | None = None


class Balancer(Generic[E]):
    """Runs work on the least busy replica, elsewhere when it fails; see the module docstring."""

    def __init__(self, replicas: Sequence[tuple[str, E]], set_aside_s: float) -> None:
        self.replicas = [Replica(name, engine) for name, engine in replicas]
        self.set_aside_s = set_aside_s
        self._changed = threading.Condition()

    def call(self, work: Callable[[E], R]) -> R:
        """``work(engine)`` on one replica; on ``ReplicaFailed``, on another one."""
        failed: list[Replica[E]] = []
        while True:
            replica, probe = self._acquire(failed)
            failure: ReplicaFailed | None = None
            try:
                return work(replica.engine)
            except ReplicaFailed as e:
                failure = e
            finally:  # any other outcome is an answer, if only a refusal of the request
                self._release(replica, probe, failure)
            failed.append(replica)

    def _acquire(self, failed: list[Replica[E]]) -> tuple[Replica[E], bool]:
        """The replica for a request that ``failed`` replicas have failed, counted as in
        flight, and whether the request is its probe; waits while every other one has a
        probe out, adding those whose probe failed meanwhile to ``failed``."""
        with self._changed:
            while True:
                left = [r for r in self.replicas if r not in failed]
                if not left:
                    raise self._none_left()
                replica = _choose(left, time.monotonic())
                if replica is not None:
                    return replica, _send(replica)
                failures = [r.failures for r in left]
                self._changed.wait()
                failed.extend(r for r, before in zip(left, failures, strict=True)
                              if r.failures > before and r.on_probation)  # fmt: skip

    def _release(self, replica: Replica[E], probe: bool, failure: ReplicaFailed | None) -> None:
        """The request left ``replica``; on failure, set it aside unless it is the only one."""
        now = time.monotonic()
        with self._changed:
            self._changed.notify_all()
            replica.in_flight -= 1
            if probe:
                replica.probing = False
            if failure is None:
                replica.on_probation = False
                return
            replica.failures += 1
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


def _choose(left: list[Replica[E]], now: float) -> Replica[E] | None:
    """The least busy of ``left`` that may take a request; if all are set aside, the one
    whose time is up first without a probe out; None if each has a probe out."""
    ready = [r for r in left
             if not r.on_probation or (not r.probing and r.set_aside_until <= now)]  # fmt: skip
    if ready:
        return min(ready, key=lambda r: (r.in_flight, r.sent))
    idle = [r for r in left if not r.probing]
    return min(idle, key=lambda r: r.set_aside_until) if idle else None


def _send(replica: Replica) -> bool:
    """Count a request as sent to ``replica``; whether it is the replica's probe."""
    replica.in_flight += 1
    replica.sent += 1
    if replica.on_probation:  # chosen only without a probe out
        replica.probing = True
    return replica.on_probation
