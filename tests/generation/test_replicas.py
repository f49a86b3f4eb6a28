"""The balancer on its own, with plain functions as the replicas' work."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from mucode.core.errors import GenerationError
from mucode.generation.replicas import Balancer, ReplicaFailed


def _answer(engine: str) -> str:
    return engine


def _fail_on_a(engine: str) -> str:
    if engine == "a":
        raise ReplicaFailed("replica a is down")
    return engine


def test_a_replica_back_from_its_time_out_gets_one_probe_at_a_time():
    balancer = Balancer([("a", "a"), ("b", "b")], set_aside_s=0.1)
    assert balancer.call(_fail_on_a) == "b"  # a failed the request, b answered it
    assert balancer.call(_answer) == "b"  # a is set aside
    time.sleep(0.15)
    release = threading.Event()
    started = threading.Semaphore(0)

    def hold(engine: str) -> str:
        started.release()
        release.wait(10)
        return engine

    with ThreadPoolExecutor(3) as pool:
        held = []
        for _ in range(3):  # one at a time, so each sees the others in flight
            held.append(pool.submit(balancer.call, hold))
            assert started.acquire(timeout=10)
        release.set()
        # a (idle, sent fewer) gets the probe; b the next; and while a's probe is out, b
        # again, though a has as few in flight and was sent fewer
        assert [f.result(timeout=10) for f in held] == ["a", "b", "b"]
    assert balancer.call(_answer) == "a"  # the probe answered: a is back to normal


def test_a_lone_replicas_failure_comes_out_as_raised_and_it_stays_in_use():
    balancer = Balancer([("a", "a")], set_aside_s=60)
    with pytest.raises(ReplicaFailed, match=r"^replica a is down$"):
        balancer.call(_fail_on_a)
    assert balancer.call(_answer) == "a"


def test_other_errors_are_not_failed_over():
    balancer = Balancer([("a", "a"), ("b", "b")], set_aside_s=60)
    asked = []

    def refuse(engine: str) -> str:
        asked.append(engine)
        raise ValueError("bad request")

    with pytest.raises(ValueError, match="bad request"):
        balancer.call(refuse)
    assert asked == ["a"]
    assert [r.in_flight for r in balancer.replicas] == [0, 0]


def _fail(engine: str) -> str:
    raise ReplicaFailed(f"replica {engine} is down")


def _all_set_aside() -> Balancer:
    balancer = Balancer([("a", "a"), ("b", "b")], set_aside_s=60)
    with pytest.raises(GenerationError, match="none of the 2 replicas"):
        balancer.call(_fail)  # a fails it, then b
    return balancer


def test_when_every_replica_is_set_aside_a_request_probes_the_one_back_first():
    balancer = _all_set_aside()
    assert balancer.call(_answer) == "a"  # a was set aside first, so its time is up first
    assert balancer.call(_answer) == "a"  # answered: back to normal, while b is set aside


@pytest.mark.parametrize("probes_answer", [True, False])
def test_while_each_replica_has_its_probe_out_a_request_waits_for_one(probes_answer):
    balancer = _all_set_aside()
    release, started = threading.Event(), threading.Semaphore(0)
    ran = []

    def probe(engine: str) -> str:
        started.release()
        release.wait(10)
        return engine if probes_answer else _fail(engine)

    def waiter(engine: str) -> str:
        ran.append(engine)
        return engine

    with ThreadPoolExecutor(3) as pool:
        probes = [pool.submit(balancer.call, probe) for _ in range(2)]
        assert started.acquire(timeout=10) and started.acquire(timeout=10)  # a's and b's
        waiting = pool.submit(balancer.call, waiter)
        time.sleep(0.2)
        assert not ran  # no second request to a replica with its probe out
        release.set()
        if probes_answer:
            assert sorted(f.result(timeout=10) for f in probes) == ["a", "b"]
            assert waiting.result(timeout=10) in ("a", "b")
        else:  # both probes failed: so has the waiting request, which sent nothing
            with pytest.raises(GenerationError, match=r"replica a is down \| replica b is down"):
                waiting.result(timeout=10)
            assert not ran
