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


def test_lines_too_short_or_too_long_for_their_kind_are_ignored():
    raw = report(NONCE, f"{NONCE} C", f"{NONCE} P", f"{NONCE} P 0 extra", f"{NONCE} V 0",
                 f"{NONCE} F passed")  # fmt: skip
    parsed = parse_report(raw, NONCE)
    assert parsed.confined and parsed.tests_passed == 0
    assert parsed.values == [] and parsed.final is None


def test_the_verdict_carries_the_reported_values_only_from_a_confined_run():
    lines = (f"{NONCE} V 0 [1]", final("failed"))
    assert judge(JOB, NONCE, observed(f"{NONCE} C", *lines), 0.5)["values"] == [[0, 0, "[1]"]]
    assert judge(JOB, NONCE, observed(*lines), 0.5)["values"] == []


def test_the_duration_is_kept_to_the_microsecond():
    seen = observed(f"{NONCE} C", final("failed"))
    assert judge(JOB, NONCE, seen, 0.12345678)["duration_s"] == 0.123457


@pytest.mark.parametrize(
    ("lines", "timed_out", "wait_status", "words"),
    [
        ((f"{NONCE} C",), True, 0, "time limit of 10 s while running the program's top-level"),
        ((f"{NONCE} C", f"{NONCE} L", f"{NONCE} P 0", f"{NONCE} P 1"), True, 0,
         "after the tests finished"),
        ((f"{NONCE} C", f"{NONCE} L"), True, signal.SIGXCPU, "the time limit of 10 s"),
        ((f"{NONCE} C", f"{NONCE} L"), False, signal.SIGXCPU, "CPU-time limit of 12 s"),
    ],
)  # fmt: skip
def test_timeout_feedback_says_which_limit_and_where(lines, timed_out, wait_status, words):
    verdict = judge(JOB, NONCE, observed(*lines, timed_out=timed_out, wait_status=wait_status), 1)
    assert verdict["status"] == "timeout" and words in verdict["feedback"]


@pytest.mark.parametrize(
    ("wait_status", "words"),
    [
        (signal.SIGXFSZ, "larger than the file-size limit"),
        (signal.SIGSEGV, "killed by signal SIGSEGV"),
        (3 << 8, "exited with code 3 before the tests finished"),
        (0x7F, "exited with code 0"),  # a stopped child's status is no signal
    ],
)
def test_crash_feedback_names_the_signal_or_exit_code(wait_status, words):
    verdict = judge(JOB, NONCE, observed(f"{NONCE} C", wait_status=wait_status), 0.5)
    assert verdict["status"] == "crashed" and words in verdict["feedback"]


def test_crash_feedback_shows_the_last_800_characters_of_output():
    seen = observed(f"{NONCE} C", wait_status=1 << 8)
    seen.output = bytearray(b"a" * 100 + b"b" * 800 + b"\n")
    feedback = judge(JOB, NONCE, seen, 0.5)["feedback"]
    assert feedback.endswith("\nOutput (last part):\n" + "b" * 800)
    seen.output = bytearray(b"  \n")
    assert "Output" not in judge(JOB, NONCE, seen, 0.5)["feedback"]
