"""Several OpenAI-compatible servers behind one client: real HTTP servers on 127.0.0.1.

The servers are ``openai_stub`` processes: deterministic (an answer depends only on the
request and its seed), optionally slow or failing, killable with SIGKILL, each logging
what it received and answered.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from mucode.commands.generation_run import generator_config
from mucode.core.errors import ConfigError, GenerationError
from mucode.core.records import Message
from mucode.generation import SamplingParams, make_generator
from mucode.generation.config import OpenAIConfig
from tests.generation.openai_stub import answer, request_key, start_stub

pytest.importorskip("openai", reason="install the openai extra: pip install -e '.[openai]'")
SAMPLING = SamplingParams(temperature=0.7, max_tokens=8)


@pytest.fixture
def stubs(tmp_path):
    """Start stub servers (``stubs(delay_s=..., fail=...)``); all are killed afterwards."""
    started = []

    def start(delay_s: float = 0.0, fail: int = 0):
        started.append(start_stub(tmp_path / f"stub{len(started)}.log", delay_s, fail))
        return started[-1]

    yield start
    for stub in started:
        stub.kill()


def _client(urls, **settings):
    return make_generator(OpenAIConfig(base_urls=urls, model="stub", **settings))


def _questions(count, first=0):
    return [[Message("user", f"question {i}")] for i in range(first, first + count)]


def _generate(urls, questions, n=1, **settings) -> list[str]:
    """The answers' texts, request by request (seed 100 + 10 × question + sample)."""
    client = _client(urls, **settings)
    try:
        out = client.generate(questions, n, SAMPLING, seeds=_seeds(questions))
    finally:
        client.close()
    return [completion.text for samples in out for completion in samples]


def _seeds(questions):
    return [100 + 10 * int(q[-1].content.split()[-1]) for q in questions]


def _expected(questions, n=1) -> list[str]:
    return [answer([m.to_dict() for m in q], seed + i, SAMPLING.temperature, SAMPLING.max_tokens)
            for q, seed in zip(questions, _seeds(questions), strict=True)
            for i in range(n)]  # fmt: skip


def _keys(questions) -> set[str]:
    seeds = _seeds(questions)
    return {request_key(q[-1].content, seed) for q, seed in zip(questions, seeds, strict=True)}


def _unused_url() -> str:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/v1"


