"""Reading a run's report lines and turning them into a verdict (no sandbox needed)."""

from __future__ import annotations

import signal

import pytest

from mucode.sandbox.verdicts import Observed, judge, parse_report

NONCE = "ab12"
JOB = {"tests": ["assert f() == 1", "assert f() == 2"], "limits": {
    "feedback_chars": 2000, "timeout_s": 10.0, "cpu_s": 12}}  # fmt: skip


def report(*lines: str) -> bytes:
    return "".join(f"{line}\n" for line in lines).encode()


def final(status: str, text: str = "ok") -> str:
    return f"{NONCE} F {status} {text.encode().hex()}"


def observed(*lines: str, timed_out: bool = False, wait_status: int = 0) -> Observed:
    return Observed(report=bytearray(report(*lines)), timed_out=timed_out, wait_status=wait_status)


def test_only_lines_with_the_runs_nonce_count():
    raw = report("x C", "x L", "x P 0", final("failed").replace(NONCE, "x"), "P 0",
                 f"{NONCE}C", f"{NONCE} C", f"{NONCE} P 0", final("failed", "boom"))  # fmt: skip
    parsed = parse_report(raw, NONCE)
    assert parsed.confined and not parsed.loaded
    assert parsed.tests_passed == 1
    assert parsed.final == ("failed", "boom")


def test_progress_must_count_up_from_zero_and_the_first_final_wins():
    raw = report(f"{NONCE} P 1", f"{NONCE} P 0", f"{NONCE} P 0", f"{NONCE} P 1",
                 final("failed", "first"), final("passed", "second"))  # fmt: skip
    parsed = parse_report(raw, NONCE)
    assert parsed.tests_passed == 2
    assert parsed.final == ("failed", "first")


def test_values_belong_to_the_test_running_when_they_were_reported():
    raw = report(f"{NONCE} C", f"{NONCE} V 0 [1]", f"{NONCE} P 0", f"{NONCE} V 1 [2, 3]",
                 f"{NONCE} V x [4]", final("failed"), f"{NONCE} V 2 [5]")  # fmt: skip
    assert parse_report(raw, NONCE).values == [[0, 0, "[1]"], [1, 1, "[2, 3]"]]


@pytest.mark.parametrize(
    ("seen", "status", "words"),
    [
        (observed(), "infra_error", "sandbox set-up failed"),
        (observed(timed_out=True), "infra_error", "did not finish in time"),
        (observed(f"{NONCE} C", f"{NONCE} L", timed_out=True), "timeout", "assert f() == 1"),
        (observed(f"{NONCE} C", wait_status=signal.SIGXCPU), "timeout", "CPU-time limit"),
        (observed(f"{NONCE} C", wait_status=signal.SIGKILL), "crashed", "SIGKILL"),
        (observed(f"{NONCE} C", f"{NONCE} P 0", final("passed")), "crashed", "ended early"),
        (observed(f"{NONCE} C", final("bogus")), "crashed", "unreadable"),
        (observed(f"{NONCE} C", final("failed", "why")), "failed", "why"),
        (observed(f"{NONCE} C", f"{NONCE} P 0", f"{NONCE} P 1", final("passed")), "passed", "ok"),
    ],
)
def test_judge(seen, status, words):
    verdict = judge(JOB, NONCE, seen, 0.5)
    assert verdict["status"] == status
    assert words in verdict["feedback"]
    assert verdict["tests_total"] == 2