def _wait_for(condition, timeout_s=30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the condition did not come true in time")
        time.sleep(0.01)


def test_requests_go_to_the_server_with_the_fewest_in_flight(stubs):
    slow, fast = stubs(delay_s=1.5), stubs()
    questions = _questions(40)
    assert _generate([slow.url, fast.url], questions, concurrency=4) == _expected(questions)
    # the slow server holds at most its share of the 8 in flight while the fast one answers
    # the rest; taking turns would have given it 20
    assert 1 <= len(slow.lines("sent")) <= 4
    assert len(slow.lines("sent")) + len(fast.lines("sent")) == 40


def test_a_killed_servers_requests_are_answered_by_the_other(stubs):
    doomed, survivor = stubs(delay_s=0.3), stubs(delay_s=0.05)
    questions = _questions(40)

    def pending() -> set[str]:
        return set(doomed.lines("recv")) - set(doomed.lines("sent"))

    with ThreadPoolExecutor(1) as run:
        answers = run.submit(_generate, [doomed.url, survivor.url], questions, concurrency=2,
                             max_retries=1)  # fmt: skip
        _wait_for(lambda: len(doomed.lines("sent")) >= 2 and pending())
        doomed.kill()
        texts = answers.result(timeout=60)
    assert texts == _expected(questions)  # each request answered once, in its place
    cut_off = pending()  # received by the killed server, never answered by it
    assert cut_off and cut_off <= set(survivor.lines("sent"))
    assert set(doomed.lines("sent")) | set(survivor.lines("sent")) == _keys(questions)


def test_when_every_server_is_down_the_error_names_each_one(stubs):
    broken, gone = stubs(fail=10**6), _unused_url()
    client = _client([broken.url, gone], max_retries=0)
    try:
        for _ in range(2):  # then both are set aside, probed, and fail again
            failed = len(broken.lines("fail"))
            with pytest.raises(GenerationError, match="none of the 2 replicas") as caught:
                client.generate(_questions(3), 1, SAMPLING)
            message = str(caught.value)
            assert f"the server at {broken.url} answered 503" in message
            assert f"cannot reach the server at {gone}" in message
            assert len(broken.lines("fail")) > failed
    finally:
        client.close()


def test_a_failing_server_is_set_aside_for_a_while(stubs):
    flaky, steady = stubs(fail=1), stubs()
    urls, settings = [flaky.url, steady.url], {"concurrency": 1, "max_retries": 0}
    client = _client(urls, set_aside_s=1.0, **settings)
    try:
        first = _questions(10)
        out = client.generate(first, 1, SAMPLING, seeds=_seeds(first))
        assert [s[0].text for s in out] == _expected(first)
        assert (flaky.lines("fail"), flaky.lines("sent")) == (flaky.lines("recv"), [])
        assert len(flaky.lines("fail")) == 1  # set aside after its one failure
        time.sleep(1.1)
        later = _questions(10, first=10)
        out = client.generate(later, 1, SAMPLING, seeds=_seeds(later))
        assert [s[0].text for s in out] == _expected(later)
        assert flaky.lines("sent")  # in use again once its time was up
    finally:
        client.close()


def test_after_each_server_failed_once_new_requests_probe_them_one_at_a_time(stubs):
    a, b = stubs(delay_s=0.2, fail=1), stubs(delay_s=0.2, fail=1)
    client = _client([a.url, b.url], concurrency=4, max_retries=0, set_aside_s=60)
    try:
        with pytest.raises(GenerationError, match="none of the 2 replicas"):
            client.generate(_questions(1), 1, SAMPLING)  # a's 503, then b's: both set aside
        questions = _questions(8, first=1)
        out = client.generate(questions, 1, SAMPLING, seeds=_seeds(questions))
        assert [s[0].text for s in out] == _expected(questions)  # at once, not after 60 s
        for stub in (a, b):  # its probe answered before its next request came in
            events = [line.split(" ")[0] for line in stub.log.read_text().splitlines()]
            assert events[:4] == ["recv", "fail", "recv", "sent"]
        assert set(a.lines("sent")) | set(b.lines("sent")) == _keys(questions)
    finally:
        client.close()


def test_a_request_gets_the_same_answer_from_any_server(stubs):
    a, b = stubs(), stubs()
    questions = _questions(6)
    both = _generate([a.url, b.url], questions, n=4, concurrency=2)
    assert a.lines("sent") and b.lines("sent")  # both answered some
    assert both == _generate([a.url], questions, n=4) == _generate([b.url], questions, n=4)
    assert both == _expected(questions, n=4)
    assert len(set(both[:4])) > 1  # the seed reached the server: samples differ


def test_one_server_fails_as_before_and_is_never_set_aside(stubs):
    flaky = stubs(fail=1)
    client = _client([flaky.url], max_retries=0, set_aside_s=60)
    try:
        refused = f"^the server at {re.escape(flaky.url)} answered 503"
        with pytest.raises(GenerationError, match=refused):
            client.generate(_questions(1), 1, SAMPLING)
        assert len(client.generate(_questions(1), 1, SAMPLING)) == 1  # tried again at once
    finally:
        client.close()


def test_one_url_as_recorded_before_is_read_as_a_list_and_duplicates_are_refused():
    old = {"backend": "openai", "base_url": "http://127.0.0.1:1/v1", "model": "m"}
    assert OpenAIConfig.model_validate(old).base_urls == ("http://127.0.0.1:1/v1",)
    both = generator_config("openai", "m", ["http://h:1/v1", "http://h:2/v1"], {})
    assert both.base_urls == ("http://h:1/v1", "http://h:2/v1")
    with pytest.raises(ConfigError, match=r"--base-url: http://h:1/v1 given more than once"):
        generator_config("openai", "m", ["http://h:1/v1", "http://h:1/v1"], {})


@pytest.mark.parametrize("command", ["rollout", "search"])
def test_two_base_urls_on_the_command_line_reach_both_and_are_recorded(stubs, tmp_path, command):
    a, b = stubs(), stubs()
    out = tmp_path / "run"
    args = [sys.executable, "-m", "mucode", command, "--backend", "openai", "--model", "stub",
            "--base-url", a.url, "--base-url", b.url, "--limit", "2", "--turns", "1",
            "--parallel", "2", "--max-tokens", "8", "--workers", "1", "--timeout", "5",
            "--out", str(out), *(["-n", "2"] if command == "search" else [])]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    requests = 2 * (2 if command == "search" else 1)  # 2 problems, 1 turn, n answers each
    assert len(a.lines("sent")) + len(b.lines("sent")) == requests
    assert a.lines("sent") and b.lines("sent")
    generator = json.loads((out / "manifest.json").read_text())["config"]["generator"]
    assert generator["base_urls"] == [a.url, b.url]
